// One database server for the whole run: FerretDB started on a free port with a temporary
// directory (or MONGODB_URI's server, when the environment names one), stopped at the end.
// Each gateway a test builds gets a database of its own on it.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDatabaseServer, type DatabaseServer } from '../../src/db/databaseServer.js';
import { killLeftoverProcesses } from './processes.js';

let server: DatabaseServer | undefined;
let dataDir: string | undefined;

/** mongodb://host:port of the run's database server, without a database name. */
export function databaseServerUri(): string {
  if (!server) throw new Error('the test database server is not running');
  const url = new URL(server.uri);
  return `${url.protocol}//${url.host}`;
}

export const mochaHooks = {
  async beforeAll(this: Mocha.Context) {
    this.timeout(600_000); // a first run on a fresh machine may build FerretDB
    dataDir = mkdtempSync(join(tmpdir(), 'dualgate-test-db-'));
    server = await startDatabaseServer({
      mongodbUri: process.env.MONGODB_URI,
      dataDir,
      onBuild: (message) => console.log(message),
    });
  },
  async afterAll() {
    killLeftoverProcesses();
    await server?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  },
};
