// The process as `npm start` runs it: its own database when none is named, the Demo account
// on an empty database, and a clean stop on SIGTERM and SIGINT.
import { expect } from 'chai';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exitOf, runEntry, startEntry, waitForOutput } from './support/processes.js';
import { uniqueDatabaseUri } from './support/gateway.js';
import { restRequest } from './support/rest.js';

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

  it('uses MONGODB_URI when set', async () => {
    const server = startEntry('server.ts', [], { PORT: '0', MONGODB_URI: uniqueDatabaseUri() });
    const { output } = await waitForOutput(server, LISTENING);
    expect(output()).to.include('"database":"MONGODB_URI"');
    server.kill('SIGTERM');
    const code = await exitOf(server);
    expect(code, `${output()} / ${server.signalCode}`).to.equal(0);
  });

  it('refuses a bad configuration with a clear message and exit code 2', async () => {
    const result = await runEntry('server.ts', [], { PORT: 'http', MONGODB_URI: uniqueDatabaseUri() });
    expect(result.code).to.equal(2);
    expect(result.stderr.trim()).to.equal('Invalid configuration: PORT must be a whole number from 0 to 65535 (got "http").');
  });
});
