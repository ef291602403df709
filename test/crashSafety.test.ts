// Nothing lost: kill the gateway (SIGKILL) in the middle of a burst of writes, start it again,
// and every acknowledged change is there, and nothing is half-applied: no change without its
// audit event, no event without its change, no delete left unfinished.
import { expect } from 'chai';
import { connectDatabase } from '../src/db/connection.js';
import { createAccountIn, uniqueDatabaseUri } from './support/gateway.js';
import { exitOf, startGatewayProcess } from './support/processes.js';
import { restRequest } from './support/rest.js';

describe('a gateway killed mid-burst', function () {
  this.timeout(120_000);

  it('keeps every acknowledged change and half-applies none', async () => {
    const databaseUri = uniqueDatabaseUri();
    const database = await connectDatabase(databaseUri);
    const { owner, credentials } = await createAccountIn(database, 'Crash Test');
    const env = { MONGODB_URI: databaseUri, QUOTA_SYNC_MS: '250' };

    const { child: first, baseUrl } = await startGatewayProcess(env);

    const acknowledged = { created: new Map<string, string>(), updated: new Map<string, string>(), deleted: new Set<string>() };
    /** Users a delete was sent for, acknowledged or not (a kill may cut it short either side of its write). */
    const deleteSent = new Set<string>();
    let acks = 0;
    let killed = false;
    const failures: string[] = [];
    const worker = async (lane: number) => {
      for (let i = 0; !killed; i++) {
        try {
          const description = `lane ${lane} user ${i}`;
          const created = await restRequest(baseUrl, credentials, 'POST', '/v2/api-users', { password: 'Cr4sh-safe-pw', description });
          if (created.status !== 201) throw new Error(created.text);
          const { id } = created.body as { id: string };
          acknowledged.created.set(id, description);
          acks++;
          if (i % 2 === 0) {
            const changed = `${description} (changed)`;
            const updated = await restRequest(baseUrl, credentials, 'PUT', `/v2/api-users/${id}`, { description: changed, enabled: false });
            if (updated.status === 200) acknowledged.updated.set(id, changed);
          } else {
            deleteSent.add(id);
            const deleted = await restRequest(baseUrl, credentials, 'DELETE', `/v2/api-users/${id}`);
            if (deleted.status === 204) acknowledged.deleted.add(id);
          }
          acks++;
        } catch (error) {
          if (!killed) failures.push(String(error));
          return; // the gateway is gone
        }
      }
    };
    let running = 12;
    const lanes = Array.from({ length: running }, (_, lane) => worker(lane).finally(() => running--));
    while (acks < 80 && running > 0) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(failures, "no call failed before the kill").to.deep.equal([]);
    first.kill('SIGKILL');
    killed = true;
    await Promise.all(lanes);
    await exitOf(first);
    expect(acknowledged.created.size).to.be.above(20);

    // Started again on the same database: it finishes what the crash left half-done.
    const { child: second, baseUrl: againUrl } = await startGatewayProcess(env);
    try {
      for (const [id, description] of acknowledged.created) {
        const response = await restRequest(againUrl, credentials, 'GET', `/v2/api-users/${id}`);
        if (acknowledged.deleted.has(id)) {
          expect(response.status, `acknowledged delete of ${id}`).to.equal(404);
        } else if (acknowledged.updated.has(id)) {
          expect(response.body, `acknowledged update of ${id}`).to.include({ description: acknowledged.updated.get(id), enabled: false });
        } else if (deleteSent.has(id) && response.status === 404) {
          // A delete sent and not acknowledged: it may have happened.
        } else {
          // Not deleted (or a delete sent may not have happened): there, and its change, if
          // one was sent, made wholly or not at all: both fields, or neither.
          expect(response.status, `acknowledged create of ${id}`).to.equal(200);
          const user = response.body as { description: string; enabled: boolean };
          expect([`${description}|true`, `${description} (changed)|false`]).to.include(`${user.description}|${user.enabled}`);
        }
      }

      const { models } = database;
      expect(await models.ApiUser.countDocuments({ $or: [{ deletedAt: { $ne: null } }, { 'pendingAudit.0': { $exists: true } }] }), 'nothing left pending').to.equal(0);
      const users = await models.ApiUser.find({ accountId: owner.accountId }).lean();
      const events = await models.AuditEvent.find({ accountId: owner.accountId }).lean();
      const eventsOf = (id: string, type: string) => events.filter((event) => event.targetId === id && event.type === type);
      for (const user of users) {
        const id = user._id.toHexString();
        expect(eventsOf(id, 'ApiUserCreated'), `created event of ${id}`).to.have.length(1);
        expect(eventsOf(id, 'ApiUserDeleted'), `no delete event for the living ${id}`).to.have.length(0);
        const changed = user.description.endsWith('(changed)');
        expect(eventsOf(id, 'ApiUserUpdated').length, `update event of ${id} iff updated`).to.equal(changed ? 1 : 0);
        expect(eventsOf(id, 'ApiUserDisabled').length).to.equal(changed ? 1 : 0);
      }
      const living = new Set(users.map((user) => user._id.toHexString()));
      for (const event of events.filter((candidate) => candidate.type === 'ApiUserDeleted')) {
        expect(living.has(event.targetId!), `deleted ${event.targetId} is gone`).to.equal(false);
      }
      for (const id of acknowledged.deleted) expect(eventsOf(id, 'ApiUserDeleted'), `delete event of ${id}`).to.have.length(1);
    } finally {
      second.kill('SIGTERM');
      await exitOf(second);
      await database.connection.dropDatabase();
      await database.close();
    }
  });
});
