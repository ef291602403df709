// The verified-credential cache and the auth state cache: bcrypt is skipped only for a
// password that verified before against the same stored hash, and no change is hidden by
// them: the next request in the same process sees it, another process within AUTH_STATE_TTL_MS.
import { expect } from 'chai';
import { Types } from 'mongoose';
import { insertApiUsers } from './support/bulkUsers.js';
import { addFailure, AuthStateCache, failuresCounting } from '../src/auth/authStateCache.js';
import { clockMinute } from '../src/domain/clockMinutes.js';
import { LATE_FAILURE_ROW_MS, newWrongPassword } from '../src/domain/loginActivity.js';
import type { PasswordHasher } from '../src/domain/passwords.js';
import { startTestGateway, uniqueDatabaseUri, type TestAccount, type TestGateway } from './support/gateway.js';
import { exitOf, startGatewayProcess } from './support/processes.js';
import { restRequest } from './support/rest.js';
import type { HttpTarget } from './support/http.js';
import { soapCall, type Credentials } from './support/soap.js';

/** Counts the bcrypt compares a gateway makes (the hasher itself stays real). */
function countCompares(hasher: PasswordHasher): { real: number; dummy: number; waited: number } {
  const counts = { real: 0, dummy: 0, waited: 0 };
  const verify = hasher.verify.bind(hasher);
  const verifyNobody = hasher.verifyNobody.bind(hasher);
  const holdRefusal = hasher.holdRefusal.bind(hasher);
  hasher.holdRefusal = (arrivedMs) => {
    counts.waited++;
    return holdRefusal(arrivedMs);
  };
  hasher.verify = (password, hash) => {
    counts.real++;
    return verify(password, hash);
  };
  hasher.verifyNobody = (password) => {
    counts.dummy++;
    return verifyNobody(password);
  };
  return counts;
}

const METRICS_TOKEN = 'a-metrics-token-for-tests';

/** The find commands a gateway (started with METRICS_TOKEN) has sent so far. */
async function findsSent(target: TestGateway): Promise<number> {
  const text = await (await fetch(`${target.baseUrl}/metrics`, { headers: { Authorization: `Bearer ${METRICS_TOKEN}` } })).text();
  return Number(/^dualgate_database_operations_total\{operation="find"\} (\d+)/m.exec(text)?.[1] ?? 0);
}

