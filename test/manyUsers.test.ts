// Many integrations at once: a burst of API users never seen before, all calling together, as
// after a deploy. Each user is its own integration with its own password.
import { expect } from 'chai';
import { startTestGateway, type TestAccount, type TestGateway } from './support/gateway.js';
import { restRequest } from './support/rest.js';

const USERS = 120;

describe('a burst of new API users', function () {
  this.timeout(120_000);
  let gateway: TestGateway;
  let owner: TestAccount;
  const users: { username: string; password: string }[] = [];

  before(async () => {
    // Each round's last uses go out in one flush (LAST_USED_FLUSH_MS, here its default).
    gateway = await startTestGateway({ env: { LAST_USED_FLUSH_MS: '1000' } });
    owner = await gateway.createAccount({ name: 'Many Integrations', callsPerHour: 1_000_000 });
    for (let index = 0; index < USERS; index++) {
      const password = `Integration-${index}-secret!`;
      const created = await restRequest(gateway.baseUrl, owner, 'POST', '/v2/api-users', { description: `shop ${index}`, password });
      expect(created.status, created.text).to.equal(201);
      users.push({ username: (created.body as { username: string }).username, password });
    }
  });
  after(() => gateway.close());

  it('serves every one of them, round after round, and the database still answers management at once', async () => {
    // Round 1 creates each user's last-used record, the later rounds update all of them at once:
    // on FerretDB one command updating 100 or more existing documents used to hold every SQLite
    // connection of the database for ever (see src/db/boundedBulkWrite.ts).
    for (let round = 1; round <= 3; round++) {
      const answers = await Promise.all(users.map((user) => restRequest(gateway.baseUrl, user, 'GET', '/v2/account-info')));
      const statuses = answers.map((answer) => answer.status);
      expect(statuses.filter((status) => status !== 200), `round ${round}`).to.deep.equal([]);
      await new Promise((resolve) => setTimeout(resolve, 1500)); // one flush of every user's last use
    }
    const listed = await restRequest(gateway.baseUrl, owner, 'GET', '/v2/api-users?select=1000');
    expect(listed.status, listed.text).to.equal(200);
    const lastUsed = (listed.body as { username: string; lastUsed: string | null }[]).filter((user) => user.lastUsed !== null);
    expect(lastUsed).to.have.length(USERS + 1);
  });
});
