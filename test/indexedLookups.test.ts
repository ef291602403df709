// The reads authentication and the management listings send are index lookups on the database
// the tests run on. A stock FerretDB 1.24 answers none of them from an index (src/db/
// indexedLookups.ts): a user's first call then costs in proportion to the number of API users,
// a burst of them in proportion to its square, and an account's first page of users or events
// in proportion to the whole database. scripts/build-ferretdb.sh builds FerretDB with its
// indexes in use; on MongoDB these reads never COLLSCAN.
import { expect } from 'chai';
import { Types } from 'mongoose';
import { lookupsScanOn } from '../src/db/indexedLookups.js';
import { startTestGateway, type TestGateway } from './support/gateway.js';
import { restRequest } from './support/rest.js';

/** A find as mongoose sends it: the collection and the filter. */
interface SentFind {
  collection: string;
  filter: Record<string, unknown>;
}

describe('lookups by key', () => {
  let gateway: TestGateway;
  let owner: Awaited<ReturnType<TestGateway['createAccount']>>;
  let apiUserId: string;
  let apiUsername: string;

  before(async () => {
    gateway = await startTestGateway();
    owner = await gateway.createAccount({ name: 'Indexed Co' });
    const created = await restRequest(gateway.baseUrl, owner, 'POST', '/v2/api-users', { password: 'Indexed-Shop-1', description: 'Shop' });
    expect(created.status).to.equal(201);
    ({ id: apiUserId, username: apiUsername } = created.body as { id: string; username: string });
    // Another account's users and events: what a listing by scan would read too.
    const other = await gateway.createAccount({ name: 'Other Co' });
    expect((await restRequest(gateway.baseUrl, other, 'POST', '/v2/api-users', { password: 'Indexed-Crm-1', description: 'CRM' })).status).to.equal(201);
    // A call writes the user's last use: every collection read by key then exists.
    expect((await restRequest(gateway.baseUrl, owner, 'GET', '/v2/account-info')).status).to.equal(200);
    await gateway.gateway.services.lastUsed.flush(true);
  });
  after(() => gateway.close());

  async function planOf(find: SentFind): Promise<string> {
    const db = gateway.database.connection.db!;
    return JSON.stringify(await db.collection(find.collection).find(find.filter).explain('queryPlanner'));
  }

  function expectIndexed(explained: string, what: string): void {
    // FerretDB says "SEARCH … USING INDEX …" where it would say "SCAN …" (a stock build, or one
    // without scripts/ferretdb/); MongoDB says IXSCAN or IDHACK, never COLLSCAN.
    expect(explained, what).to.not.match(/COLLSCAN|detail=SCAN /);
    if (explained.includes('ferretdbVersion')) expect(explained, what).to.match(/USING INDEX /);
  }

  it('go through the _id index in every collection authentication reads by key, and the start-up check agrees', async () => {
    const { models } = gateway.database;
    for (const model of [models.Username, models.ApiUser, models.Account, models.ApiUserActivity]) {
      const sample = await model.collection.findOne({}, { projection: { _id: 1 } });
      expect(sample, model.collection.collectionName).to.not.equal(null);
      const explained = await planOf({ collection: model.collection.collectionName, filter: { _id: sample!._id } });
      expectIndexed(explained, model.collection.collectionName);
      if (explained.includes('ferretdbVersion')) expect(explained, model.collection.collectionName).to.match(/USING INDEX \S+__id_/);
    }
    expect(await lookupsScanOn(gateway.database)).to.equal(null);
  });

  it('find what MongoDB finds, through an index as through none: arrays holding the value, ObjectIds apart from their hex strings, $in', async () => {
    const collection = gateway.database.connection.db!.collection<{ _id: number; k?: unknown; j?: unknown }>('pushdown_semantics');
    await collection.createIndex({ k: 1 });
    const id = new Types.ObjectId();
    await collection.insertMany([
      { _id: 1, k: 'x' },
      { _id: 2, k: ['y', 'x'] },
      { _id: 3, k: [{ k: 'x' }, 'w'] },
      { _id: 4, k: id },
      { _id: 5, k: id.toHexString() },
      { _id: 6, k: { x: 1 } },
      { _id: 7, k: 'x', j: 'other' },
      { _id: 8 },
      { _id: 9, k: [id, 'z'] },
      { _id: 10, k: 'X' },
    ]);
    const ids = async (filter: Record<string, unknown>) => (await collection.find(filter).sort({ _id: 1 }).toArray()).map((doc) => doc._id);
    expect(await ids({ k: 'x' })).to.deep.equal([1, 2, 7]);
    expect(await ids({ k: 'x', j: 'other' })).to.deep.equal([7]);
    expect(await ids({ k: id })).to.deep.equal([4, 9]);
    expect(await ids({ k: id.toHexString() })).to.deep.equal([5]);
    expect(await ids({ k: { $in: ['y', 'z'] } })).to.deep.equal([2, 9]);
    expect(await ids({ k: { $in: [id, 'X'] } })).to.deep.equal([4, 9, 10]);
    expect(await ids({ k: { $in: ['x', 5] } })).to.deep.equal([1, 2, 7]);
    expect(await ids({ k: 'x', $comment: 'a comment is not a field' })).to.deep.equal([1, 2, 7]);
    expect(await collection.countDocuments({ k: 'x' })).to.equal(3);
    expect((await collection.updateMany({ k: 'y' }, { $set: { j: 'updated' } })).modifiedCount).to.equal(1);
    expect(await ids({ j: 'updated' })).to.deep.equal([2]);
    expect((await collection.deleteMany({ k: { $in: [id] } })).deletedCount).to.equal(2);
    expect(await ids({})).to.deep.equal([1, 2, 3, 5, 6, 7, 8, 10]);
  });

  it('answer the listings of API users and audit events, a wrong password and the poll for wrong passwords, from indexes', async () => {
    const sent: SentFind[] = [];
    gateway.database.connection.set('debug', (collection: string, method: string, filter: unknown) => {
      if (method === 'find' || method === 'findOne') sent.push({ collection, filter: filter as Record<string, unknown> });
    });
    try {
      const calls: Array<[string, number]> = [
        ['/v2/api-users?select=10', 200],
        ['/v2/audit-events?select=10', 200],
        [`/v2/audit-events?select=10&apiUserId=${apiUserId}`, 200],
      ];
      for (const [path, status] of calls) expect((await restRequest(gateway.baseUrl, owner, 'GET', path)).status, path).to.equal(status);
      // A user never seen by this process: its state is read cold, and the wrong password counted.
      const wrong = { username: apiUsername, password: 'Not-its-password-1' };
      expect((await restRequest(gateway.baseUrl, wrong, 'GET', '/v2/account-info')).status).to.equal(401);
      // Every process's poll for the wrong passwords of the last moments, whoever's: twice, as
      // the first may join a poll of the timer's that began before the capture.
      await gateway.gateway.services.authStates.poll();
      await gateway.gateway.services.authStates.poll();
    } finally {
      gateway.database.connection.set('debug', false);
    }
    const listings = sent.filter((find) => find.collection === 'apiusers' || find.collection === 'auditevents');
    expect(listings.map((find) => find.collection)).to.include.members(['apiusers', 'auditevents']);
    const failureReads = sent.filter((find) => find.collection === 'loginfailures');
    expect(failureReads.some((find) => 'userId' in find.filter), "the user's own").to.equal(true);
    expect(failureReads.some((find) => 'minute' in find.filter), "the poll's").to.equal(true);
    // The poll's range on the change rows is the one read left to scan on FerretDB: they are
    // kept a minute, so it reads a minute of changes, whatever the number of users.
    for (const find of sent.filter(({ collection }) => collection !== 'authchanges')) {
      expectIndexed(await planOf(find), `${find.collection} ${JSON.stringify(find.filter)}`);
    }
  });
});