describe('authentication caches', () => {
  let gateway: TestGateway;
  let owner: TestAccount;
  let compares: { real: number; dummy: number; waited: number };
  const call = (credentials: Credentials, target: HttpTarget = gateway.app) => restRequest(target, credentials, 'GET', '/v2/server-time').then((r) => r.status);
  const newUser = async (password: string) => {
    const body = (await restRequest(gateway.app, owner, 'POST', '/v2/api-users', { password })).body as { id: string; username: string };
    return { ...body, password };
  };

  before(async () => {
    gateway = await startTestGateway({ env: { AUTH_STATE_TTL_MS: '60000' } }); // long: only invalidation can make changes visible here
    owner = await gateway.createAccount();
    compares = countCompares(gateway.gateway.services.hasher);
  });
  after(() => gateway.close());

  it('checks a right password with bcrypt once, then from the cache, in both protocols', async () => {
    const user = await newUser('C4ched-secret');
    const before = compares.real;
    for (let i = 0; i < 5; i++) expect(await call(user)).to.equal(200);
    expect((await soapCall(gateway.app, user, 'GetServerTime')).status).to.equal(200);
    expect(compares.real - before).to.equal(1);
  });

  it('never lets a wrong password pass: a full compare when the right one is not known here', async () => {
    const user = await newUser('R1ght-one!');
    const before = compares.real;
    for (const wrong of ['R1ght-one', 'R1ght-one!!']) expect(await call({ ...user, password: wrong })).to.equal(401);
    expect(compares.real - before).to.equal(2);
  });

  it('never lets a wrong password pass: the time of a compare when the right one is known here', async () => {
    const user = await newUser('Kn0wn-right!');
    expect(await call(user)).to.equal(200);
    const before = { ...compares };
    for (const wrong of ['Kn0wn-right', 'Kn0wn-right!!', 'kn0wn-right!', 'Kn0wn-right! ']) {
      expect(await call({ ...user, password: wrong })).to.equal(401);
    }
    expect(compares.real - before.real, 'no bcrypt spent').to.equal(0);
    expect(compares.waited - before.waited, 'but the time of one, each').to.equal(4);
    expect(await call(user), 'the right one still passes: four are no lock').to.equal(200);
    expect(await call({ ...user, password: '' })).to.equal(401);
    expect(await call({ ...user, password: 'Kno\u0301wn-right!'.normalize('NFD') }), 'a different password').to.equal(401);
  });

  it('takes a differently composed but equal password as the right one', async () => {
    const user = await newUser('Caf\u00e9-cr\u00e8me1');
    expect(await call(user)).to.equal(200);
    expect(await call({ ...user, password: user.password.normalize('NFD') })).to.equal(200);
  });

  it('checks unknown usernames against a dummy hash, every time', async () => {
    const before = compares.dummy;
    for (let i = 0; i < 3; i++) expect(await call({ username: 'apiuser-ffffffffffff@dualgate.local', password: 'Wh4tever-x' })).to.equal(401);
    expect(compares.dummy - before).to.equal(3);
  });

  describe('the next request in the same process sees', () => {
    it('a password reset: the old password fails at once', async () => {
      const user = await newUser('Bef0re-reset');
      expect(await call(user)).to.equal(200);
      await restRequest(gateway.app, owner, 'PUT', `/v2/api-users/${user.id}/password`, { password: 'Aft3r-reset' });
      expect(await call(user)).to.equal(401);
      expect(await call({ ...user, password: 'Aft3r-reset' })).to.equal(200);
    });

    it('a disable, and an enable', async () => {
      const user = await newUser('D1sable-me');
      expect(await call(user)).to.equal(200);
      await restRequest(gateway.app, owner, 'PUT', `/v2/api-users/${user.id}`, { enabled: false });
      expect(await call(user)).to.equal(401);
      await restRequest(gateway.app, owner, 'PUT', `/v2/api-users/${user.id}`, { enabled: true });
      expect(await call(user)).to.equal(200);
    });

    it('a lock after five wrong passwords, though the right one is cached', async () => {
      const user = await newUser('L0ck-me-now');
      expect(await call(user)).to.equal(200);
      for (let i = 0; i < 5; i++) await call({ ...user, password: 'nope' });
      expect(await call(user)).to.equal(401);
    });

    it('a delete', async () => {
      const user = await newUser('D3lete-me-x');
      expect(await call(user)).to.equal(200);
      await restRequest(gateway.app, owner, 'POST', '/v2/api-users/delete', { ids: [user.id] });
      expect(await call(user)).to.equal(401);
    });

    it('an account disable', async () => {
      const account = await gateway.createAccount();
      expect(await call(account)).to.equal(200);
      await gateway.gateway.services.accounts.disable(account.accountId);
      expect(await call(account)).to.equal(401);
    });
  });

  it('another gateway process sees every change within AUTH_STATE_TTL_MS', async function () {
    this.timeout(60_000);
    const ttl = 400;
    const { child: other, baseUrl: otherUrl } = await startGatewayProcess({ MONGODB_URI: gateway.databaseUri, AUTH_STATE_TTL_MS: String(ttl) });
    try {
      const settle = () => new Promise((resolve) => setTimeout(resolve, ttl + 300));
      const [reset, disabled, locked, deleted] = await Promise.all([newUser('Res3t-there'), newUser('Dis4ble-there'), newUser('L0ck-there'), newUser('Del3te-there')]);
      for (const user of [reset, disabled, locked, deleted]) expect(await call(user, otherUrl)).to.equal(200);
      const account = await gateway.createAccount();
      expect(await call(account, otherUrl)).to.equal(200);

      await restRequest(gateway.app, owner, 'PUT', `/v2/api-users/${reset.id}/password`, { password: 'N3w-there!' });
      await restRequest(gateway.app, owner, 'PUT', `/v2/api-users/${disabled.id}`, { enabled: false });
      for (let i = 0; i < 5; i++) await call({ ...locked, password: 'nope' });
      await restRequest(gateway.app, owner, 'DELETE', `/v2/api-users/${deleted.id}`);
      await gateway.gateway.services.accounts.disable(account.accountId);
      await settle();

      expect(await call(reset, otherUrl), 'reset').to.equal(401);
      expect(await call({ ...reset, password: 'N3w-there!' }, otherUrl)).to.equal(200);
      expect(await call(disabled, otherUrl), 'disable').to.equal(401);
      expect(await call(locked, otherUrl), 'lock').to.equal(401);
      expect(await call(deleted, otherUrl), 'delete').to.equal(401);
      expect(await call(account, otherUrl), 'account disable').to.equal(401);
    } finally {
      other.kill('SIGTERM');
      await exitOf(other);
    }
  });

  it('reads the database on every request with AUTH_STATE_TTL_MS=0', async () => {
    const databaseUri = uniqueDatabaseUri();
    const first = await startTestGateway({ databaseUri, env: { AUTH_STATE_TTL_MS: '0' } });
    const second = await startTestGateway({ databaseUri });
    try {
      const account = await second.createAccount();
      const user = (await restRequest(second.app, account, 'POST', '/v2/api-users', { password: 'N0-cache-1' })).body as { id: string; username: string };
      const credentials = { username: user.username, password: 'N0-cache-1' };
      expect(await call(credentials, first.baseUrl)).to.equal(200);
      await restRequest(second.app, account, 'PUT', `/v2/api-users/${user.id}`, { enabled: false });
      expect(await call(credentials, first.baseUrl)).to.equal(401);
    } finally {
      await first.close();
      await second.close();
    }
  });

  it('with AUTH_STATE_TTL_MS=0 settles a success after wrong passwords by reading them again once they have landed: it forgives them, and a lock before it stands', async function () {
    this.timeout(30_000);
    const gateway = await startTestGateway({ env: { AUTH_STATE_TTL_MS: '0' } });
    try {
      const account = await gateway.createAccount();
      const password = 'N0-cache-2';
      const { id, username } = (await restRequest(gateway.app, account, 'POST', '/v2/api-users', { password })).body as { id: string; username: string };
      const status = (secret: string) => call({ username, password: secret }, gateway.app);
      for (let i = 0; i < 4; i++) expect(await status('not-it')).to.equal(401);
      expect(await status(password)).to.equal(200);
      await new Promise((resolve) => setTimeout(resolve, LATE_FAILURE_ROW_MS + 500));
      const forgiven = (await gateway.database.models.ApiUserActivity.findById(id).lean().exec())?.lastUsed;
      expect(forgiven, 'written as forgiving the four').to.be.instanceOf(Date);
      for (let i = 0; i < 4; i++) expect(await status('not-it')).to.equal(401);
      expect(await status(password), 'four before the success and four after').to.equal(200);
    } finally {
      await gateway.close();
    }
  });

  it('keeps, across a re-read after a change, a wrong password counted here and not yet written, and counts it once when written', async () => {
    const user = await newUser('Merg3-me-pw');
    const { loginActivity } = gateway.gateway.services;
    const states = new AuthStateCache(gateway.database.models, loginActivity, 5, 60_000, 100);
    try {
      const first = await states.get(user.username);
      const refused = newWrongPassword(new Date(), first.user!.unlockedAt);
      // As the verifier does: counted in the state at once, the row written after.
      addFailure(first, refused, 5);
      states.forgetUser(first.user!._id); // a change elsewhere, as a poll hears of it
      const reread = await states.get(user.username);
      expect(reread, 'read again after the change').to.not.equal(first);
      expect(failuresCounting(reread, 5)).to.equal(1);
      await loginActivity.recordFailure(first.user!, refused);
      await states.poll(); // the row, found by the poll, is the same wrong password
      await states.poll();
      expect(failuresCounting(await states.get(user.username), 5)).to.equal(1);
    } finally {
      states.close();
    }
  });

  it('counts two wrong passwords made in the same millisecond by two processes as two, by a poll and by a re-read', async () => {
    const user = await newUser('Sam3-ms-pw');
    const { loginActivity } = gateway.gateway.services;
    const [here, there] = [0, 1].map(() => new AuthStateCache(gateway.database.models, loginActivity, 5, 60_000, 100));
    try {
      // The user's creation heard of first: the states read next are kept, not read again.
      await Promise.all([here!.poll(), there!.poll()]);
      const [stateHere, stateThere] = [await here!.get(user.username), await there!.get(user.username)];
      const at = new Date();
      const [mine, theirs] = [newWrongPassword(at, stateHere.user!.unlockedAt), newWrongPassword(at, stateThere.user!.unlockedAt)];
      // Each process counts its own at once, then writes its row, as the verifier does.
      here!.addFailure(user.username, stateHere, mine);
      await loginActivity.recordFailure(stateHere.user!, mine);
      there!.addFailure(user.username, stateThere, theirs);
      await loginActivity.recordFailure(stateThere.user!, theirs);
      await Promise.all([here!.poll(), there!.poll()]);
      expect(failuresCounting(await here!.get(user.username), 5), 'here, after a poll').to.equal(2);
      expect(failuresCounting(await there!.get(user.username), 5), 'there, after a poll').to.equal(2);
      // A third, counted here and not yet written when a change makes this process read the
      // user again: the read finds the other two, and this one is kept beside them.
      const before = await here!.get(user.username);
      here!.addFailure(user.username, before, newWrongPassword(at, before.user!.unlockedAt));
      here!.forgetUser(before.user!._id);
      const reread = await here!.get(user.username);
      expect(failuresCounting(reread, 5), 'here, after a re-read').to.equal(3);
    } finally {
      here!.close();
      there!.close();
    }
  });

  it('counts a wrong password whose row landed long after it arrived, as a process that knew the user before', async () => {
    const user = await newUser('L4te-row-pw');
    // Unlocked (created) a minute ago, so that wrong passwords 11 s old count.
    await gateway.database.models.ApiUser.updateOne({ _id: user.id }, { $set: { unlockedAt: new Date(Date.now() - 60_000) } }).exec();
    const { loginActivity } = gateway.gateway.services;
    const there = new AuthStateCache(gateway.database.models, loginActivity, 5, 1000, 100);
    try {
      await there.poll();
      const known = await there.get(user.username);
      for (let i = 0; i < 5; i++) {
        await there.poll();
        // Arrived at another process 11 s ago (a slow read, a long wait for a compare), written
        // now: older than the polls look back.
        await loginActivity.recordFailure(known.user!, newWrongPassword(new Date(Date.now() - 11_000 + i), known.user!.unlockedAt));
        await there.poll();
      }
      expect(failuresCounting(await there.get(user.username), 5)).to.equal(5);
    } finally {
      there.close();
    }
  });

  it('judges a call by its own read when a change was applied while that read was under way, not by the older state', async () => {
    const user = await newUser('Rac3-me-pw');
    const { loginActivity } = gateway.gateway.services;
    const states = new AuthStateCache(gateway.database.models, loginActivity, 5, 60_000, 100);
    try {
      const before = await states.get(user.username);
      const firstFailure = Date.now();
      for (let i = 0; i < 5; i++) addFailure(before, newWrongPassword(new Date(firstFailure + i), before.user!.unlockedAt), 5);
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(failuresCounting(before, 5), 'locked, as far as this process knows').to.equal(5);
      // A reset here (its change applied at once), then its change row found by a poll while the
      // next call's read is under way: that read is not stored, the locked state stays behind.
      await gateway.database.models.ApiUser.updateOne({ _id: before.user!._id }, { $set: { unlockedAt: new Date() } }).exec();
      states.forgetUser(before.user!._id);
      const reading = states.get(user.username);
      states.forgetUsername(user.username);
      const read = await reading;
      expect(failuresCounting(read, 5), 'the read sees the unlock').to.equal(0);
      // What the verifier asks once the password is checked: before the fix, the locked state.
      expect(states.latest(user.username, read)).to.equal(read);
    } finally {
      states.close();
    }
  });

  it('stores no read that was under way when its user changed, even one a later call did not join', async () => {
    const user = await newUser('St4le-read-pw');
    const { loginActivity } = gateway.gateway.services;
    // The first read is held at its last query, so that the calls interleave exactly so.
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let reads = 0;
    const activity = Object.create(loginActivity) as typeof loginActivity;
    activity.recentFailures = async (record, cap) => {
      if (reads++ === 0) await held;
      return loginActivity.recentFailures(record, cap);
    };
    const ttlMs = 300;
    const states = new AuthStateCache(gateway.database.models, activity, 5, ttlMs, 100);
    try {
      await states.poll();
      const first = states.get(user.username); // reads the user, enabled, then waits
      await new Promise((resolve) => setTimeout(resolve, 100));
      states.forgetUser(new Types.ObjectId()); // another user's change: the next call reads anew
      const second = states.get(user.username);
      await restRequest(gateway.app, owner, 'PUT', `/v2/api-users/${user.id}`, { enabled: false });
      await states.poll(); // hears of the disable while both reads are under way
      await second;
      release();
      expect((await first).user!.enabled, 'the read before it').to.equal(true);
      // Before the fix, the first read was stored, and every poll since left it current.
      for (let i = 0; i < 4; i++) {
        await new Promise((resolve) => setTimeout(resolve, ttlMs / 2));
        await states.poll();
      }
      expect((await states.get(user.username)).user!.enabled, `disabled ${2 * ttlMs} ms ago`).to.equal(false);
    } finally {
      states.close();
    }
  });

  it('stays current by polling what changed, with the same few queries whatever the number of users', async () => {
    const databaseUri = uniqueDatabaseUri();
    const lines: string[] = [];
    // No compare is shed (BCRYPT_QUEUE_MAX_WAIT_MS): on a loaded machine the 200 first compares
    // can be estimated past the default bound, and what is counted here is the polls' queries.
    const watched = await startTestGateway({ logLines: lines, databaseUri, env: { AUTH_STATE_TTL_MS: '1000', QUOTA_SYNC_MS: '250', BCRYPT_QUEUE_MAX_WAIT_MS: '60000', METRICS_TOKEN } });
    const other = await startTestGateway({ databaseUri });
    try {
      const account = await other.createAccount({ callsPerHour: 1_000_000 });
      const hash = await watched.gateway.services.hasher.hash('Many-users-1');
      const usernames = await insertApiUsers(watched.database, account.accountId, 200, hash);
      const calls = async () => Promise.all(usernames.map((username) => call({ username, password: 'Many-users-1' }, watched.baseUrl)));
      // Warm: every user read once, after the polls have heard of the account's creation (a
      // change to the account read while those reads were under way, so they were not kept).
      expect(new Set(await calls()), lines.filter((l) => l.includes('"level":40')).slice(0, 3).join('\n')).to.deep.equal(new Set([200]));
      await new Promise((resolve) => setTimeout(resolve, 1000));
      expect(new Set(await calls())).to.deep.equal(new Set([200]));
      // Three seconds of every user calling: three TTLs, in which per-user re-reads would be
      // 200 users × 5 finds × 3. Polls are two finds (and one more when users have wrong passwords
      // counting: none here) three times a TTL; the quota syncs read once per 250 ms.
      const before = await findsSent(watched);
      const until = Date.now() + 3000;
      while (Date.now() < until) expect(new Set(await calls())).to.deep.equal(new Set([200]));
      const spent = (await findsSent(watched)) - before;
      expect(spent, 'finds in three seconds of 200 warm users').to.be.below(100);
      // And still current: a user disabled through the other gateway is refused here.
      const [firstUser] = await other.database.models.ApiUser.find({ username: usernames[0] }).lean().exec();
      await restRequest(other.baseUrl, account, 'PUT', `/v2/api-users/${firstUser!._id.toHexString()}`, { enabled: false });
      let refused = false;
      for (let attempt = 0; attempt < 40 && !refused; attempt++) {
        refused = (await call({ username: usernames[0]!, password: 'Many-users-1' }, watched.baseUrl)) === 401;
        if (!refused) await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(refused, 'the disable made elsewhere is seen').to.equal(true);
    } finally {
      await watched.close();
      await other.close();
    }
  });
});

describe('the polls', () => {
  it('write the successes they settle as forgiving a few hundred at a time, and a stopping process writes the rest', async () => {
    const gateway = await startTestGateway({ env: { AUTH_STATE_TTL_MS: '60000' } });
    let closed = false;
    try {
      const account = await gateway.createAccount();
      const { models } = gateway.database;
      const usernames = await insertApiUsers(gateway.database, account.accountId, 300, await gateway.gateway.services.hasher.hash('Many-users-1'));
      // Unlocked two minutes ago, each with a wrong password a minute ago, then a success of this process.
      const unlockedAt = new Date(Date.now() - 120_000);
      await models.ApiUser.updateMany({ username: { $in: usernames } }, { unlockedAt }).exec();
      const users = await models.ApiUser.find({ username: { $in: usernames } }).lean().exec();
      const wrongAt = new Date(Date.now() - 60_000);
      await models.LoginFailure.collection.insertMany(users.map((user) => ({ userId: user._id, at: wrongAt, minute: clockMinute(wrongAt.getTime()), unlockedAt })));
      const { authStates } = gateway.gateway.services;
      for (const username of usernames) authStates.addOwnSuccess(await authStates.get(username), new Date(Date.now() - 30_000));
      const forgiven = () => models.ApiUserActivity.countDocuments({ _id: { $in: users.map((user) => user._id) }, lastUsed: { $exists: true } }).exec();
      await authStates.poll();
      await authStates.forgivenessWritten();
      expect(await forgiven(), 'one write').to.equal(250);
      closed = true;
      await gateway.gateway.close();
      expect(await forgiven(), 'the rest at the stop').to.equal(300);
    } finally {
      if (!closed) await gateway.gateway.close();
      await gateway.close().catch(() => {});
    }
  });

  it('ask the same of the database whatever the number of users with wrong passwords counting: no query names them', async () => {
    const gateway = await startTestGateway({ env: { AUTH_STATE_TTL_MS: '60000', BCRYPT_QUEUE_MAX_WAIT_MS: '60000' } });
    try {
      const account = await gateway.createAccount({ callsPerHour: 1_000_000 });
      const usernames = await insertApiUsers(gateway.database, account.accountId, 200, await gateway.gateway.services.hasher.hash('Many-users-1'));
      // A guesser's one try at each, as an attacker spraying usernames makes them.
      const statuses = await Promise.all(usernames.map((username) => restRequest(gateway.app, { username, password: 'a-guess' }, 'GET', '/v2/server-time').then((r) => r.status)));
      expect(new Set(statuses)).to.deep.equal(new Set([401]));
      const userIds = (await gateway.database.models.ApiUser.find({ username: { $in: usernames } }, { _id: 1 }).lean().exec()).map(({ _id }) => _id.toHexString());
      const { authStates } = gateway.gateway.services;
      await authStates.poll(); // hears of the 200, by their minute
      const sent: string[] = [];
      const client = gateway.database.connection.getClient();
      const listener = (event: { commandName: string; command: Record<string, unknown> }) => {
        if (event.commandName === 'find') sent.push(JSON.stringify(event.command));
      };
      client.on('commandStarted', listener);
      try {
        for (let i = 0; i < 3; i++) await authStates.poll();
      } finally {
        client.off('commandStarted', listener);
      }
      expect(sent, 'three queries a poll').to.have.length(9);
      const naming = sent.filter((command) => userIds.some((id) => command.includes(id)));
      expect(naming, 'queries naming users').to.deep.equal([]);
      expect(failuresCounting(await authStates.get(usernames[0]!), 5), 'each still counts its wrong password').to.equal(1);
    } finally {
      await gateway.close();
    }
  });
});

describe('a caller whose compare waited', () => {
  it('is judged by the newest read of its user, made meanwhile by another call: disabled there, refused', async () => {
    const gateway = await startTestGateway({ env: { AUTH_STATE_TTL_MS: '100' } });
    const { hasher } = gateway.gateway.services;
    const verify = hasher.verify.bind(hasher);
    try {
      const owner = await gateway.createAccount();
      const created = await restRequest(gateway.app, owner, 'POST', '/v2/api-users', { password: 'Wa1ted-long' });
      expect(created.status, created.text).to.equal(201);
      const user = created.body as { id: string; username: string };
      const call = (password: string) => restRequest(gateway.app, { username: user.username, password }, 'GET', '/v2/server-time').then((r) => r.status);
      // The polls fail from now on (the change rows cannot be read): a state is then current for
      // AUTH_STATE_TTL_MS after its read only, and the next call after that reads the user again.
      const { authStates } = gateway.gateway.services;
      authStates.poll = () => Promise.reject(new Error('the change rows cannot be read'));
      // The right password's compare is made to take 600 ms, as in a long queue.
      hasher.verify = async (password, hash, arrivedMs) => {
        const matches = await verify(password, hash, arrivedMs);
        if (matches) await new Promise((resolve) => setTimeout(resolve, 600));
        return matches;
      };
      const waiting = call('Wa1ted-long');
      await new Promise((resolve) => setTimeout(resolve, 200)); // its read is past AUTH_STATE_TTL_MS now
      // Disabled: only a read finds it. Another call's, made while the first waits.
      await gateway.database.models.ApiUser.updateOne({ _id: user.id }, { $set: { enabled: false } }).exec();
      expect(await call('not-the-password'), 'another call, which reads the user again').to.equal(401);
      expect(await waiting, 'the first, judged by that newer read').to.equal(401);
    } finally {
      hasher.verify = verify;
      await gateway.close();
    }
  });
});

describe('a user read with its account from the account cache', () => {
  it('is as old as that account: an account disabled with no change row to tell of it refuses its users AUTH_STATE_TTL_MS after the account was read', async () => {
    const gateway = await startTestGateway({ env: { AUTH_STATE_TTL_MS: '1000' } });
    try {
      const owner = await gateway.createAccount();
      const created = await restRequest(gateway.app, owner, 'POST', '/v2/api-users', { password: 'Acc0unt-aged' });
      expect(created.status, created.text).to.equal(201);
      const user = { username: (created.body as { username: string }).username, password: 'Acc0unt-aged' };
      const call = (credentials: { username: string; password: string }) => restRequest(gateway.app, credentials, 'GET', '/v2/server-time').then((r) => r.status);
      // The polls fail (see above): only reads keep states and accounts current.
      gateway.gateway.services.authStates.poll = () => Promise.reject(new Error('the change rows cannot be read'));
      await new Promise((resolve) => setTimeout(resolve, 1100)); // what the owner's calls read has aged out
      expect(await call(owner), 'the account read now, with the owner').to.equal(200);
      await gateway.database.models.Account.updateOne({ _id: owner.accountId }, { $set: { disabled: true } }).exec();
      await new Promise((resolve) => setTimeout(resolve, 600));
      expect(await call(user), 'a user read now, with the account as cached: within the TTL of that read').to.equal(200);
      await new Promise((resolve) => setTimeout(resolve, 600));
      expect(await call(user), "past the TTL of the account's read: read again, and refused").to.equal(401);
    } finally {
      await gateway.close();
    }
  });
});

describe('a newcomer', () => {
  const call = (target: TestGateway, username: string, password: string) =>
    restRequest(target.baseUrl, { username, password }, 'GET', '/v2/server-time').then((r) => r.status);

  it('costs three reads: its account is read once for all its users, its last success only once a wrong password counts', async () => {
    // Few polls and quota syncs in the time it takes (both read whatever the number of users).
    const gateway = await startTestGateway({ env: { AUTH_STATE_TTL_MS: '60000', QUOTA_SYNC_MS: '60000', METRICS_TOKEN } });
    try {
      const account = await gateway.createAccount();
      const hash = await gateway.gateway.services.hasher.hash('Newc0mer-pw');
      const usernames = await insertApiUsers(gateway.database, account.accountId, 100, hash);
      const before = await findsSent(gateway);
      expect(new Set(await Promise.all(usernames.map((username) => call(gateway, username, 'Newc0mer-pw'))))).to.deep.equal(new Set([200]));
      // Each: its username, its user, its wrong passwords (none); the account once. Before, five
      // each (the account and the last success every time too).
      expect((await findsSent(gateway)) - before, 'finds for 100 newcomers of one account').to.be.within(300, 310);
    } finally {
      await gateway.close();
    }
  });

  it('removes the rows a success forgave once, not again at every later success (one wrong password must not cost a user writes for ever)', async () => {
    const gateway = await startTestGateway({ env: { AUTH_STATE_TTL_MS: '60000' } });
    try {
      const account = await gateway.createAccount();
      const { authStates } = gateway.gateway.services;
      const { models } = gateway.database;
      // Unlocked two minutes ago, so that wrong passwords a minute old count.
      await models.ApiUser.updateOne({ username: account.username }, { unlockedAt: new Date(Date.now() - 120_000) }).exec();
      const user = (await models.ApiUser.findOne({ username: account.username }).lean().exec())!;
      const sent: string[] = [];
      const client = gateway.database.connection.getClient();
      // What is written about this user (the polls ask by minute, not by user).
      const listener = (event: { commandName: string; command: Record<string, unknown> }) => {
        const ofThisUser = JSON.stringify(event.command).includes(user._id.toHexString());
        if (ofThisUser && ['update', 'delete'].includes(event.commandName)) sent.push(`${event.commandName} ${String(event.command[event.commandName])}`);
      };
      const wrongAt = Date.now() - 60_000;
      const insertWrongPasswords = (at: number) =>
        models.LoginFailure.collection.insertMany([0, 1].map((offset) => ({ userId: user._id, at: new Date(at + offset), minute: clockMinute(at), unlockedAt: user.unlockedAt })));
      await insertWrongPasswords(wrongAt);
      // Successes of this process, as a call makes them, but arrived long enough ago to be settled by the next poll.
      const succeed = async (ago: number) => {
        authStates.addOwnSuccess(await authStates.get(account.username), new Date(Date.now() - ago));
        await authStates.poll();
        await authStates.forgivenessWritten();
        await new Promise((resolve) => setTimeout(resolve, 200)); // the removal runs in the background
      };
      client.on('commandStarted', listener);
      try {
        await succeed(20_000);
        expect(sent, 'the first success after them: written as forgiving them, the older row removed').to.deep.equal(['update apiuseractivity', 'delete loginfailures']);
        expect(await models.LoginFailure.countDocuments({ userId: user._id })).to.equal(1);
        for (const ago of [15_000, 10_000, 6_000]) await succeed(ago);
        expect(sent, 'later successes forgive nothing new: nothing is written').to.have.length(2);
        // A newer wrong password: the next success forgives it, and removes again.
        await insertWrongPasswords(Date.now() - 5_900);
        await authStates.poll();
        await succeed(5_500);
        expect(sent.slice(2)).to.deep.equal(['update apiuseractivity', 'delete loginfailures']);
      } finally {
        client.off('commandStarted', listener);
      }
    } finally {
      await gateway.close();
    }
  });

  it('in a new process is judged by its last success: wrong passwords before it do not count, a lock runs from it', async function () {
    this.timeout(30_000);
    const env = { AUTH_STATE_TTL_MS: '60000', LAST_USED_FLUSH_MS: '50' };
    const there = await startTestGateway({ env });
    try {
      const owner = await there.createAccount();
      const password = 'L4st-success';
      const { id, username } = (await restRequest(there.app, owner, 'POST', '/v2/api-users', { password })).body as { id: string; username: string };
      for (let i = 0; i < 4; i++) expect(await call(there, username, 'not-it-1')).to.equal(401);
      expect(await call(there, username, password)).to.equal(200);
      // Written once settled: once every wrong password before it has had time to land.
      await settled(there);
      // A process that never saw the user: its read finds wrong passwords on record, and so
      // reads the last success, which forgives them.
      const here = await startTestGateway({ env, databaseUri: there.databaseUri });
      try {
        for (let i = 0; i < 4; i++) expect(await call(here, username, 'not-it-2')).to.equal(401);
        expect(await call(here, username, password), 'four before the success and four after: not locked').to.equal(200);
      } finally {
        await here.close();
      }
      const lastSuccess = (await there.database.models.ApiUserActivity.findById(id).lean().exec())!.lastUsed!.getTime();
      // Another that never saw it either, whose read finds no wrong password on record and so
      // does not read the last success: its fifth wrong password in a row locks the user, and
      // the lock's run starts at that success (the event says when), not at the user's creation.
      await there.database.models.LoginFailure.deleteMany({}).exec();
      const third = await startTestGateway({ env, databaseUri: there.databaseUri });
      try {
        for (let i = 0; i < 5; i++) expect(await call(third, username, 'not-it-3')).to.equal(401);
        expect(await call(third, username, password), 'locked').to.equal(401);
        const locks = await there.database.models.AuditEvent.find({ type: 'ApiUserLocked', targetId: id }).lean().exec();
        expect(locks.map((event) => event.details)).to.deep.equal([`5 wrong passwords in a row after its last successful call (${new Date(lastSuccess).toISOString()})`]);
      } finally {
        await third.close();
      }
    } finally {
      await there.close();
    }
  });
});

/** Waits until the successes the gateway let in so far can be settled (see auth/ownSuccesses.ts), and has them settled by a poll. */
async function settled(gateway: TestGateway): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, LATE_FAILURE_ROW_MS + 100));
  await gateway.gateway.services.authStates.poll();
  await gateway.gateway.services.authStates.forgivenessWritten();
}

