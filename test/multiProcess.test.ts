// Several gateway processes on one database behave as one service: lockout counts across them
// and locks after exactly five, the quota is shared within the documented overshoot, and a
// change made through one is honoured by the others within AUTH_STATE_TTL_MS, and changes made
// through two at once are both kept.
import { expect } from 'chai';
import type { ChildProcess } from 'node:child_process';
import { connectDatabase, type Database } from '../src/db/connection.js';
import { withinOneClockHour } from './support/clockHour.js';
import { createAccountIn, uniqueDatabaseUri } from './support/gateway.js';
import { exitOf, startGatewayProcess } from './support/processes.js';
import { restRequest } from './support/rest.js';

const TTL_MS = 500;
const SYNC_MS = 250;

describe('three gateway processes on one database', function () {
  this.timeout(120_000);
  let database: Database;
  let processes: ChildProcess[] = [];
  let urls: string[] = [];
  let owner: { username: string; password: string };
  const call = (url: string, credentials: { username: string; password: string }) =>
    restRequest(url, credentials, 'GET', '/v2/server-time').then((response) => response.status);

  before(async () => {
    const databaseUri = uniqueDatabaseUri();
    database = await connectDatabase(databaseUri);
    owner = (await createAccountIn(database, 'Scaled Out', 100_000)).credentials;
    const env = { MONGODB_URI: databaseUri, AUTH_STATE_TTL_MS: String(TTL_MS), QUOTA_SYNC_MS: String(SYNC_MS) };
    urls = await Promise.all(
      [0, 1, 2].map(async () => {
        const started = await startGatewayProcess(env);
        processes.push(started.child); // stopped by after() even if another fails to start
        return started.baseUrl;
      }),
    );
  });
  after(async () => {
    for (const child of processes) child.kill('SIGTERM');
    await Promise.all(processes.map(exitOf));
    await database.connection.dropDatabase();
    await database.close();
  });

  const newUser = async (password: string) => {
    const body = (await restRequest(urls[0]!, owner, 'POST', '/v2/api-users', { password })).body as { id: string; username: string };
    return { ...body, password };
  };

  it('locks after exactly five wrong passwords spread over the processes, and then on every one within the TTL', async () => {
    const four = await newUser('F0ur-is-fine');
    await Promise.all([0, 1, 2, 0].map((index) => call(urls[index]!, { ...four, password: 'nope' })));
    for (const url of urls) expect(await call(url, four), 'four wrong passwords do not lock').to.equal(200);

    // One user the processes have not read yet, one they have (let in once on each): once the
    // users' creation is heard of everywhere, nothing but the polls tells a process of the
    // others' wrong passwords. Sent at once, some arrive in the same millisecond.
    const [unread, known] = await Promise.all([newUser('F1ve-locks-it'), newUser('F1ve-locks-too')]);
    for (const url of urls) expect(await call(url, known)).to.equal(200);
    await new Promise((resolve) => setTimeout(resolve, TTL_MS + 100));
    for (const five of [unread, known]) {
      const statuses = await Promise.all([0, 1, 2, 0, 1].map((index) => call(urls[index]!, { ...five, password: 'nope' })));
      expect(statuses).to.deep.equal([401, 401, 401, 401, 401]);
      // Each process counts its own wrong passwords at once, and the others' within the TTL.
      await new Promise((resolve) => setTimeout(resolve, TTL_MS + 100));
      for (const url of urls) expect(await call(url, five), `${five.username} locked on ${url}`).to.equal(401);
      const record = (await restRequest(urls[2]!, owner, 'GET', `/v2/api-users/${five.id}`)).body as { locked: boolean; failedLoginCount: number };
      expect(record).to.include({ locked: true, failedLoginCount: 5 });
      // Whichever process counted the fifth (often none: each knew only its own), and however
      // many learnt of the lock, it is in the audit log once.
      const locks = await database.models.AuditEvent.countDocuments({ type: 'ApiUserLocked', targetId: five.id }).exec();
      expect(locks, `${five.username}'s lock events`).to.equal(1);
    }
    expect(await database.models.AuditEvent.countDocuments({ type: 'ApiUserLocked', targetId: four.id }).exec(), 'four wrong passwords: no lock event').to.equal(0);
  });

  it('shares the quota: the sum over the processes stays within the limit plus one sync interval of the others', async function () {
    await withinOneClockHour(this, 20_000);
    const limit = 30;
    const account = (await createAccountIn(database, 'Quota Co', limit)).credentials;
    // Each process gets one call every 100 ms: 2.5 per sync interval each.
    let accepted = 0;
    for (let round = 0; round < 20; round++) {
      const statuses = await Promise.all(urls.map((url) => call(url, account)));
      accepted += statuses.filter((status) => status === 200).length;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const overshoot = 2 * Math.ceil(SYNC_MS / 100); // what the two others accept in one interval
    expect(accepted).to.be.at.least(limit);
    expect(accepted).to.be.at.most(limit + overshoot);
  });

  it('keeps both of two changes to one user made through two processes at the same instant', async () => {
    // Each process runs its own changes of a user one at a time; across processes only the
    // database can keep both: FerretDB as the build script makes it (its third patch) does.
    const users = await Promise.all(Array.from({ length: 10 }, (_, index) => newUser(`B0th-kept-${index}`)));
    const changes = await Promise.all(
      users.flatMap((user) => [
        restRequest(urls[1]!, owner, 'PUT', `/v2/api-users/${user.id}`, { enabled: false }),
        restRequest(urls[2]!, owner, 'PUT', `/v2/api-users/${user.id}`, { description: `changed ${user.id}` }),
      ]),
    );
    expect(changes.map((change) => change.status)).to.deep.equal(changes.map(() => 200));
    for (const user of users) {
      const read = (await restRequest(urls[0]!, owner, 'GET', `/v2/api-users/${user.id}`)).body as { enabled: boolean; description: string };
      expect(read, user.id).to.include({ enabled: false, description: `changed ${user.id}` });
    }
  });

  it('honours a password reset, a disable and a delete made through one process on the others within the TTL', async () => {
    const [reset, disabled, deleted] = await Promise.all([newUser('R3set-me-pw'), newUser('D1sable-me-pw'), newUser('D3lete-me-pw')]);
    for (const url of urls) for (const user of [reset, disabled, deleted]) expect(await call(url, user)).to.equal(200);
    await restRequest(urls[0]!, owner, 'PUT', `/v2/api-users/${reset.id}/password`, { password: 'N3w-secret-x' });
    await restRequest(urls[0]!, owner, 'PUT', `/v2/api-users/${disabled.id}`, { enabled: false });
    await restRequest(urls[0]!, owner, 'DELETE', `/v2/api-users/${deleted.id}`);
    expect(await call(urls[0]!, reset), 'at once in the process that made it').to.equal(401);
    await new Promise((resolve) => setTimeout(resolve, TTL_MS + 300));
    for (const url of urls.slice(1)) {
      expect(await call(url, reset)).to.equal(401);
      expect(await call(url, { ...reset, password: 'N3w-secret-x' })).to.equal(200);
      expect(await call(url, disabled)).to.equal(401);
      expect(await call(url, deleted)).to.equal(401);
    }
  });
});
