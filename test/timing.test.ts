// Authentication that tells nothing (ASVS 5.0 V6.3.8): an unknown user, a wrong password, a
// disabled user, a locked user, a disabled account, a call from outside an allowlist and a
// wrong password during a rotation are refused with the same status, headers and body, and
// each is held to the same moment: its arrival plus the time of a compare (see
// PasswordHasher.holdRefusal), whatever work its path took. This checks that mechanism, call by
// call; how alike the times come out, in milliseconds, is measured by `npm run bench:refusals`
// (no timing is asserted here).
import { expect } from 'chai';
import type { PasswordHasher } from '../src/domain/passwords.js';
import { startTestGateway, type TestAccount, type TestGateway } from './support/gateway.js';
import { restRequest } from './support/rest.js';
import type { Credentials } from './support/soap.js';

/** Each hold asked for: the arrival it was asked with (performance.now(), as the gateway reads it in this process). */
function recordHolds(hasher: PasswordHasher): number[] {
  const holds: number[] = [];
  const holdRefusal = hasher.holdRefusal.bind(hasher);
  hasher.holdRefusal = (arrivedMs) => {
    holds.push(arrivedMs);
    return holdRefusal(arrivedMs);
  };
  return holds;
}

describe('refusals that tell nothing', function () {
  this.timeout(120_000);
  let gateway: TestGateway;
  let owner: TestAccount;

  before(async () => {
    gateway = await startTestGateway({ env: { BCRYPT_COST: '10' } });
    owner = await gateway.createAccount();
  });
  after(() => gateway.close());

  const createUser = async (password: string, fields: Record<string, unknown> = {}) => {
    const created = await restRequest(gateway.app, owner, 'POST', '/v2/api-users', { password, ...fields });
    expect(created.status, created.text).to.equal(201);
    return { ...(created.body as { id: string; username: string }), password };
  };
  const serverTime = (credentials: Credentials) => restRequest(gateway.app, credentials, 'GET', '/v2/server-time');

  it('gives every kind of refusal the same answer, each held once from its own arrival', async () => {
    const stranger = await createUser('Str4nger-pw');
    const regular = await createUser('Regul4r-user-pw');
    expect((await serverTime(regular)).status).to.equal(200); // its right password is known here now
    const disabled = await createUser('Dis4bled-user-pw', { enabled: false });
    const locked = await createUser('L0cked-user-pw');
    for (let i = 0; i < 5; i++) expect((await serverTime({ ...locked, password: 'nope' })).status).to.equal(401);
    // Outside its allowlist (the tests call from 127.0.0.1), with the right password.
    const fenced = await createUser('F3nced-user-pw', { ipAllowlist: ['192.0.2.0/24'] });
    const rotating = await createUser('R0tating-old-pw');
    const reset = await restRequest(gateway.app, owner, 'PUT', `/v2/api-users/${rotating.id}/password`, { password: 'R0tating-new-pw', keepPreviousForHours: 1 });
    expect(reset.status, reset.text).to.equal(200);
    const paused = await gateway.createAccount();
    await gateway.gateway.services.accounts.disable(paused.accountId);

    const kinds: Record<string, Credentials> = {
      'unknown user': { username: 'apiuser-000000000000@dualgate.local', password: 'Wh4tever-pw' },
      'wrong password (a compare)': { ...stranger, password: 'wrong-1' },
      'wrong password, right one known (no compare)': { ...regular, password: 'wrong-2' },
      'disabled user': disabled,
      'locked user': locked,
      'locked user, wrong password': { ...locked, password: 'wrong-3' },
      'disabled account': paused,
      'outside the allowlist (no compare)': fenced,
      'wrong password, in a rotation grace (two compares)': { ...rotating, password: 'wrong-4' },
    };
    const holds = recordHolds(gateway.gateway.services.hasher);
    let reference: { status: number; body: unknown; headers: string[] } | undefined;
    for (const [kind, credentials] of Object.entries(kinds)) {
      const sent = performance.now();
      const response = await serverTime(credentials);
      const answered = performance.now();
      const seen = {
        status: response.status,
        body: response.body,
        headers: [...response.headers.entries()].filter(([name]) => !['date', 'x-request-id'].includes(name)).map(([name, value]) => `${name}: ${value}`),
      };
      reference ??= seen;
      expect(seen, kind).to.deep.equal(reference);
      // Held once, from when this call reached authentication: not from when its work ended.
      expect(holds, kind).to.have.length(1);
      expect(holds[0], `${kind}: held from its arrival`).to.be.within(sent, answered);
      holds.length = 0;
    }
    expect(reference?.status).to.equal(401);
    // A success is not held.
    expect((await serverTime(regular)).status).to.equal(200);
    expect(holds, 'a success').to.deep.equal([]);
  });

  it('holds refusals to one target: the median time of a compare on this process plus 20 ms, jittered by at most 10 %', async () => {
    const { hasher } = gateway.gateway.services;
    const stranger = await createUser('C0mpared-pw');
    for (let i = 0; i < 3; i++) expect((await serverTime({ ...stranger, password: `wrong-${i}` })).status).to.equal(401);
    // The target is the median of the compares made (give or take 5 %) plus 20 ms.
    const targets = Array.from({ length: 50 }, () => hasher.refusalDuration());
    const lowest = Math.min(...targets);
    const highest = Math.max(...targets);
    expect(lowest, 'at least the allowance beyond a compare').to.be.above(20);
    expect(highest / lowest, 'one target, jittered by at most 10 %').to.be.below(1.11);
  });
});
