// The hourly call quota: headers on every authenticated answer, counted across protocols,
// users and gateway processes.
import { expect } from 'chai';
import { withinOneClockHour } from './support/clockHour.js';
import { startTestGateway, type TestGateway } from './support/gateway.js';
import { restRequest } from './support/rest.js';
import { soapCall } from './support/soap.js';

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
});
