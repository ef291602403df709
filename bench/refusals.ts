// npm run bench:refusals: how long each kind of refusal takes, over HTTP against the gateway
// as production runs it (BCRYPT_COST 12 unless REFUSALS_BCRYPT_COST says otherwise), on the
// embedded database: an unknown user, a wrong password (a real compare), a wrong password for a
// user whose right one is known (no compare), a disabled user, a locked one (right and wrong
// password), a disabled account, a call from outside an allowlist and a wrong password during
// a rotation's grace (two compares). Medians of REFUSALS_TRIES tries each (default 24),
// interleaved so that the machine's own drift falls on every kind alike, each against the
// unknown user's: the contract wants them alike (ASVS 5.0 V6.3.8), and so does `timing.test.ts`
// of the mechanism (every refusal held to one target); this says how alike, in milliseconds.
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { createGateway } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { connectDatabase } from '../src/db/connection.js';
import { startDatabaseServer } from '../src/db/databaseServer.js';
import { createHttpServer } from '../src/transports/httpServer.js';

const TRIES = Number(process.env.REFUSALS_TRIES ?? 24);
/** How far a median may stray from the unknown user's, as a share of it. */
const TOLERANCE = 0.1;

interface Credentials {
  username: string;
  password: string;
}

async function main(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'dualgate-refusals-'));
  const server = await startDatabaseServer({ mongodbUri: process.env.MONGODB_URI, dataDir, databaseName: 'refusals' });
  const config = loadConfig({ BCRYPT_COST: process.env.REFUSALS_BCRYPT_COST ?? '12', QUOTA_SYNC_MS: '0' });
  const database = await connectDatabase(server.uri, { operationTimeoutMs: config.DB_OPERATION_TIMEOUT_MS });
  const gateway = await createGateway(config, database, pino({ level: 'silent' }));
  const http = createHttpServer(gateway.app).listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => http.once('listening', resolve));
  const baseUrl = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  try {
    const call = async (credentials: Credentials, method = 'GET', path = '/v2/server-time', body?: unknown) => {
      const response = await fetch(`${baseUrl}${path}`, {
        method,
        headers: {
          Authorization: `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}`,
          ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return { status: response.status, body: (await response.json().catch(() => null)) as unknown };
    };
    const { accounts } = gateway.services;
    const created = await accounts.create({ name: 'Refusals Ltd', mainEmail: 'refusals@example.com', apiCallsPerHour: 10_000_000 });
    const owner = { username: created.owner.username, password: created.password };
    const createUser = async (password: string, fields: Record<string, unknown> = {}) => {
      const user = (await call(owner, 'POST', '/v2/api-users', { password, ...fields })).body as { id: string; username: string };
      return { ...user, password };
    };
    const strangers = await Promise.all(Array.from({ length: 8 }, (_, i) => createUser(`Str4nger-${i}-pw`)));
    const regular = await createUser('Regul4r-user-pw');
    await call(regular);
    const disabled = await createUser('Dis4bled-user-pw', { enabled: false });
    const locked = await createUser('L0cked-user-pw');
    for (let i = 0; i < 5; i++) await call({ ...locked, password: 'nope' });
    const fenced = await createUser('F3nced-user-pw', { ipAllowlist: ['192.0.2.0/24'] });
    const rotating = await createUser('R0tating-old-pw');
    await call(owner, 'PUT', `/v2/api-users/${rotating.id}/password`, { password: 'R0tating-new-pw', keepPreviousForHours: 1 });
    const paused = await accounts.create({ name: 'Paused Ltd', mainEmail: 'paused@example.com' });
    await accounts.disable(paused.account._id.toHexString());
    const kinds: Record<string, (i: number) => Credentials> = {
      'unknown user': (i) => ({ username: `apiuser-${String(i).padStart(12, '0')}@dualgate.local`, password: 'Wh4tever-pw' }),
      'wrong password': (i) => ({ ...strangers[i % strangers.length]!, password: `wrong-${i}` }),
      'wrong password, right one known': (i) => ({ ...regular, password: `wrong-${i % 3}` }),
      'disabled user': () => disabled,
      'locked user': () => locked,
      'locked user, wrong password': (i) => ({ ...locked, password: `wrong-${i}` }),
      'disabled account': () => ({ username: paused.owner.username, password: paused.password }),
      'outside the allowlist': () => fenced,
      'wrong password, in a rotation grace': (i) => ({ ...rotating, password: `wrong-${i}` }),
    };
    const durations: Record<string, number[]> = Object.fromEntries(Object.keys(kinds).map((kind) => [kind, []]));
    for (let i = 0; i < TRIES; i++) {
      for (const [kind, credentials] of Object.entries(kinds)) {
        const started = performance.now();
        const { status } = await call(credentials(i));
        durations[kind]!.push(performance.now() - started);
        if (status !== 401) throw new Error(`${kind}: ${status}, not 401`);
        // Successes keep those two users from being locked by the wrong passwords.
        if (kind === 'wrong password, right one known') await call(regular);
        if (kind === 'wrong password, in a rotation grace') await call({ ...rotating, password: 'R0tating-new-pw' });
      }
    }
    const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
    const medians = Object.fromEntries(Object.entries(durations).map(([kind, values]) => [kind, median(values)]));
    const base = medians['unknown user']!;
    console.log(`Refusals, BCRYPT_COST ${config.BCRYPT_COST}, median of ${TRIES} each:\n`);
    console.log('| refusal | median ms | against the unknown user |');
    console.log('|---|---:|---:|');
    let alike = true;
    for (const [kind, value] of Object.entries(medians)) {
      const ratio = value / base;
      alike &&= Math.abs(ratio - 1) < TOLERANCE;
      console.log(`| ${kind} | ${value.toFixed(1)} | ${ratio.toFixed(3)} |`);
    }
    console.log(`\nEvery kind within ${TOLERANCE * 100} % of the unknown user's: ${alike ? 'met' : 'MISSED'}`);
  } finally {
    http.closeAllConnections();
    await new Promise<void>((resolve) => http.close(() => resolve()));
    await gateway.close();
    await database.close();
    await server.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

await main();
