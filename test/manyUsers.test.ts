// Many integrations at once: a burst of API users never seen before, all calling together, as
// after a deploy. Each user is its own integration with its own password.
import { expect } from 'chai';
import { createAccountIn, startTestGateway, uniqueDatabaseUri, type TestAccount, type TestGateway } from './support/gateway.js';
import { connectDatabase } from '../src/db/connection.js';
import { restRequest } from './support/rest.js';
import { insertApiUsers } from './support/bulkUsers.js';
import { PasswordHasher } from '../src/domain/passwords.js';

const USERS = 120;

describe('a burst of new API users', function () {
  this.timeout(120_000);
  let gateway: TestGateway;
  let redeployed: TestGateway | undefined;
  let owner: TestAccount;
  const users: { username: string; password: string }[] = [];

  before(async () => {
    // Each round's last uses go out in one flush (LAST_USED_FLUSH_MS, here its default). No
    // compare is shed (BCRYPT_QUEUE_MAX_WAIT_MS): on a loaded machine the queue's estimate of
    // the burst's wait can pass the default bound, and shedding is tested below.
    gateway = await startTestGateway({ env: { LAST_USED_FLUSH_MS: '1000', BCRYPT_QUEUE_MAX_WAIT_MS: '60000' } });
    owner = await gateway.createAccount({ name: 'Many Integrations', callsPerHour: 1_000_000 });
    for (let index = 0; index < USERS; index++) {
      const password = `Integration-${index}-secret!`;
      const created = await restRequest(gateway.baseUrl, owner, 'POST', '/v2/api-users', { description: `shop ${index}`, password });
      expect(created.status, created.text).to.equal(201);
      users.push({ username: (created.body as { username: string }).username, password });
    }
  });
  after(async () => {
    await redeployed?.close();
    await gateway.close();
  });

  it('serves every one of them, before and after a redeploy, and the database still answers management at once', async () => {
    const round = async (target: TestGateway, name: string) => {
      const answers = await Promise.all(users.map((user) => restRequest(target.baseUrl, user, 'GET', '/v2/account-info')));
      expect(answers.map((answer) => answer.status).filter((status) => status !== 200), name).to.deep.equal([]);
      await new Promise((resolve) => setTimeout(resolve, 1500)); // a flush of the last uses, where one is due
    };
    // The first round creates each user's last-used record. After a redeploy (a new process on
    // the same database) every user comes back at once and its first flush updates all of those
    // records: on FerretDB one command updating 100 or more existing documents used to hold
    // every SQLite connection of the database for ever (see src/db/boundedBulkWrite.ts).
    await round(gateway, 'first round');
    redeployed = await startTestGateway({ databaseUri: gateway.databaseUri, env: { LAST_USED_FLUSH_MS: '60000', BCRYPT_QUEUE_MAX_WAIT_MS: '60000' } });
    await round(redeployed, 'after the redeploy');
    // Every user's last use in one flush, as the redeployed process's first one (or its last,
    // at shutdown) writes them.
    await redeployed.gateway.services.lastUsed.flush(true);
    await round(redeployed, 'and again');
    const listed = await restRequest(redeployed.baseUrl, owner, 'GET', '/v2/api-users?select=1000');
    expect(listed.status, listed.text).to.equal(200);
    const lastUsed = (listed.body as { username: string; lastUsed: string | null }[]).filter((user) => user.lastUsed !== null);
    expect(lastUsed).to.have.length(USERS + 1);
  });
});

