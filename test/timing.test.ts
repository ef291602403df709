// Authentication that tells nothing (ASVS 5.0 V6.3.8): an unknown user, a wrong password, a
// disabled user, a locked user, a disabled account, a call from outside an allowlist and a
// wrong password during a rotation are refused with the same status, headers and body, in times
// a caller cannot tell apart. Medians of a few dozen tries each, interleaved so that the
// machine's own noise falls on all alike, at a bcrypt cost where a compare (~80 ms) dominates
// as it does in production.
import { expect } from 'chai';
import { startTestGateway, type TestAccount, type TestGateway } from './support/gateway.js';
import { restRequest } from './support/rest.js';
import type { Credentials } from './support/soap.js';

const TRIES = 24;
/** How far a median may stray from the unknown user's, as a share of it. */
const TOLERANCE = 0.1;

describe('refusals that tell nothing', function () {
  this.timeout(180_000);
  let gateway: TestGateway;
  let owner: TestAccount;

  before(async () => {
    gateway = await startTestGateway({ env: { BCRYPT_COST: '10' } });
    owner = await gateway.createAccount();
  });
  after(() => gateway.close());

  const createUser = async (password: string, fields: Record<string, unknown> = {}) => {
    const body = (await restRequest(gateway.app, owner, 'POST', '/v2/api-users', { password, ...fields })).body as { id: string; username: string };
    return { ...body, password };
  };

  it('gives every kind of refusal the same answer in the same time', async () => {
    // Wrong passwords for users whose right one this process has never seen (a real compare),
    // spread over users so that none of them is locked by it.
    const strangers = await Promise.all(Array.from({ length: 8 }, (_, i) => createUser(`Str4nger-${i}-pw`)));
    // A wrong password for a user whose right one is known here (refused without a compare).
    const regular = await createUser('Regul4r-user-pw');
    expect((await restRequest(gateway.app, regular, 'GET', '/v2/server-time')).status).to.equal(200);
    const disabled = await createUser('Dis4bled-user-pw', { enabled: false });
    const locked = await createUser('L0cked-user-pw');
    for (let i = 0; i < 5; i++) await restRequest(gateway.app, { ...locked, password: 'nope' }, 'GET', '/v2/server-time');
    // Outside its allowlist (the tests call from 127.0.0.1), with the right password.
    const fenced = await createUser('F3nced-user-pw', { ipAllowlist: ['192.0.2.0/24'] });
    // In a password rotation's grace: a wrong password is compared against two hashes.
    const rotating = await createUser('R0tating-old-pw');
    await restRequest(gateway.app, owner, 'PUT', `/v2/api-users/${rotating.id}/password`, { password: 'R0tating-new-pw', keepPreviousForHours: 1 });
    const paused = await gateway.createAccount();
    await gateway.gateway.services.accounts.disable(paused.accountId);

    const kinds: Record<string, (i: number) => Credentials> = {
      'unknown user': (i) => ({ username: `apiuser-${String(i).padStart(12, '0')}@dualgate.local`, password: 'Wh4tever-pw' }),
      'wrong password': (i) => ({ ...strangers[i % strangers.length]!, password: `wrong-${i}` }),
      'wrong password, right one known': (i) => ({ ...regular, password: `wrong-${i % 3}` }),
      'disabled user': () => disabled,
      'locked user': () => locked,
      'locked user, wrong password': (i) => ({ ...locked, password: `wrong-${i}` }),
      'disabled account': () => paused,
      'outside the allowlist': () => fenced,
      'wrong password, in a rotation grace': (i) => ({ ...rotating, password: `wrong-${i}` }),
    };
    // After each try of 'wrong password, right one known', a success keeps that user unlocked;
    // so does one after each wrong password in the grace.
    const durations: Record<string, number[]> = Object.fromEntries(Object.keys(kinds).map((kind) => [kind, []]));
    let reference: { status: number; body: unknown; headers: string[] } | undefined;
    for (let i = 0; i < TRIES; i++) {
      for (const [kind, credentials] of Object.entries(kinds)) {
        const started = performance.now();
        const response = await restRequest(gateway.app, credentials(i), 'GET', '/v2/server-time');
        durations[kind]!.push(performance.now() - started);
        const seen = {
          status: response.status,
          body: response.body,
          headers: [...response.headers.entries()].filter(([name]) => !['date', 'x-request-id'].includes(name)).map(([name, value]) => `${name}: ${value}`),
        };
        reference ??= seen;
        expect(seen, kind).to.deep.equal(reference);
        if (kind === 'wrong password, right one known') await restRequest(gateway.app, regular, 'GET', '/v2/server-time');
        if (kind === 'wrong password, in a rotation grace') await restRequest(gateway.app, { ...rotating, password: 'R0tating-new-pw' }, 'GET', '/v2/server-time');
      }
    }
    expect(reference?.status).to.equal(401);
    const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
    const medians = Object.fromEntries(Object.entries(durations).map(([kind, values]) => [kind, Math.round(median(values))]));
    const base = medians['unknown user']!;
    for (const [kind, value] of Object.entries(medians)) {
      if (process.env.SHOW_MEDIANS) console.log(kind, value);
      expect(Math.abs(value - base) / base, `${kind}: ${value} ms against ${base} ms (${JSON.stringify(medians)})`).to.be.below(TOLERANCE);
    }
  });
});