/** Two gateway processes on one database, with a user made through the first. */
interface TwoProcesses {
  first: TestGateway;
  second: TestGateway;
  owner: TestAccount;
  id: string;
  username: string;
  /** GET /v2/server-time as the user, through one of them, with this password: its status. */
  call(target: TestGateway, password: string): Promise<number>;
}

/** Runs `body` with two processes (`first` started with `firstEnv`, `second` with `secondEnv`), then stops both. */
async function withTwoProcesses(
  firstEnv: Record<string, string>,
  secondEnv: Record<string, string>,
  password: string,
  body: (processes: TwoProcesses) => Promise<void>,
): Promise<void> {
  const first = await startTestGateway({ env: firstEnv });
  const second = await startTestGateway({ env: secondEnv, databaseUri: first.databaseUri });
  try {
    const owner = await first.createAccount();
    const { id, username } = (await restRequest(first.app, owner, 'POST', '/v2/api-users', { password })).body as { id: string; username: string };
    const call = (target: TestGateway, secret: string) => restRequest(target.app, { username, password: secret }, 'GET', '/v2/server-time').then((r) => r.status);
    await body({ first, second, owner, id, username, call });
  } finally {
    await second.close();
    await first.close();
  }
}

describe('a success in another gateway process', () => {
  it('resets the wrong passwords this process counts, as a success here would', async function () {
    this.timeout(30_000);
    const env = { AUTH_STATE_TTL_MS: '400', LAST_USED_FLUSH_MS: '100' };
    const password = 'Sh4red-between';
    await withTwoProcesses(env, env, password, async ({ first: here, second: there, call }) => {
      expect(await call(here, password)).to.equal(200);
      for (let i = 0; i < 3; i++) expect(await call(here, 'not-it-1')).to.equal(401);
      // The other process reads the three, and its success resets them (written once settled,
      // LATE_FAILURE_ROW_MS later); this process hears of it through its polls, without reading
      // the user again.
      expect(await call(there, password)).to.equal(200);
      await new Promise((resolve) => setTimeout(resolve, LATE_FAILURE_ROW_MS + 1000));
      for (let i = 0; i < 2; i++) expect(await call(here, 'not-it-2')).to.equal(401);
      expect(await call(here, password), 'three wrong before the success elsewhere and two after: not locked').to.equal(200);
    });
  });

  it('resets them also when that process counted none: a steady caller there between five wrong passwords here locks nothing', async function () {
    this.timeout(30_000);
    // Polls far apart next to the calls there: it hears of each wrong password after a success.
    const env = { AUTH_STATE_TTL_MS: '1000', LAST_USED_FLUSH_MS: '100' };
    const password = 'St3ady-caller';
    await withTwoProcesses(env, env, password, async ({ first: here, second: there, id, call }) => {
      expect(await call(here, password)).to.equal(200);
      await new Promise((resolve) => setTimeout(resolve, 1000));
      // An integration calling through the other process all the time: its successes reset no
      // wrong password it counts when they are let in (each comes after the last it knows of).
      let calling = true;
      const statuses: number[] = [];
      const steady = (async () => {
        while (calling) {
          statuses.push(await call(there, password));
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      })();
      await new Promise((resolve) => setTimeout(resolve, 1500));
      for (let i = 0; i < 5; i++) {
        expect(await call(here, 'not-it')).to.equal(401);
        // Successes there after the first four, for longer than it takes to hear of them there
        // (a third of the TTL), settle the successes that forgive them (LATE_FAILURE_ROW_MS) and
        // hear of that here.
        await new Promise((resolve) => setTimeout(resolve, i === 3 ? LATE_FAILURE_ROW_MS + 1500 : 300));
      }
      calling = false;
      await steady;
      expect(new Set(statuses)).to.deep.equal(new Set([200]));
      const locks = await here.database.models.AuditEvent.countDocuments({ type: 'ApiUserLocked', targetId: id }).exec();
      expect(locks, 'lock events').to.equal(0);
      expect(await call(here, password), 'successes elsewhere between every wrong password: not locked').to.equal(200);
    });
  });
});

describe('a lock made in another gateway process', () => {
  it('is not lifted by the right password let in here before this process heard of it: once it has, the user stays locked everywhere', async function () {
    this.timeout(30_000);
    // Here polls 20 s apart: it lets the right password in after the lock, as its TTL allows.
    const password = 'L0ck-stands';
    await withTwoProcesses({ AUTH_STATE_TTL_MS: '60000', LAST_USED_FLUSH_MS: '100' }, { AUTH_STATE_TTL_MS: '400' }, password, async ({ first: here, second: there, owner, id, call }) => {
      expect(await call(here, password)).to.equal(200);
      for (let i = 0; i < 5; i++) expect(await call(there, 'not-it')).to.equal(401);
      expect(await call(there, password), 'locked there').to.equal(401);
      expect(await call(here, password), 'not heard of here yet').to.equal(200);
      // Here hears of the five wrong passwords, all before its success: it came during the lock.
      await settled(here);
      expect(await call(here, password), 'locked here once heard of').to.equal(401);
      await new Promise((resolve) => setTimeout(resolve, 1000)); // polls there, and last uses written here
      expect(await call(there, password), 'still locked there').to.equal(401);
      const activity = await there.database.models.ApiUserActivity.findById(id).lean().exec();
      expect(activity?.lastUsed, 'no success written as forgiving them').to.equal(undefined);
      expect(activity?.lastCall, 'the call let in is shown').to.be.instanceOf(Date);
      const user = (await restRequest(there.app, owner, 'GET', `/v2/api-users/${id}`)).body as { locked: boolean; failedLoginCount: number };
      expect(user).to.include({ locked: true, failedLoginCount: 5 });
      expect(await there.database.models.AuditEvent.countDocuments({ type: 'ApiUserLocked', targetId: id }).exec(), 'lock events').to.equal(1);
    });
  });
});

describe('a password reset in another gateway process', () => {
  it('is not undone by the new password sent to a process that has not heard of it yet: those refusals count for nothing', async function () {
    this.timeout(30_000);
    // The second hears of the reset only after the test: its polls are 20 s apart.
    await withTwoProcesses({ AUTH_STATE_TTL_MS: '400' }, { AUTH_STATE_TTL_MS: '60000' }, 'Old-pass-1x', async ({ first: there, second: here, owner, id, call }) => {
      expect(await call(here, 'Old-pass-1x')).to.equal(200);
      await restRequest(there.app, owner, 'PUT', `/v2/api-users/${id}/password`, { password: 'New-pass-2y' });
      // Five machines switch to the new password at once; their calls land where the old one
      // is still known: refused (within AUTH_STATE_TTL_MS, as the contract allows), and recorded.
      const statuses = await Promise.all([0, 1, 2, 3, 4].map(() => call(here, 'New-pass-2y')));
      expect(statuses).to.deep.equal([401, 401, 401, 401, 401]);
      const record = (await restRequest(there.app, owner, 'GET', `/v2/api-users/${id}`)).body as { locked: boolean; failedLoginCount: number };
      expect(record).to.include({ locked: false, failedLoginCount: 0 });
      await new Promise((resolve) => setTimeout(resolve, 1000));
      expect(await call(there, 'New-pass-2y'), 'the new password where the reset was made').to.equal(200);
      // Rows of an earlier version, which say nothing of the password they were checked
      // against, count as before.
      const { models } = there.database;
      const user = (await models.ApiUser.findById(id).lean().exec())!;
      const at = new Date(Date.now() + 10);
      await models.LoginFailure.collection.insertOne({ userId: user._id, at, minute: clockMinute(at.getTime()) });
      expect(await there.gateway.services.loginActivity.recentFailures(user, 5)).to.have.length(1);
    });
  });

  it('locks nothing, nor says so, when refusals of the new password elsewhere reach a process that knew wrong passwords before the reset', async function () {
    this.timeout(30_000);
    await withTwoProcesses({ AUTH_STATE_TTL_MS: '400' }, { AUTH_STATE_TTL_MS: '60000' }, 'Old-pass-3z', async ({ first: there, second: here, owner, id, call }) => {
      expect(await call(here, 'Old-pass-3z')).to.equal(200);
      for (let i = 0; i < 3; i++) expect(await call(there, 'not-it')).to.equal(401);
      await restRequest(there.app, owner, 'PUT', `/v2/api-users/${id}/password`, { password: 'New-pass-4w' });
      // Refused where the reset is not known yet; the process of the reset polls them into the
      // state it had of the user (three wrong passwords), which it read again on use anyway.
      for (let i = 0; i < 2; i++) expect(await call(here, 'New-pass-4w')).to.equal(401);
      await new Promise((resolve) => setTimeout(resolve, 1000));
      expect(await call(there, 'New-pass-4w'), 'the new password where the reset was made').to.equal(200);
      const locks = await there.database.models.AuditEvent.countDocuments({ type: 'ApiUserLocked', targetId: id }).exec();
      expect(locks, 'lock events').to.equal(0);
    });
  });
});

describe('wrong passwords against the new password, beside refusals of it under the old one', () => {
  it('all count, though those refusals are newer: six in a row lock the user', async function () {
    this.timeout(30_000);
    // Neither polls by itself during the test (20 s apart): the second is made to, once.
    await withTwoProcesses({ AUTH_STATE_TTL_MS: '60000' }, { AUTH_STATE_TTL_MS: '60000' }, 'Old-pass-5v', async ({ first: there, second: here, owner, id, call }) => {
      expect(await call(here, 'Old-pass-5v')).to.equal(200);
      expect((await restRequest(there.app, owner, 'PUT', `/v2/api-users/${id}/password`, { password: 'New-pass-6u' })).status).to.equal(200);
      for (let i = 0; i < 3; i++) expect(await call(there, `not-it-${i}`), 'wrong, where the reset is known').to.equal(401);
      // Four machines send the new password where the reset is not known yet: refused against
      // the old one (within AUTH_STATE_TTL_MS, as the contract allows), newer than the three.
      for (let i = 0; i < 4; i++) expect(await call(here, 'New-pass-6u')).to.equal(401);
      await here.gateway.services.authStates.poll(); // hears of the reset
      for (let i = 3; i < 6; i++) expect(await call(here, `not-it-${i}`), 'wrong, now the reset is known').to.equal(401);
      expect(await call(here, 'New-pass-6u'), 'locked by six wrong passwords in a row').to.equal(401);
      const record = (await restRequest(there.app, owner, 'GET', `/v2/api-users/${id}`)).body as { locked: boolean };
      expect(record.locked).to.equal(true);
    });
  });
});

describe('a lock completed by wrong passwords in two gateway processes', () => {
  it('is in the audit log once, written by the process that learnt of it from the other one, not only by one whose refusal counted five', async function () {
    this.timeout(30_000);
    // Neither hears of anything during the test by itself (their polls are 20 s apart): the
    // first is made to poll once both of the second's refusals have landed.
    const password = 'Tw0-halves';
    const env = { AUTH_STATE_TTL_MS: '60000' };
    await withTwoProcesses(env, env, password, async ({ first: here, second: there, id, call }) => {
      expect(await call(there, password)).to.equal(200);
      await here.gateway.services.authStates.poll(); // hears of the user's creation before it reads the user
      for (let i = 0; i < 4; i++) expect(await call(here, 'not-it')).to.equal(401);
      // The fifth and a sixth, where the four are not known: no refusal counted five.
      for (let i = 0; i < 2; i++) expect(await call(there, 'not-it')).to.equal(401);
      const { models } = here.database;
      const fifth = (await models.LoginFailure.find({ userId: id }).sort({ at: 1 }).skip(4).limit(1).lean().exec())[0]!;
      await here.gateway.services.authStates.poll();
      expect(await call(here, password), 'locked where the four were refused').to.equal(401);
      // The event is written in the background.
      for (let attempt = 0; attempt < 40 && (await models.AuditEvent.countDocuments({ type: 'ApiUserLocked', targetId: id }).exec()) === 0; attempt++) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      const locks = await models.AuditEvent.find({ type: 'ApiUserLocked', targetId: id }).lean().exec();
      expect(locks.map(({ at }) => at.getTime()), 'one event, at the fifth wrong password, not the sixth').to.deep.equal([fifth.at.getTime()]);
    });
  });
});
