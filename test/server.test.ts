// The process as `npm start` runs it: its own database when none is named, the Demo account
// on an empty database, and a clean stop on SIGTERM and SIGINT.
import { expect } from 'chai';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServices } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { connectDatabase } from '../src/db/connection.js';
import { isAlive } from '../src/db/databaseServer.js';
import { createDemoAccountIfEmpty } from '../src/demoAccount.js';
import { withinOneClockHour } from './support/clockHour.js';
import { exitOf, runEntry, startEntry, waitForOutput } from './support/processes.js';
import { uniqueDatabaseUri } from './support/gateway.js';
import { restRequest } from './support/rest.js';
import { basicAuth } from './support/soap.js';

const LISTENING = /dualgate listening on port (\d+)/;


describe('server process', function () {
  this.timeout(120_000);

  it('starts its own database, creates the Demo account once, serves, and stops cleanly on SIGTERM', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'dualgate-server-'));
    try {
      const server = startEntry('server.ts', [], { PORT: '0', DATA_DIR: dataDir, MONGODB_URI: '' });
      const { match, output } = await waitForOutput(server, LISTENING);
      const baseUrl = `http://127.0.0.1:${match[1]}`;
      const username = /^username: (\S+)$/m.exec(output())?.[1];
      const password = /^password: (\S+)$/m.exec(output())?.[1];
      expect(username, output()).to.match(/^apiuser-[0-9a-f]{12}@/);
      const info = await restRequest(baseUrl, { username: username!, password: password! }, 'GET', '/v2/account-info');
      expect(info.status).to.equal(200);
      expect(JSON.stringify(info.body)).to.include('"value":"Demo"');
      expect(existsSync(join(dataDir, 'database.json')), 'the CLI can find the running database').to.equal(true);

      // The CLI beside it uses the same database rather than starting a second server.
      const list = await runEntry('cli.ts', ['account', 'list', '--json'], { DATA_DIR: dataDir, MONGODB_URI: '' });
      expect(list.code, list.stderr).to.equal(0);
      expect(JSON.parse(list.stdout)).to.have.length(1);

      server.kill('SIGTERM');
      expect(await exitOf(server)).to.equal(0);
      expect(existsSync(join(dataDir, 'database.json')), 'its database is stopped with it').to.equal(false);

      // Data survives: a second start finds the account and creates no other.
      const again = startEntry('server.ts', [], { PORT: '0', DATA_DIR: dataDir, MONGODB_URI: '' });
      const second = await waitForOutput(again, LISTENING);
      expect(second.output()).to.not.include('username:');
      const stillThere = await restRequest(`http://127.0.0.1:${second.match[1]}`, { username: username!, password: password! }, 'GET', '/v2/server-time');
      expect(stillThere.status).to.equal(200);
      again.kill('SIGINT');
      expect(await exitOf(again)).to.equal(0);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('stops the database a killed gateway left running before it starts its own on the same files', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'dualgate-orphan-'));
    let serverPid: number | undefined;
    try {
      const killed = startEntry('server.ts', [], { PORT: '0', DATA_DIR: dataDir, MONGODB_URI: '' });
      const first = await waitForOutput(killed, LISTENING);
      const username = /^username: (\S+)$/m.exec(first.output())?.[1];
      const password = /^password: (\S+)$/m.exec(first.output())?.[1];
      ({ serverPid } = JSON.parse(readFileSync(join(dataDir, 'database.json'), 'utf8')) as { serverPid: number });
      // As the out-of-memory killer ends it: no chance to stop its database.
      killed.kill('SIGKILL');
      await exitOf(killed);
      expect(isAlive(serverPid), 'its database outlived it').to.equal(true);

      const again = startEntry('server.ts', [], { PORT: '0', DATA_DIR: dataDir, MONGODB_URI: '' });
      const second = await waitForOutput(again, LISTENING);
      expect(isAlive(serverPid), 'the orphaned database was stopped').to.equal(false);
      const stillThere = await restRequest(`http://127.0.0.1:${second.match[1]}`, { username: username!, password: password! }, 'GET', '/v2/server-time');
      expect(stillThere.status, 'on the same data').to.equal(200);
      again.kill('SIGTERM');
      expect(await exitOf(again)).to.equal(0);
    } finally {
      // A failed run leaves no database behind.
      if (serverPid !== undefined && isAlive(serverPid)) process.kill(serverPid, 'SIGKILL');
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('uses MONGODB_URI when set, and creates no Demo account there (its password would go to production\'s logs)', async () => {
    const databaseUri = uniqueDatabaseUri();
    const server = startEntry('server.ts', [], { PORT: '0', MONGODB_URI: databaseUri });
    const { output } = await waitForOutput(server, LISTENING);
    expect(output()).to.include('"database":"MONGODB_URI"');
    expect(output()).to.not.include('password:');
    const list = await runEntry('cli.ts', ['account', 'list', '--json'], { MONGODB_URI: databaseUri });
    expect(JSON.parse(list.stdout), list.stderr).to.deep.equal([]);
    server.kill('SIGTERM');
    const code = await exitOf(server);
    expect(code, `${output()} / ${server.signalCode}`).to.equal(0);
  });

  it('creates one Demo account when several replicas start together on an empty database (DEMO_ACCOUNT=on)', async () => {
    // Each replica's own connection and services, all finding no account at the same moment.
    const databaseUri = uniqueDatabaseUri();
    const replicas = await Promise.all(Array.from({ length: 3 }, () => connectDatabase(databaseUri, { operationTimeoutMs: 5_000 })));
    try {
      const printed: string[] = [];
      const services = replicas.map((database) => createServices(loadConfig({ BCRYPT_COST: '4' }), database));
      const created = await Promise.all(services.map(({ accounts }) => createDemoAccountIfEmpty(accounts, (line) => printed.push(line)))).finally(() =>
        Promise.all(services.map(({ hasher }) => hasher.close())),
      );
      expect(created.filter(Boolean), 'replicas that made it').to.have.length(1);
      expect(printed.filter((line) => line.startsWith('password: '))).to.have.length(1);
      const list = await runEntry('cli.ts', ['account', 'list', '--json'], { MONGODB_URI: databaseUri });
      expect((JSON.parse(list.stdout) as Array<{ name: string }>).map((account) => account.name), list.stderr).to.deep.equal(['Demo']);
    } finally {
      await Promise.all(replicas.map((database) => database.close()));
    }
  });

  it('keeps serving while nobody reads its output: the log buffer is bounded, and what it dropped is counted and then said', async function () {
    // Its calls count against the Demo account's hourly quota, in one window.
    await withinOneClockHour(this, 120_000);
    const metricsToken = 'log-drops-metrics-token-0123456789';
    const server = startEntry(
      'server.ts',
      [],
      { PORT: '0', MONGODB_URI: uniqueDatabaseUri(), DEMO_ACCOUNT: 'on', LOG_BUFFER_MAX_BYTES: '65536', METRICS_TOKEN: metricsToken },
      ['--max-old-space-size=160'],
    );
    const { match, output } = await waitForOutput(server, LISTENING);
    const baseUrl = `http://127.0.0.1:${match[1]}`;
    const username = /^username: (\S+)$/m.exec(output())?.[1];
    const password = /^password: (\S+)$/m.exec(output())?.[1];
    expect(username, output()).to.be.a('string');
    const credentials = { username: username!, password: password! };
    // From here nothing is read of its stdout: the pipe fills, then the gateway's buffer.
    server.stdout!.pause();
    // A request line is some 300 bytes: 4,000 of them are many times the pipe and the buffer.
    const call = async (count: number) => {
      let next = 0;
      const statuses: Record<number, number> = {};
      await Promise.all(
        Array.from({ length: 16 }, async () => {
          while (next++ < count) {
            const { status } = await restRequest(baseUrl, credentials, 'GET', '/v2/server-time');
            statuses[status] = (statuses[status] ?? 0) + 1;
          }
        }),
      );
      return statuses;
    };
    // Every call answered: the Demo account's 2,000 an hour, then 429 (logged all the same).
    expect(await call(4000)).to.deep.equal({ 200: 2000, 429: 2000 });
    const metrics = await fetch(`${baseUrl}/metrics`, { headers: { authorization: `Bearer ${metricsToken}` } });
    const dropped = Number(/^dualgate_log_lines_dropped_total (\d+)$/m.exec(await metrics.text())?.[1]);
    expect(dropped).to.be.greaterThan(0);
    expect(dropped).to.be.lessThan(4000);

    // Read again: the gap is said, with how many lines it holds.
    let later = '';
    server.stdout!.on('data', (chunk: Buffer) => (later += chunk.toString()));
    server.stdout!.resume();
    await fetch(`${baseUrl}/v2/server-time`, { headers: { authorization: basicAuth(credentials) } });
    const said = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no report of the dropped lines in:\n${later.slice(-2000)}`)), 30_000);
      const look = setInterval(() => {
        const reported = [...later.matchAll(/"droppedLines":(\d+)/g)].reduce((sum, found) => sum + Number(found[1]), 0);
        if (reported < dropped) return;
        clearTimeout(timer);
        clearInterval(look);
        resolve(reported);
      }, 50);
    });
    expect(said).to.be.at.least(dropped);
    expect(later).to.match(/"level":40,[^\n]*"msg":"log lines dropped/);

    // Told to stop while nobody reads again: it ends all the same, dropping what it could not write.
    server.stdout!.pause();
    expect(await call(4000)).to.deep.equal({ 429: 4000 });
    server.kill('SIGTERM');
    expect(await exitOf(server)).to.equal(0);
  });

  it('refuses a bad configuration with a clear message and exit code 2', async () => {
    const result = await runEntry('server.ts', [], { PORT: 'http', MONGODB_URI: uniqueDatabaseUri() });
    expect(result.code).to.equal(2);
    expect(result.stderr.trim()).to.equal('Invalid configuration: PORT must be a whole number from 0 to 65535 (got "http").');
  });

  it('refuses a HOST that names no address of this machine with a clear message and exit code 2', async () => {
    for (const [host, code] of [
      ['no-such-host.invalid', 'ENOTFOUND'],
      ['192.0.2.1', 'EADDRNOTAVAIL'],
    ] as const) {
      const result = await runEntry('server.ts', [], { HOST: host, PORT: '0', MONGODB_URI: uniqueDatabaseUri() });
      expect(result.code, result.stderr).to.equal(2);
      expect(result.stderr.trim()).to.equal(`Invalid configuration: HOST must name an address of this machine (got "${host}": ${code}).`);
    }
  });
});
