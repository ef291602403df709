// SIGTERM in the middle of a burst: the gateway stops accepting, finishes what it accepted,
// flushes what it buffered (quota counts, last-used times, both held for a minute here so
// that only the shutdown can have written them), closes the database and exits 0.
import { expect } from 'chai';
import { connect } from 'node:net';
import { connectDatabase } from '../src/db/connection.js';
import { createAccountIn, uniqueDatabaseUri } from './support/gateway.js';
import { exitOf, startGatewayProcess } from './support/processes.js';
import { restRequest } from './support/rest.js';
import { soapCall } from './support/soap.js';


/** A call that was never accepted: the server had stopped listening. Not an answer, not a failure. */
function neverAccepted(error: unknown): boolean {
  const cause = (error as { cause?: { code?: string } }).cause;
  return cause?.code === 'ECONNREFUSED';
}

describe('a gateway stopped by SIGTERM mid-burst', function () {
  this.timeout(120_000);

  it('answers every call it accepted in full, keeps every acknowledged write, flushes its buffers and exits 0', async () => {
    const databaseUri = uniqueDatabaseUri();
    const database = await connectDatabase(databaseUri);
    const { owner, credentials } = await createAccountIn(database, 'Shutdown Ltd');
    // Cost 10: each create holds a request in flight for a while, so SIGTERM finds many running.
    const { child: gateway, baseUrl, output } = await startGatewayProcess({
      MONGODB_URI: databaseUri,
      BCRYPT_COST: '10',
      QUOTA_SYNC_MS: '60000',
      LAST_USED_FLUSH_MS: '60000',
      SHUTDOWN_TIMEOUT_MS: '10000',
      // Not a test of slow databases: a loaded machine must not turn a create into a 503.
      DB_OPERATION_TIMEOUT_MS: '15000',
      // Nor of shedding: the bcrypt threads run at nice 19, and beside any busy process at nice 0
      // twelve creates can be expected to wait past the default 3 s, and would be refused.
      BCRYPT_QUEUE_MAX_WAIT_MS: '60000',
    });
    // Whatever fails below, the gateway does not outlive the test.
    try {
      const created: string[] = [];
      const failures: string[] = [];
      let answered = 0;
      let answeredAfterSignal = 0;
      let lastAnsweredSentAt = 0;
      let signalled = false;
      const answer = (sentAt: number) => {
        answered++;
        if (signalled) answeredAfterSignal++;
        lastAnsweredSentAt = Math.max(lastAnsweredSentAt, sentAt);
      };
      const restLane = async (lane: number) => {
        for (let i = 0; ; i++) {
          const sentAt = Date.now();
          try {
            const response = await restRequest(baseUrl, credentials, 'POST', '/v2/api-users', { password: 'St0pping-pw', description: `lane ${lane} #${i}` });
            if (response.status !== 201) throw new Error(`${response.status} ${response.text}`);
            created.push((response.body as { id: string }).id);
            answer(sentAt);
          } catch (error) {
            if (!signalled || !neverAccepted(error)) failures.push(`rest lane ${lane}: ${String(error)} ${String((error as Error).cause ?? '')}`);
            return;
          }
        }
      };
      const soapLane = async (lane: number) => {
        for (;;) {
          const sentAt = Date.now();
          try {
            // soapCall parses the whole envelope: a cut answer fails here.
            const response = await soapCall(baseUrl, credentials, 'GetCurrentAccountInfo');
            if (response.status !== 200 || response.fault) throw new Error(`${response.status} ${response.text}`);
            answer(sentAt);
          } catch (error) {
            if (!signalled || !neverAccepted(error)) failures.push(`soap lane ${lane}: ${String(error)} ${String((error as Error).cause ?? '')}`);
            return;
          }
        }
      };
      const lanes = [...Array.from({ length: 12 }, (_, lane) => restLane(lane)), ...Array.from({ length: 4 }, (_, lane) => soapLane(lane))];
      while (created.length < 40 && failures.length === 0) await new Promise((resolve) => setTimeout(resolve, 20));
      expect(failures, 'no call failed before the signal').to.deep.equal([]);

      signalled = true;
      gateway.kill('SIGTERM');
      await Promise.all(lanes);
      const code = await exitOf(gateway);
      try {
        expect(failures, 'every call was answered in full or never accepted').to.deep.equal([]);
        expect(code, 'exit code').to.equal(0);
        expect(output()).to.match(/"msg":"stopped"/);
        expect(answeredAfterSignal, 'calls in flight at the signal were finished').to.be.above(0);

        const { models } = database;
        const stored = new Set((await models.ApiUser.find({ accountId: owner.accountId, deletedAt: null }, { _id: 1 }).lean()).map((user) => user._id.toHexString()));
        for (const id of created) expect(stored.has(id), `acknowledged create ${id}`).to.equal(true);
        expect(await models.ApiUser.countDocuments({ 'pendingAudit.0': { $exists: true } }), 'no audit event left unpublished').to.equal(0);

        // Written only by the shutdown flush: the sync and flush intervals never came round.
        const counters = await models.QuotaCounter.find({ accountId: owner.accountId }).lean();
        expect(counters.reduce((sum, counter) => sum + counter.count, 0), 'quota counted every answered call').to.equal(answered);
        const activity = await models.ApiUserActivity.findById(owner._id).lean();
        expect(activity?.lastCall?.getTime(), 'last use written').to.be.at.least(lastAnsweredSentAt);
      } finally {
        await database.connection.dropDatabase();
        await database.close();
      }
    } finally {
      if (gateway.exitCode === null && gateway.signalCode === null) gateway.kill('SIGKILL');
    }
  });

  it('cuts the connections still open at SHUTDOWN_TIMEOUT_MS, and stops cleanly with exit 0', async () => {
    const databaseUri = uniqueDatabaseUri();
    const { child: gateway, baseUrl, output } = await startGatewayProcess({ MONGODB_URI: databaseUri, SHUTDOWN_TIMEOUT_MS: '300' });
    // A kept-alive connection left idle: it would otherwise last its 5 s keep-alive timeout.
    const socket = connect(Number(new URL(baseUrl).port), '127.0.0.1');
    const answered = new Promise<string>((resolve) => socket.once('data', (chunk) => resolve(chunk.toString())));
    const ended = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n\r\n');
    expect(await answered).to.match(/^HTTP\/1\.1 200/);
    gateway.kill('SIGTERM');
    expect(await exitOf(gateway)).to.equal(0);
    await ended;
    expect(output()).to.match(/connections still open at the shutdown deadline/);
    expect(output()).to.match(/"msg":"stopped"/);
    const database = await connectDatabase(databaseUri);
    await database.connection.dropDatabase();
    await database.close();
  });
});
