// The database the tests run on applies each update atomically and finishes an update command
// of any length: FerretDB as scripts/build-ferretdb.sh builds it (3-atomic-updates.patch; a
// stock FerretDB 1.24 kept 4 of 400 concurrent $inc and hung on a command of 101 statements),
// and MongoDB. What the gateway writes from several processes at once relies on it.
import { expect } from 'chai';
import mongoose from 'mongoose';
import { uniqueDatabaseUri } from './support/gateway.js';

describe('updates on the database', function () {
  this.timeout(60_000);
  // Four clients, as four processes would be: nothing in the driver orders their commands.
  let clients: mongoose.mongo.MongoClient[] = [];
  const collection = (index: number) => clients[index % clients.length]!.db().collection<{ _id: mongoose.mongo.ObjectId; n: number; fields?: Record<string, boolean> }>('counters');

  before(async () => {
    const databaseUri = uniqueDatabaseUri();
    clients = await Promise.all(Array.from({ length: 4 }, () => new mongoose.mongo.MongoClient(databaseUri, { maxPoolSize: 25 }).connect()));
  });
  after(async () => {
    await clients[0]?.db().dropDatabase();
    await Promise.all(clients.map((client) => client.close()));
  });

  it('keeps every one of concurrent updates and findAndModify of one document', async () => {
    const _id = new mongoose.mongo.ObjectId();
    await collection(0).insertOne({ _id, n: 0, fields: {} });
    const count = 400;
    const returned = await Promise.all(
      Array.from({ length: count }, (_, index) =>
        index % 2
          ? collection(index).updateOne({ _id }, { $inc: { n: 1 } }).then(() => undefined)
          : collection(index)
              .findOneAndUpdate({ _id }, { $inc: { n: 1 }, $set: { [`fields.f${index}`]: true } }, { returnDocument: 'after' })
              .then((after) => after?.n),
      ),
    );
    const stored = await collection(0).findOne({ _id });
    expect(stored?.n).to.equal(count);
    expect(Object.keys(stored?.fields ?? {})).to.have.length(count / 2);
    // Each findAndModify saw the document as its own update left it: no two the same count.
    const seen = returned.filter((n) => n !== undefined);
    expect(new Set(seen).size).to.equal(count / 2);
  });

  it('makes one document of concurrent upserts of a new one, failing none', async () => {
    const _id = new mongoose.mongo.ObjectId();
    const results = await Promise.allSettled(Array.from({ length: 50 }, (_, index) => collection(index).updateOne({ _id }, { $inc: { n: 1 } }, { upsert: true })));
    expect(results.filter((result) => result.status === 'rejected')).to.deep.equal([]);
    expect((await collection(0).findOne({ _id }))?.n).to.equal(50);
  });

  it('finishes an update command of 300 statements that each match a document, and answers at once afterwards', async () => {
    const ids = Array.from({ length: 300 }, () => new mongoose.mongo.ObjectId());
    await collection(0).insertMany(ids.map((_id) => ({ _id, n: 0 })));
    const result = await collection(0).bulkWrite(
      ids.map((_id) => ({ updateOne: { filter: { _id }, update: { $inc: { n: 1 } } } })),
      { ordered: true, maxTimeMS: 20_000 },
    );
    expect(result.modifiedCount).to.equal(300);
    expect(await collection(1).countDocuments({ _id: { $in: ids }, n: 1 }, { maxTimeMS: 5_000 })).to.equal(300);
  });
});
