// Lookups by _id are index lookups on the database the tests run on. On a stock FerretDB 1.24
// every one of them reads the whole collection (src/db/idLookups.ts): a user's first call then
// costs in proportion to the number of API users, and a burst of them in proportion to its
// square. scripts/build-ferretdb.sh builds FerretDB with the lookup using the _id index.
import { expect } from 'chai';
import { idLookupsScanOn } from '../src/db/idLookups.js';
import { startTestGateway, type TestGateway } from './support/gateway.js';
import { restRequest } from './support/rest.js';

describe('lookups by _id', () => {
  let gateway: TestGateway;

  before(async () => {
    gateway = await startTestGateway();
    const owner = await gateway.createAccount({ name: 'Indexed Co' });
    // A call writes the user's last use: every collection read by key then exists.
    expect((await restRequest(gateway.baseUrl, owner, 'GET', '/v2/account-info')).status).to.equal(200);
    await gateway.gateway.services.lastUsed.flush(true);
  });
  after(() => gateway.close());

  it('go through the _id index in every collection authentication reads by key, and the start-up check agrees', async () => {
    const { models } = gateway.database;
    const byKey = [models.Username, models.ApiUser, models.Account, models.ApiUserActivity];
    for (const model of byKey) {
      const sample = await model.collection.findOne({}, { projection: { _id: 1 } });
      expect(sample, model.collection.collectionName).to.not.equal(null);
      const explained = JSON.stringify(await model.collection.find({ _id: sample!._id }).explain('queryPlanner'));
      // FerretDB says "SEARCH … USING INDEX …_id_" where a stock build says "SCAN …"; MongoDB
      // answers an _id equality from its _id index, never with a COLLSCAN.
      expect(explained, model.collection.collectionName).to.not.match(/COLLSCAN|detail=SCAN /);
      if (explained.includes('ferretdbVersion')) expect(explained, model.collection.collectionName).to.match(/USING INDEX \S+__id_/);
    }
    expect(await idLookupsScanOn(gateway.database)).to.equal(null);
  });
});
