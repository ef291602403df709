// Finds the database to run on. In order: MONGODB_URI when set (production: MongoDB or a
// replica set); else a `mongod` on PATH; else a `ferretdb` on PATH or in Go's bin directory
// built by scripts/build-ferretdb.sh; else FerretDB built so once from the Go module proxy
// when Go is present; else a stock `ferretdb` found there; else a clear stop.
// A server started here keeps its data under its data directory and is stopped with us.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { delimiter, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface DatabaseServer {
  uri: string;
  /** What runs it, for the startup log: "MONGODB_URI", "mongod", "ferretdb". */
  kind: string;
  /** The server's process, when it was started here. */
  pid?: number | undefined;
  stop(): Promise<void>;
}

export class DatabaseNotFoundError extends Error {}

const BUILD_SCRIPT = fileURLToPath(new URL('../../scripts/build-ferretdb.sh', import.meta.url));

export interface DatabaseServerOptions {
  mongodbUri?: string | undefined;
  /** Where a server started here keeps its data. */
  dataDir: string;
  databaseName?: string;
  /** The port to listen on; a free one when not given (a restart on the same port keeps the URI). */
  port?: number;
  /** Told once, before a build of a few minutes starts. */
  onBuild?: (message: string) => void;
}

export async function startDatabaseServer(options: DatabaseServerOptions): Promise<DatabaseServer> {
  const databaseName = options.databaseName ?? 'dualgate';
  if (options.mongodbUri) return { uri: options.mongodbUri, kind: 'MONGODB_URI', stop: async () => {} };
  const running = await runningServer(options.dataDir);
  if (running) return { uri: running, kind: 'shared', stop: async () => {} };
  const server = await startOwnServer(options, databaseName);
  // Another process (the CLI beside `npm start`) uses this server instead of starting a
  // second one on the same files.
  const marker = join(ensureDir(options.dataDir), RUNNING_MARKER);
  writeFileSync(marker, JSON.stringify({ uri: server.uri, pid: process.pid, serverPid: server.pid } satisfies RunningMarker));
  return {
    ...server,
    stop: async () => {
      rmSync(marker, { force: true });
      await server.stop();
    },
  };
}

const RUNNING_MARKER = 'database.json';

/** What the marker says: the server, the process that started it (and stops it), and its own pid. */
interface RunningMarker {
  uri: string;
  pid: number;
  serverPid: number | undefined;
}

async function runningServer(dataDir: string): Promise<string | undefined> {
  let marker: RunningMarker;
  try {
    marker = JSON.parse(readFileSync(join(dataDir, RUNNING_MARKER), 'utf8')) as RunningMarker;
  } catch {
    return undefined;
  }
  if (isAlive(marker.pid)) return (await canConnect(Number(new URL(marker.uri).port))) ? marker.uri : undefined;
  // Whoever started it ended without stopping it (killed, or out of memory): a second server on
  // the same files would share them with this one. It is stopped first.
  if (marker.serverPid !== undefined && servesFrom(marker.serverPid, dataDir)) await stopOrphan(marker.serverPid);
  return undefined;
}

/** Whether the process runs (a zombie, ended and not yet reaped, does not). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    // /proc/<pid>/stat: "pid (name) state ...", the name in parentheses possibly holding spaces.
    return readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /s, '')[0] !== 'Z';
  } catch {
    return true; // no /proc here: kill's answer stands
  }
}

/** Whether that process is a database server started on this data directory (not another program given its pid since). */
function servesFrom(pid: number, dataDir: string): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(resolve(dataDir));
  } catch {
    return false; // gone, or no /proc to tell: left alone
  }
}

async function stopOrphan(pid: number): Promise<void> {
  const signal = (name: NodeJS.Signals) => {
    try {
      process.kill(pid, name);
    } catch {
      /* gone already */
    }
  };
  signal('SIGTERM');
  for (let waited = 0; waited < 10_000 && isAlive(pid); waited += 100) await new Promise((wait) => setTimeout(wait, 100));
  if (isAlive(pid)) signal('SIGKILL');
}

