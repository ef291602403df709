// Who is let in: HTTP Basic per RFC 7617, one 401 for every reason, lockout after five wrong
// passwords (atomic, shared by every gateway on the database), account disable and reset.
import bcrypt from 'bcrypt';
import { expect } from 'chai';
import { failuresCounting } from '../src/auth/authStateCache.js';
import { parseBasicAuthorization } from '../src/auth/basicCredentials.js';
import { countFrom } from '../src/auth/ownSuccesses.js';
import { COMMAND_LINE } from '../src/domain/auditTrail.js';
import { LATE_FAILURE_ROW_MS } from '../src/domain/loginActivity.js';
import { startTestGateway, type TestAccount, type TestGateway } from './support/gateway.js';
import { expectRestError, expectSoapFault } from './support/expectations.js';
import { restRequest, type RestResponse } from './support/rest.js';
import { send } from './support/http.js';
import { soapCall, type Credentials } from './support/soap.js';

async function rawAuthorization(gateway: TestGateway, authorization: string | undefined): Promise<RestResponse> {
  return restRequest(gateway.app, null, 'GET', '/v2/server-time', undefined, authorization === undefined ? {} : { Authorization: authorization });
}

describe('authentication', () => {
  let gateway: TestGateway;
  let owner: TestAccount;

  const createUser = async (password: string, fields: Record<string, unknown> = {}) => {
    const response = await restRequest(gateway.app, owner, 'POST', '/v2/api-users', { password, ...fields });
    expect(response.status, response.text).to.equal(201);
    const body = response.body as { id: string; username: string };
    return { id: body.id, username: body.username, password };
  };
  const getUser = async (id: string) => (await restRequest(gateway.app, owner, 'GET', `/v2/api-users/${id}`)).body as Record<string, unknown>;
  const call = (credentials: Credentials) => restRequest(gateway.app, credentials, 'GET', '/v2/server-time');

  before(async () => {
    gateway = await startTestGateway();
    owner = await gateway.createAccount({ name: 'Auth Inc' });
  });
  after(() => gateway.close());

  describe('HTTP Basic, RFC 7617', () => {
    it('splits at the first colon: passwords may contain ":"', async () => {
      const user = await createUser('a:b:c:d-1');
      expect((await call(user)).status).to.equal(200);
      expect((await soapCall(gateway.app, user, 'GetServerTime')).status).to.equal(200);
      expectRestError(await call({ ...user, password: 'a' }), 401, 'ERROR_INVALID_LOGIN');
      expect(parseBasicAuthorization(`Basic ${Buffer.from('u@x:p:q').toString('base64')}`)).to.deep.equal({ username: 'u@x', password: 'p:q' });
    });

    it('reads UTF-8 credentials', async () => {
      const user = await createUser('Grüße-€-密码');
      expect((await call(user)).status).to.equal(200);
    });

    it('answers every malformed header with the same 401, never a 400 or 500', async () => {
      const reference = await rawAuthorization(gateway, undefined);
      expectRestError(reference, 401, 'ERROR_INVALID_LOGIN');
      const malformed = [
        '',
        'Basic',
        'Basic ',
        `Basic ${Buffer.from('no-colon-here').toString('base64')}`,
        `Basic ${Buffer.from(':password-only').toString('base64')}`,
        'Basic !!!not-base64!!!',
        'Basic YQ=',
        `Bearer ${Buffer.from(`${owner.username}:${owner.password}`).toString('base64')}`,
        `Digest username="${owner.username}"`,
        `Basic ${'A'.repeat(8000)}`,
        `Basic ${Buffer.from(`${owner.username}:${owner.password}`).toString('base64')} extra`,
      ];
      for (const header of malformed) {
        const response = await rawAuthorization(gateway, header);
        expectRestError(response, 401, 'ERROR_INVALID_LOGIN');
        expect(response.body, header.slice(0, 40)).to.deep.equal(reference.body);
        expect(response.headers.get('www-authenticate')).to.equal('Basic realm="dualgate"');
      }
      expect((await rawAuthorization(gateway, `basic ${Buffer.from(`${owner.username}:${owner.password}`).toString('base64')}`)).status, 'the scheme is case-insensitive').to.equal(200);
    });

    it('accepts the WSDL without credentials, and nothing else', async () => {
      expect((await send(gateway.app, 'GET', '/v2/api.svc?wsdl', {})).status).to.equal(200);
      expectRestError(await restRequest(gateway.app, null, 'GET', '/v2/account-info'), 401, 'ERROR_INVALID_LOGIN');
      expectSoapFault(await soapCall(gateway.app, null, 'GetServerTime'), 401, 'ERROR_INVALID_LOGIN');
    });
  });

  it('refuses alike an unknown user, a wrong password, a disabled user, a locked user and a disabled account', async () => {
    const disabled = await createUser('D1sabled-user', { enabled: false });
    const locked = await createUser('L0cked-user');
    for (let i = 0; i < 5; i++) await call({ ...locked, password: 'wrong' });
    const other = await gateway.createAccount({ name: 'Soon Disabled' });
    await gateway.gateway.services.accounts.disable(other.accountId);

    const refusals = [
      { username: 'apiuser-000000000000@dualgate.local', password: 'Wh4tever-x' },
      { username: owner.username, password: 'wrong-password-1' },
      disabled,
      locked,
      other,
    ];
    const rest = await Promise.all(refusals.map(call));
    const soap = await Promise.all(refusals.map((credentials) => soapCall(gateway.app, credentials, 'GetServerTime')));
    for (const response of rest) {
      expectRestError(response, 401, 'ERROR_INVALID_LOGIN');
      expect(response.body).to.deep.equal(rest[0]!.body);
      expect([...response.headers.keys()].filter((key) => key !== 'x-request-id' && key !== 'date').sort()).to.deep.equal(
        [...rest[0]!.headers.keys()].filter((key) => key !== 'x-request-id' && key !== 'date').sort(),
      );
    }
    for (const response of soap) {
      expectSoapFault(response, 401, 'ERROR_INVALID_LOGIN');
      expect(response.text).to.equal(soap[0]!.text);
    }
  });

  it('lets a disabled user in again once it is enabled', async () => {
    const user = await createUser('Sw1tch-user', { enabled: false });
    expectRestError(await call(user), 401, 'ERROR_INVALID_LOGIN');
    await restRequest(gateway.app, owner, 'PUT', `/v2/api-users/${user.id}`, { enabled: true });
    expect((await call(user)).status).to.equal(200);
  });

  it('refuses a deleted user', async () => {
    const user = await createUser('D3leted-user');
    expect((await call(user)).status).to.equal(200);
    await restRequest(gateway.app, owner, 'DELETE', `/v2/api-users/${user.id}`);
    expectRestError(await call(user), 401, 'ERROR_INVALID_LOGIN');
  });

  it('judges a caller whose compare waited by the user as it is after the wait: a disable, reset or delete heard of meanwhile refuses it', async () => {
    // One bcrypt slot, held by a slow compare, so that the caller's compare waits for its turn;
    // the changes are made on another gateway (whose hashing does not wait behind that slot),
    // and reach this one through its polls.
    const held = await startTestGateway({ env: { BCRYPT_POOL_SIZE: '1', BCRYPT_QUEUE_MAX_WAIT_MS: '60000' } });
    const elsewhere = await startTestGateway({ databaseUri: held.databaseUri });
    try {
      const manager = await held.createAccount();
      const slowHash = await bcrypt.hash('held', 14);
      const changes: Array<[string, (id: string) => Promise<RestResponse>]> = [
        ['disabled', (id) => restRequest(elsewhere.app, manager, 'PUT', `/v2/api-users/${id}`, { enabled: false })],
        ['reset', (id) => restRequest(elsewhere.app, manager, 'PUT', `/v2/api-users/${id}/password`, { password: 'Aft3r-the-wait' })],
        ['deleted', (id) => restRequest(elsewhere.app, manager, 'DELETE', `/v2/api-users/${id}`)],
      ];
      const { hasher, authStates } = held.gateway.services;
      for (const [change, make] of changes) {
        const created = await restRequest(held.app, manager, 'POST', '/v2/api-users', { password: 'B3fore-the-wait' });
        const user = { ...(created.body as { id: string; username: string }), password: 'B3fore-the-wait' };
        const slot = hasher.verify('x', slowHash);
        let answered = false;
        const waiting = restRequest(held.app, user, 'GET', '/v2/server-time').finally(() => (answered = true));
        while (hasher.queueLength === 0) await new Promise((resolve) => setTimeout(resolve, 2));
        const mark = authStates.changeMark;
        const before = await authStates.get(user.username);
        expect((await make(user.id)).status, change).to.be.within(200, 204);
        while (!authStates.changedSince(mark, user.username, before)) await new Promise((resolve) => setTimeout(resolve, 10));
        expect(answered, `${change}: the call was still waiting for its compare when this gateway heard of the change`).to.equal(false);
        expectRestError(await waiting, 401, 'ERROR_INVALID_LOGIN');
        await slot;
      }
    } finally {
      await elsewhere.close();
      await held.close();
    }
  });

  it('records lastUsed on each successful authentication only', async () => {
    const user = await createUser('La5t-used');
    expect((await getUser(user.id)).lastUsed).to.equal(null);
    await call({ ...user, password: 'wrong' });
    expect((await getUser(user.id)).lastUsed).to.equal(null);
    const before = Date.now();
    await call(user);
    const lastUsed = Date.parse((await getUser(user.id)).lastUsed as string);
    expect(lastUsed).to.be.within(before - 1000, Date.now());
  });

  describe('lockout', () => {
    it('locks after exactly five concurrent wrong passwords; then even the right one fails; a reset unlocks', async () => {
      const user = await createUser('R1ght-secret');
      const wrong = await Promise.all(Array.from({ length: 5 }, () => call({ ...user, password: 'Wr0ng-password' })));
      for (const response of wrong) expectRestError(response, 401, 'ERROR_INVALID_LOGIN');
      expect(await getUser(user.id)).to.include({ locked: true, lockReason: 'FailedLogins' });
      expectRestError(await call(user), 401, 'ERROR_INVALID_LOGIN');
      expectSoapFault(await soapCall(gateway.app, user, 'GetServerTime'), 401, 'ERROR_INVALID_LOGIN');

      // Reset with the same password as before: unlocked, and it works again.
      const reset = await restRequest(gateway.app, owner, 'PUT', `/v2/api-users/${user.id}/password`, { password: user.password });
      expect(reset.status).to.equal(200);
      expect(reset.body).to.include({ locked: false, lockReason: null });
      expect((await call(user)).status).to.equal(200);
    });

    it('does not lock after four, and a success resets the count', async () => {
      const user = await createUser('C0unt-reset');
      for (let i = 0; i < 4; i++) await call({ ...user, password: 'nope' });
      expect((await getUser(user.id)).locked).to.equal(false);
      expect((await call(user)).status).to.equal(200);
      for (let i = 0; i < 4; i++) await call({ ...user, password: 'nope' });
      expect((await getUser(user.id)).locked, 'four after a success are only four').to.equal(false);
      expect((await call(user)).status).to.equal(200);
    });

    it('orders attempts by arrival: a wrong password still being checked when a later right one passes does not count', async () => {
      const user = await createUser('Cr0ssing-pw');
      const hasher = gateway.gateway.services.hasher;
      const verify = hasher.verify.bind(hasher);
      // The wrong password's compare is made to take 300 ms; the right one's is not.
      let wrongComparing = () => {};
      const wrongCompared = new Promise<void>((resolve) => (wrongComparing = resolve));
      hasher.verify = async (password, hash) => {
        const matches = await verify(password, hash);
        if (!matches) {
          wrongComparing();
          await new Promise((resolve) => setTimeout(resolve, 300));
        }
        return matches;
      };
      try {
        const slowWrong = call({ ...user, password: 'Wr0ng-and-slow' });
        await wrongCompared; // it has arrived, and is being checked
        expect((await call(user)).status, 'the right password, sent later, passes first').to.equal(200);
        expectRestError(await slowWrong, 401, 'ERROR_INVALID_LOGIN');
      } finally {
        hasher.verify = verify;
      }
      // The refused one arrived before the success: four more are only four.
      for (let i = 0; i < 4; i++) expectRestError(await call({ ...user, password: 'nope' }), 401, 'ERROR_INVALID_LOGIN');
      expect(await getUser(user.id)).to.include({ locked: false, failedLoginCount: 4 });
      expect((await call(user)).status).to.equal(200);
    });

    it('is not locked by occasional wrong passwords among concurrent successes', async () => {
      const user = await createUser('Bu5y-integration');
      expect((await call(user)).status).to.equal(200);
      const statuses = { right: [] as number[], wrong: [] as number[] };
      await Promise.all(
        Array.from({ length: 10 }, async (_, loop) => {
          for (let i = 0; i < 30; i++) {
            const wrong = (i + loop * 3) % 30 === 0; // one each, spread over the run
            const response = await call(wrong ? { ...user, password: 'Wr0ng-one' } : user);
            statuses[wrong ? 'wrong' : 'right'].push(response.status);
          }
        }),
      );
      expect(statuses.wrong).to.have.length(10);
      expect(statuses.wrong.every((status) => status === 401)).to.equal(true);
      expect(statuses.right.filter((status) => status !== 200), 'every right password passed').to.deep.equal([]);
      expect(await getUser(user.id)).to.include({ locked: false });
    });

    it('is not locked by one wrong password in a hundred among a busy integration\'s calls, for longer than its successes take to settle', async function () {
      this.timeout(30_000);
      // A gateway and account of its own: thousands of calls.
      const busy = await startTestGateway();
      try {
        const account = await busy.createAccount({ callsPerHour: 10_000_000 });
        const password = 'Bu5y-with-typos';
        const { id, username } = (await restRequest(busy.app, account, 'POST', '/v2/api-users', { password })).body as { id: string; username: string };
        const statuses = new Map<string, number>();
        const end = Date.now() + LATE_FAILURE_ROW_MS + 2000;
        let sent = 0;
        await Promise.all(
          Array.from({ length: 32 }, async () => {
            while (Date.now() < end) {
              const wrong = ++sent % 100 === 0;
              const { status } = await restRequest(busy.app, { username, password: wrong ? 'Wr0ng-one' : password }, 'GET', '/v2/server-time');
              const key = `${wrong ? 'wrong' : 'right'} ${status}`;
              statuses.set(key, (statuses.get(key) ?? 0) + 1);
            }
          }),
        );
        expect([...statuses.keys()].sort(), JSON.stringify([...statuses])).to.deep.equal(['right 200', 'wrong 401']);
        expect((await restRequest(busy.app, account, 'GET', `/v2/api-users/${id}`)).body).to.include({ locked: false });
        // The count kept up call by call is the one made afresh from what the state holds.
        const state = await busy.gateway.services.authStates.get(username);
        expect(state.ownSuccesses.length, 'own successes apart').to.be.above(10);
        expect(failuresCounting(state, 5)).to.equal(countFrom({ ...state, user: state.user! }, 5).counting);
      } finally {
        await busy.close();
      }
    });

    it('counts wrong passwords from both protocols together', async () => {
      const user = await createUser('B0th-doors');
      for (let i = 0; i < 3; i++) await call({ ...user, password: 'nope' });
      for (let i = 0; i < 2; i++) await soapCall(gateway.app, { ...user, password: 'nope' }, 'GetServerTime');
      expect((await getUser(user.id)).lockReason).to.equal('FailedLogins');
    });

    it('is shared by two gateways on one database: 5 wrong passwords spread over both lock exactly', async () => {
      const ttlMs = 200;
      const second = await startTestGateway({ databaseUri: gateway.databaseUri, env: { AUTH_STATE_TTL_MS: String(ttlMs) } });
      try {
        const user = await createUser('Tw0-gateways');
        const attempts = Array.from({ length: 5 }, (_, i) =>
          restRequest(i % 2 === 0 ? gateway.baseUrl : second.baseUrl, { ...user, password: 'nope' }, 'GET', '/v2/server-time'),
        );
        await Promise.all(attempts);
        expect(await getUser(user.id)).to.include({ locked: true, lockReason: 'FailedLogins' });
        // The second saw two of the five itself; the other three reach it within its TTL.
        await new Promise((resolve) => setTimeout(resolve, ttlMs + 100));
        expectRestError(await restRequest(second.app, user, 'GET', '/v2/server-time'), 401, 'ERROR_INVALID_LOGIN');
        expect(await gateway.database.models.LoginFailure.countDocuments({ userId: user.id })).to.equal(5);
      } finally {
        await second.close();
      }
    });

    it('follows LOCKOUT_THRESHOLD', async () => {
      const strict = await startTestGateway({ env: { LOCKOUT_THRESHOLD: '2' } });
      try {
        const account = await strict.createAccount();
        const created = await restRequest(strict.app, account, 'POST', '/v2/api-users', { password: 'Thr3shold-2' });
        expect(created.status, created.text).to.equal(201);
        const user = created.body as { id: string; username: string };
        const wrong = () => restRequest(strict.app, { username: user.username, password: 'x' }, 'GET', '/v2/server-time');
        expectRestError(await wrong(), 401, 'ERROR_INVALID_LOGIN');
        expect((await restRequest(strict.app, { username: user.username, password: 'Thr3shold-2' }, 'GET', '/v2/server-time')).status, 'one wrong password is not two').to.equal(200);
        for (let i = 0; i < 2; i++) expectRestError(await wrong(), 401, 'ERROR_INVALID_LOGIN');
        expectRestError(await restRequest(strict.app, { username: user.username, password: 'Thr3shold-2' }, 'GET', '/v2/server-time'), 401, 'ERROR_INVALID_LOGIN');
      } finally {
        await strict.close();
      }
    });
  });

  describe('account disable', () => {
    it('locks every user of the account (AccountDisabled); enabling the account does not unlock them; a reset does', async () => {
      const account = await gateway.createAccount({ name: 'Paused Co' });
      const member = (await restRequest(gateway.app, account, 'POST', '/v2/api-users', { password: 'M3mber-pass', canManageAccount: true })).body as { id: string; username: string };
      const memberCredentials = { username: member.username, password: 'M3mber-pass' };
      expect((await call(memberCredentials)).status).to.equal(200);

      await gateway.gateway.services.accounts.disable(account.accountId);
      expectRestError(await call(account), 401, 'ERROR_INVALID_LOGIN');
      expectRestError(await call(memberCredentials), 401, 'ERROR_INVALID_LOGIN');

      await gateway.gateway.services.accounts.enable(account.accountId);
      expectRestError(await call(account), 401, 'ERROR_INVALID_LOGIN');
      expectRestError(await call(memberCredentials), 401, 'ERROR_INVALID_LOGIN');

      // The way back in: a password reset from the command line, for the owner.
      const ownerRecord = await gateway.gateway.services.apiUsers.findByUsername(account.username);
      const accountRecord = await gateway.gateway.services.accounts.findById(ownerRecord!.accountId);
      await gateway.gateway.services.apiUsers.setPassword(ownerRecord!, accountRecord!, account.password, COMMAND_LINE);
      expect((await call(account)).status).to.equal(200);
      const seen = (await restRequest(gateway.app, account, 'GET', `/v2/api-users/${member.id}`)).body;
      expect(seen).to.include({ locked: true, lockReason: 'AccountDisabled' });
      const reset = await restRequest(gateway.app, account, 'PUT', `/v2/api-users/${member.id}/password`, { password: 'M3mber-pass' });
      expect(reset.body).to.include({ locked: false, lockReason: null });
      expect((await call(memberCredentials)).status).to.equal(200);
      // A user created after the account came back is not locked by the old disable.
      const fresh = await restRequest(gateway.app, account, 'POST', '/v2/api-users', { password: 'Fr3sh-user' });
      expect(fresh.body).to.include({ locked: false });
    });
  });
});