describe('a cold storm at bcrypt cost 12', function () {
  this.timeout(120_000);
  const STORM = 40;
  const PASSWORD = 'Shared-integration-secret-1';
  let gateway: TestGateway;
  let owner: TestAccount;
  let usernames: string[];

  before(async () => {
    // The production cost, two compare threads whatever the machine's cores, and a queue bound
    // of two seconds: some twenty compares fit in it, and the storm is twice that.
    gateway = await startTestGateway({ env: { BCRYPT_COST: '12', BCRYPT_POOL_SIZE: '2', BCRYPT_QUEUE_MAX_WAIT_MS: '2000' } });
    owner = await gateway.createAccount({ name: 'Cold Storm', callsPerHour: 1_000_000 });
    const hash = await new PasswordHasher(12).hash(PASSWORD);
    usernames = await insertApiUsers(gateway.database, owner.accountId, STORM, hash);
  });
  after(() => gateway.close());

  it('serves newcomers in turn, tells the rest to come back, and never holds up a verified caller', async () => {
    expect((await restRequest(gateway.baseUrl, owner, 'GET', '/v2/account-info')).status).to.equal(200);
    let stormAnswered = 0;
    const storm = Promise.all(
      usernames.map(async (username) => {
        const answer = await restRequest(gateway.baseUrl, { username, password: PASSWORD }, 'GET', '/v2/account-info');
        stormAnswered += 1;
        return answer;
      }),
    );
    // The verified caller, while the storm is queued: its calls pass without a compare.
    const warm: number[] = [];
    for (let call = 0; call < 20; call++) warm.push((await restRequest(gateway.baseUrl, owner, 'GET', '/v2/account-info')).status);
    const answeredWhenWarmDone = stormAnswered;
    const answers = await storm;
    expect(warm.every((status) => status === 200), JSON.stringify(warm)).to.equal(true);
    expect(answeredWhenWarmDone, 'the verified caller was done before the storm was').to.be.below(STORM);
    const statuses = answers.map((answer) => answer.status);
    expect(statuses.every((status) => status === 200 || status === 503), JSON.stringify(statuses)).to.equal(true);
    expect(statuses.filter((status) => status === 200).length, 'some served at once').to.be.above(0);
    const shed = answers.filter((answer) => answer.status === 503);
    expect(shed.length, 'the rest told to come back').to.be.above(0);
    for (const answer of shed) {
      expect(answer.headers.get('retry-after')).to.match(/^[1-9]\d*$/);
      expect((answer.body as { message: string }).message).to.match(/ERROR_SYSTEM_SERVICETEMPORARILYUNAVAILABLE$/);
    }
    // Coming back when told, every newcomer is served.
    let waiting = usernames.filter((_, index) => statuses[index] !== 200);
    for (let round = 0; round < 40 && waiting.length > 0; round++) {
      await new Promise((resolve) => setTimeout(resolve, 1000)); // Retry-After, at its least
      const again = await Promise.all(waiting.map((username) => restRequest(gateway.baseUrl, { username, password: PASSWORD }, 'GET', '/v2/account-info')));
      waiting = waiting.filter((_, index) => again[index]!.status !== 200);
    }
    expect(waiting, 'every newcomer served in the end').to.deep.equal([]);
  });
});