async function startOwnServer(options: DatabaseServerOptions, databaseName: string): Promise<DatabaseServer> {

  const mongod = findOnPath('mongod');
  if (mongod) {
    const dbPath = ensureDir(resolve(options.dataDir, 'mongod'));
    return launch('mongod', mongod, (port) => ['--dbpath', dbPath, '--bind_ip', '127.0.0.1', '--port', String(port), '--quiet'], databaseName, options.port);
  }

  let ferretdb = findFerretDb();
  // A stock FerretDB 1.24 reads a whole collection for every lookup by _id and for every other
  // filter, and loses concurrent updates of a document (see the build script): where Go is at
  // hand the fixed one is built once, and a stock one (or one built before the last change to
  // the script) is the fallback.
  if (!ferretdb?.fixed && findOnPath('go')) {
    options.onBuild?.(
      ferretdb
        ? `${ferretdb.path} is not FerretDB as scripts/build-ferretdb.sh builds it (its lookups read whole collections, its updates are not atomic): building FerretDB with both fixed (one-time, a few minutes)...`
        : 'No MongoDB or FerretDB found: building FerretDB from the Go module proxy (one-time, a few minutes)...',
    );
    const build = spawnSync('bash', [BUILD_SCRIPT], { stdio: ['ignore', 'inherit', 'inherit'] });
    if (build.status !== 0 && !ferretdb) throw new DatabaseNotFoundError('Building FerretDB failed (see above). Set MONGODB_URI to use a MongoDB server instead.');
    ferretdb = findFerretDb() ?? ferretdb;
  }
  if (!ferretdb) {
    throw new DatabaseNotFoundError(
      'No database found: set MONGODB_URI to a MongoDB server (e.g. MONGODB_URI=mongodb://localhost:27017/dualgate), ' +
        'or put mongod or ferretdb on PATH, or install Go so that FerretDB can be built.',
    );
  }
  const dataDir = ensureDir(resolve(options.dataDir, 'ferretdb'));
  return launch(
    'ferretdb',
    ferretdb.path,
    (port) => [
      '--handler=sqlite',
      `--sqlite-url=file:${dataDir}/`,
      `--listen-addr=127.0.0.1:${port}`,
      '--debug-addr=-',
      '--telemetry=disable',
      `--state-dir=${dataDir}`,
      '--log-level=error',
    ],
    databaseName,
    options.port,
  );
}

function findOnPath(command: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const candidate = join(dir, command);
    if (dir && existsSync(candidate)) return candidate;
  }
  return undefined;
}

/** What `ferretdb --version` prints as its package when built by scripts/build-ferretdb.sh. */
const FIXED_BUILD_MARKER = 'package: dualgate-indexed-atomic';

interface FerretDbBinary {
  path: string;
  /** Built by scripts/build-ferretdb.sh: its lookups use the indexes, its updates are atomic. */
  fixed: boolean;
}

/** A ferretdb that starts (a plain `go install` of it panics at start: see the build script), the fixed build first. */
function findFerretDb(): FerretDbBinary | undefined {
  const found: FerretDbBinary[] = [];
  for (const path of new Set([findOnPath('ferretdb'), goBinary('ferretdb')])) {
    if (!path) continue;
    const version = spawnSync(path, ['--version'], { encoding: 'utf8', timeout: 10_000 });
    if (version.status === 0) found.push({ path, fixed: version.stdout.includes(FIXED_BUILD_MARKER) });
  }
  return found.find((binary) => binary.fixed) ?? found[0];
}

function goBinary(name: string): string | undefined {
  if (!findOnPath('go')) return undefined;
  const env = spawnSync('go', ['env', 'GOBIN', 'GOPATH'], { encoding: 'utf8' });
  const [gobin, gopath] = (env.stdout ?? '').split('\n');
  const dir = gobin?.trim() || (gopath?.trim() ? join(gopath.trim(), 'bin') : '');
  const candidate = dir ? join(dir, name) : '';
  return candidate && existsSync(candidate) ? candidate : undefined;
}

function ensureDir(dir: string): string {
  mkdirSync(dir, { recursive: true });
  return dir;
}

export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}

async function launch(
  kind: string,
  binary: string,
  args: (port: number) => string[],
  databaseName: string,
  fixedPort: number | undefined,
): Promise<DatabaseServer> {
  const port = fixedPort ?? (await freePort());
  const child = spawn(binary, args(port), { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-4000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<number | null>((resolveExit) => child.once('exit', (code) => resolveExit(code)));
  try {
    await waitForPort(port, exited, 30_000);
  } catch (error) {
    child.kill('SIGKILL');
    throw new Error(`${kind} did not start: ${(error as Error).message}\n${output.trim()}`);
  }
  return {
    uri: `mongodb://127.0.0.1:${port}/${databaseName}`,
    kind,
    pid: child.pid,
    stop: () => stopProcess(child, exited),
  };
}

async function waitForPort(port: number, exited: Promise<number | null>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let hasExited = false;
  void exited.then(() => {
    hasExited = true;
  });
  while (Date.now() < deadline) {
    if (hasExited) throw new Error('it exited at start');
    if (await canConnect(port)) return;
    await new Promise((wait) => setTimeout(wait, 100));
  }
  throw new Error(`port ${port} did not open within ${timeoutMs / 1000} s`);
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolveConnect) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolveConnect(true);
    });
    socket.once('error', () => resolveConnect(false));
  });
}

async function stopProcess(child: ChildProcess, exited: Promise<number | null>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}
