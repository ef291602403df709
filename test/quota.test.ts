// The hourly call quota: headers on every authenticated answer, counted across protocols,
// users and gateway processes.
import { expect } from 'chai';
import { Types } from 'mongoose';
import { MAX_UPDATES_PER_COMMAND } from '../src/db/boundedBulkWrite.js';
import { connectDatabase, type Database } from '../src/db/connection.js';
import { CallQuota } from '../src/domain/callQuota.js';
import { HOUR_MS } from '../src/domain/clockHours.js';
import { withinOneClockHour } from './support/clockHour.js';
import { startTestGateway, uniqueDatabaseUri, type TestGateway } from './support/gateway.js';
import { restRequest } from './support/rest.js';
import { soapCall } from './support/soap.js';

/** A database of the test's own: counters of made-up hours, and commands counted without a gateway's. */
async function withOwnDatabase(test: (database: Database) => Promise<void>): Promise<void> {
  const database = await connectDatabase(uniqueDatabaseUri());
  try {
    await test(database);
  } finally {
    await database.connection.dropDatabase().catch(() => {});
    await database.close();
  }
}

describe('call quota', () => {
  let gateway: TestGateway;
  before(async () => {
    gateway = await startTestGateway();
  });
  after(() => gateway.close());
  // Each test counts its calls within one window of the quota.
  beforeEach(async function () {
    await withinOneClockHour(this, 30_000);
  });

  it('sends X-RateLimit-* on every authenticated answer, errors included, and counts down', async () => {
    const account = await gateway.createAccount({ callsPerHour: 50 });
    const first = await restRequest(gateway.app, account, 'GET', '/v2/server-time');
    const notFound = await restRequest(gateway.app, account, 'GET', '/v2/api-users/000000000000000000000000');
    const soap = await soapCall(gateway.app, account, 'GetApiUserById', '<id>x</id>');
    expect(first.headers.get('x-ratelimit-limit')).to.equal('50');
    expect(first.headers.get('x-ratelimit-remaining')).to.equal('49');
    expect(notFound.headers.get('x-ratelimit-remaining')).to.equal('48');
    expect(soap.headers.get('x-ratelimit-remaining')).to.equal('47');
    const reset = Number(first.headers.get('x-ratelimit-reset'));
    const secondsLeftInHour = 3600 - Math.floor((Date.now() % 3_600_000) / 1000);
    expect(reset).to.be.within(secondsLeftInHour - 5, secondsLeftInHour + 1);
    const info = (await restRequest(gateway.app, account, 'GET', '/v2/account-info')).body as { properties: Array<{ name: string; value: string }> };
    const value = (name: string) => info.properties.find((property) => property.name === name)?.value;
    expect(value('ApiCallsInLastHour')).to.equal('4');
    expect(value('ApiCallsRemaining')).to.equal('46');
  });

  it('counts every API user of the account together', async () => {
    const account = await gateway.createAccount({ callsPerHour: 4 });
    const other = (await restRequest(gateway.app, account, 'POST', '/v2/api-users', { password: 'Sh4red-quota' })).body as { username: string };
    await restRequest(gateway.app, { username: other.username, password: 'Sh4red-quota' }, 'GET', '/v2/server-time');
    await restRequest(gateway.app, account, 'GET', '/v2/server-time');
    const last = await restRequest(gateway.app, { username: other.username, password: 'Sh4red-quota' }, 'GET', '/v2/server-time');
    expect(last.status).to.equal(200);
    expect(last.headers.get('x-ratelimit-remaining')).to.equal('0');
    expect((await restRequest(gateway.app, account, 'GET', '/v2/server-time')).status).to.equal(429);
  });

  it('is shared by two gateways on one database, never exceeding the limit (synchronous counting)', async () => {
    const second = await startTestGateway({ databaseUri: gateway.databaseUri });
    try {
      const account = await gateway.createAccount({ callsPerHour: 10 });
      const statuses: number[] = [];
      for (let i = 0; i < 16; i++) {
        statuses.push((await restRequest(i % 2 ? second.baseUrl : gateway.baseUrl, account, 'GET', '/v2/server-time')).status);
      }
      expect(statuses.filter((status) => status === 200)).to.have.length(10);
      expect(statuses.slice(10).every((status) => status === 429)).to.equal(true);
    } finally {
      await second.close();
    }
  });

  it('with QUOTA_SYNC_MS, one process stays exact and two overshoot only within a sync interval', async () => {
    const first = await startTestGateway({ env: { QUOTA_SYNC_MS: '200' } });
    const second = await startTestGateway({ env: { QUOTA_SYNC_MS: '200' }, databaseUri: first.databaseUri });
    try {
      const alone = await first.createAccount({ callsPerHour: 20 });
      const statuses = await Promise.all(Array.from({ length: 30 }, () => restRequest(first.app, alone, 'GET', '/v2/server-time').then((r) => r.status)));
      expect(statuses.filter((status) => status === 200), 'one process alone is exact').to.have.length(20);

      const shared = await first.createAccount({ callsPerHour: 20 });
      // Both processes learn of the account's window, then the others' counts sync.
      await restRequest(first.app, shared, 'GET', '/v2/server-time');
      await restRequest(second.app, shared, 'GET', '/v2/server-time');
      let accepted = 2;
      for (let round = 0; round < 6; round++) {
        const burst = await Promise.all([
          ...Array.from({ length: 3 }, () => restRequest(first.app, shared, 'GET', '/v2/server-time')),
          ...Array.from({ length: 3 }, () => restRequest(second.app, shared, 'GET', '/v2/server-time')),
        ]);
        accepted += burst.filter((response) => response.status === 200).length;
        await new Promise((resolve) => setTimeout(resolve, 450));
      }
      expect(accepted).to.be.at.least(20);
      // The other process accepts at most 3 calls (one burst) in a sync interval here.
      expect(accepted).to.be.at.most(23);
      await first.gateway.services.quota.flush();
      await second.gateway.services.quota.flush();
      const counted = await first.database.models.QuotaCounter.find({ accountId: shared.accountId }).lean();
      expect(counted.reduce((sum, counter) => sum + counter.count, 0), 'the database holds every accepted call').to.equal(accepted);
    } finally {
      await second.close();
      await first.close();
    }
  });

  it('holds the counters of the current hour only, counting synchronously (QUOTA_SYNC_MS=0) too', () =>
    withOwnDatabase(async (database) => {
      let now = Date.UTC(2031, 0, 1, 9, 30);
      const quota = new CallQuota(database.models, 0, () => now);
      const accounts = Array.from({ length: 5 }, () => new Types.ObjectId());
      for (let hour = 0; hour < 3; hour++) {
        for (const account of accounts) expect((await quota.consume(account, 10)).used).to.equal(1);
        expect(quota.countersHeld, `hour ${hour}`).to.equal(accounts.length);
        now += HOUR_MS;
      }
      await quota.close();
    }));

  it('syncs the counts of many accounts in a few commands, not two per account, and sums the other processes\' right', () =>
    withOwnDatabase(async (database) => {
      const { models } = database;
      const now = () => Date.UTC(2031, 0, 2, 9, 30);
      // Syncs only when told (flush), not on a timer, within the idle bound.
      const here = new CallQuota(models, 60_000, now);
      const there = new CallQuota(models, 60_000, now);
      const accounts = Array.from({ length: 600 }, () => new Types.ObjectId());
      for (const [index, account] of accounts.entries()) {
        await here.consume(account, 1000);
        for (let call = 0; call < index % 3; call++) await there.consume(account, 1000);
      }
      await there.flush();
      const client = database.connection.getClient();
      const commands: string[] = [];
      const count = (event: { commandName: string }) => void commands.push(event.commandName);
      client.on('commandStarted', count);
      try {
        await here.flush();
      } finally {
        client.off('commandStarted', count);
      }
      // 600 accounts' others read at 500 a query, their counts written at MAX_UPDATES_PER_COMMAND a command.
      expect(commands.sort()).to.deep.equal(['find', 'find', ...Array<string>(Math.ceil(600 / MAX_UPDATES_PER_COMMAND)).fill('update')]);
      for (const [index, account] of accounts.entries()) {
        expect((await here.consume(account, 1000)).used, `account ${index}`).to.equal(2 + (index % 3));
      }
      await Promise.all([here.close(), there.close()]);
      const stored = await models.QuotaCounter.find({ accountId: { $in: accounts } }).lean();
      expect(stored.reduce((sum, counter) => sum + counter.count, 0), 'every count written').to.equal(600 * 2 + 600);
    }));
});