describe('while bcrypt compares are being shed', function () {
  this.timeout(60_000);
  let gateway: TestGateway;
  let owner: TestAccount;
  const lines: string[] = [];

  before(async () => {
    // One slot and no waiting: whenever a compare runs, the next caller needing one is shed.
    gateway = await startTestGateway({ env: { BCRYPT_COST: '12', BCRYPT_POOL_SIZE: '1', BCRYPT_QUEUE_MAX_WAIT_MS: '0' }, logLines: lines });
    owner = await gateway.createAccount({ name: 'Shedding' });
  });
  after(() => gateway.close());

  it('a wrong password for a user whose right one is known is shed like any other, not refused with a 401 that would tell it apart', async () => {
    expect((await restRequest(gateway.baseUrl, owner, 'GET', '/v2/account-info')).status).to.equal(200); // verified, cached
    const newcomer = await restRequest(gateway.baseUrl, owner, 'POST', '/v2/api-users', { password: 'Newcomer-secret-1' });
    const { username } = newcomer.body as { username: string };
    const cold = restRequest(gateway.baseUrl, { username, password: 'Newcomer-secret-1' }, 'GET', '/v2/account-info');
    // Until its compare (~165 ms at cost 12) is running: then the queue sheds whoever needs one.
    const { hasher } = gateway.gateway.services;
    for (let waited = 0; !hasher.overloaded() && waited < 10_000; waited += 2) await new Promise((resolve) => setTimeout(resolve, 2));
    expect(hasher.overloaded(), 'the newcomer is being verified').to.equal(true);
    const wrong = await restRequest(gateway.baseUrl, { username: owner.username, password: 'not-the-password-1' }, 'GET', '/v2/account-info');
    expect(wrong.status, wrong.text).to.equal(503);
    expect(wrong.headers.get('retry-after')).to.match(/^[1-9]\d*$/);
    // Shedding is the gateway's choice, not a fault: a warning, or a storm would log thousands of errors.
    const shedLine = lines.map((line) => JSON.parse(line) as Record<string, unknown>).find((line) => line.requestId === wrong.headers.get('x-request-id'));
    expect(shedLine).to.include({ msg: 'request', level: 40, status: 503, error: 'ERROR_SYSTEM_SERVICETEMPORARILYUNAVAILABLE' });
    expect((await cold).status).to.equal(200);
    const later = await restRequest(gateway.baseUrl, { username: owner.username, password: 'not-the-password-1' }, 'GET', '/v2/account-info');
    expect(later.status, 'once nothing is shed, the usual 401').to.equal(401);
  });

  // A wrong password for a user whose right one is known here, sent while compares are shed.
  const guessesWhileShedding = async (target: TestGateway, manager: TestAccount) => {
    const created = await restRequest(target.baseUrl, manager, 'POST', '/v2/api-users', { password: 'Guarded-secret-1' });
    expect(created.status, created.text).to.equal(201);
    const victim = { username: (created.body as { username: string }).username, password: 'Guarded-secret-1' };
    expect((await restRequest(target.baseUrl, victim, 'GET', '/v2/account-info')).status, 'verified, cached').to.equal(200);
    // Unknown users, one after the other on four connections: each needs a (dummy) compare,
    // so the one slot is nearly always busy and whoever else needs one is shed.
    const { hasher } = target.gateway.services;
    let storming = true;
    const storm = Promise.all(
      Array.from({ length: 4 }, async (_, caller) => {
        for (let index = 0; storming; index++) {
          const { status } = await restRequest(target.baseUrl, { username: `ghost-${caller}-${index}@dualgate.local`, password: 'whatever-1' }, 'GET', '/v2/server-time');
          if (status === 503) await new Promise((resolve) => setTimeout(resolve, 5));
        }
      }),
    );
    const whileShedding = async (password: string) => {
      for (let waited = 0; !hasher.overloaded() && waited < 10_000; waited += 1) await new Promise((resolve) => setTimeout(resolve, 1));
      return (await restRequest(target.baseUrl, { ...victim, password }, 'GET', '/v2/account-info')).status;
    };
    try {
      // A 503 (shed) or, should the slot be free at that instant, a 401: counted either way.
      const wrong = [];
      for (let attempt = 1; attempt <= 5; attempt++) wrong.push(await whileShedding(`guess-${attempt}-x`));
      expect(wrong.every((status) => status === 503 || status === 401), String(wrong)).to.equal(true);
      expect(wrong.filter((status) => status === 503).length, `shed: ${String(wrong)}`).to.be.above(0);
      // Locked now: the right password is refused, and while shedding it gets what a wrong one
      // gets (a 401 for it alone would tell the right guess from the others).
      const right = [];
      for (let attempt = 1; attempt <= 5; attempt++) right.push(await whileShedding(victim.password));
      expect(right.every((status) => status === 503 || status === 401), String(right)).to.equal(true);
      expect(right.filter((status) => status === 503).length, `shed: ${String(right)}`).to.be.above(0);
    } finally {
      storming = false;
      await storm;
    }
    expect((await restRequest(target.baseUrl, victim, 'GET', '/v2/account-info')).status, 'locked by the five').to.equal(401);
    const listed = (await restRequest(target.baseUrl, manager, 'GET', `/v2/api-users/${(created.body as { id: string }).id}`)).body as { locked: boolean };
    expect(listed.locked).to.equal(true);
  };

  it('counts the wrong passwords it sheds towards the lockout, and sheds a locked user\'s right password as it sheds a wrong one', () => guessesWhileShedding(gateway, owner));

  it('does so also for a user whose state is not held (AUTH_STATE_TTL_MS=0: every call reads it): guesses are not shed before they are counted', async () => {
    const fresh = await startTestGateway({ env: { BCRYPT_COST: '12', BCRYPT_POOL_SIZE: '1', BCRYPT_QUEUE_MAX_WAIT_MS: '0', AUTH_STATE_TTL_MS: '0' } });
    try {
      await guessesWhileShedding(fresh, await fresh.createAccount({ name: 'Shedding, uncached' }));
    } finally {
      await fresh.close();
    }
  });
});

describe('a gateway starting on a database of many API users', function () {
  this.timeout(120_000);
  const USERS_IN_DATABASE = 6000;

  it('starts and serves although its start-up reads of whole collections take longer than a call may wait', async () => {
    // The gateway reads the users once at start (usernames to index, leftovers to publish). On
    // FerretDB that decodes every document: 6,000 users take longer than this bound of a call,
    // and those reads used to carry it, so the gateway could not start at all.
    const databaseUri = uniqueDatabaseUri();
    const seed = await connectDatabase(databaseUri, { operationTimeoutMs: 120_000 });
    let gateway: TestGateway | undefined;
    try {
      const { account, credentials } = await createAccountIn(seed, 'Crowded Co');
      await insertApiUsers(seed, account._id, USERS_IN_DATABASE, await new PasswordHasher(4).hash('Crowded-secret-1'));
      gateway = await startTestGateway({ databaseUri, env: { DB_OPERATION_TIMEOUT_MS: '100' } });
      const answer = await restRequest(gateway.baseUrl, credentials, 'GET', '/v2/account-info');
      expect(answer.status, answer.text).to.equal(200);
    } finally {
      await gateway?.close();
      await seed.connection.dropDatabase().catch(() => {});
      await seed.close();
    }
  });
});
