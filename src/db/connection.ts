// One mongoose connection per gateway, failing fast instead of buffering: while the database
// is away, or hangs, a call must answer 503 within a bound, not wait for it.
//
// The bound (DB_OPERATION_TIMEOUT_MS) is set four ways, since no one of them covers all:
// maxTimeMS on every query (the server gives up and the connection is kept), the time to wait
// for a pooled connection, the socket's read timeout (a server that stopped answering at all:
// the connection is dropped), and the time to wait for a server at all. Reads are not retried
// (see connectDatabase). The driver's own `timeoutMS` would say it once, but this driver (7.x)
// ignores it.
import mongoose, { type Connection } from 'mongoose';
import { bindModels, type Models } from './models.js';

export interface Database {
  connection: Connection;
  models: Models;
  /**
   * The same models on a small connection of their own, whose operations may take as long as
   * reading a whole collection does: startup and background maintenance only, never a call.
   * On FerretDB such a read decodes every document (20,000 API users take seconds), which
   * the calls' bound would cut short, and a cut-short startup read is a gateway that cannot
   * start. On MongoDB it costs a second pool of two connections.
   */
  scans: Models;
  close(): Promise<void>;
}

/** The bound when none is given (DB_OPERATION_TIMEOUT_MS's default). */
export const DEFAULT_OPERATION_TIMEOUT_MS = 2000;

/** The bound of the scans connection's operations: a hung database still ends them. */
export const SCAN_TIMEOUT_MS = 600_000;

/** The longest a call waits for a server while the database is away (or the bound, if shorter). */
const SERVER_SELECTION_TIMEOUT_MS = 1500;

const connectionOptions = {
  serverSelectionTimeoutMS: SERVER_SELECTION_TIMEOUT_MS,
  connectTimeoutMS: 1500,
  bufferCommands: false,
  autoIndex: false,
  maxPoolSize: 20,
  // A database that comes back is found within a second, not the default ten.
  heartbeatFrequencyMS: 1000,
  // Polled, not streamed: FerretDB's answer to a streaming hello leaves a restarted server
  // undiscovered; polling works with every server.
  serverMonitoringMode: 'poll',
  // Each command is an event (counted in dualgate_database_operations_total).
  monitorCommands: true,
} as const;

/** A heartbeat that has neither answered nor failed after this long has hung. */
const HUNG_HEARTBEAT_MS = 5000;

/** Told of each restart of the client by the heartbeat watchdog: null when it succeeded. */
export type ClientRestartListener = (error: unknown) => void;

export interface ConnectOptions {
  /** The longest a database operation may take (DB_OPERATION_TIMEOUT_MS). */
  operationTimeoutMs?: number;
  onClientRestart?: ClientRestartListener;
}

export async function connectDatabase(uri: string, options: ConnectOptions = {}): Promise<Database> {
  const operationTimeoutMs = options.operationTimeoutMs ?? DEFAULT_OPERATION_TIMEOUT_MS;
  const onClientRestart = options.onClientRestart ?? (() => {});
  const connection = await openConnection(uri, operationTimeoutMs, connectionOptions.maxPoolSize, {
    serverSelectionTimeoutMS: Math.min(SERVER_SELECTION_TIMEOUT_MS, operationTimeoutMs),
    // The driver retries a read once after a network error, a socket timeout included: against
    // a hung server a call then waited twice the bound (and a third time for a server). A call
    // that meets a network error answers 503 with Retry-After instead, and its client retries.
    // Writes are retried on a replica set only (retryable writes), where the retry is what
    // keeps a write that may have landed from landing twice.
    retryReads: false,
  });
  const scanConnection = await openConnection(uri, SCAN_TIMEOUT_MS, 2).catch(async (error: unknown) => {
    await connection.close();
    throw error;
  });
  const watchdogs = [watchHeartbeats(connection, onClientRestart), watchHeartbeats(scanConnection, onClientRestart)];
  const models = bindModels(connection);
  // Indexes are created once here (not lazily), so a missing unique index is a startup error.
  await Promise.all(Object.values(models).map((model) => model.createIndexes()));
  return {
    connection,
    models,
    scans: bindModels(scanConnection),
    close: async () => {
      await Promise.all(watchdogs.map((watchdog) => watchdog.stop()));
      await Promise.all([connection.close(), scanConnection.close()]);
    },
  };
}

/** What the calls' connection sets otherwise than the scans'. */
interface ConnectOptionsOverrides {
  serverSelectionTimeoutMS?: number;
  retryReads?: boolean;
}

/** A connection whose every operation is bound to `timeoutMs` (see the top of this file). */
async function openConnection(uri: string, timeoutMs: number, maxPoolSize: number, overrides: ConnectOptionsOverrides = {}): Promise<Connection> {
  const connection = mongoose.createConnection(uri, { ...connectionOptions, maxPoolSize, waitQueueTimeoutMS: timeoutMs, socketTimeoutMS: timeoutMs, ...overrides });
  // Every mongoose query of this connection carries it.
  connection.set('maxTimeMS', timeoutMs);
  await connection.asPromise();
  return connection;
}

/**
 * The driver's server monitor can hang on a heartbeat to a server that went away mid-answer
 * (seen with FerretDB stopping under load: the heartbeat never completes, the server stays
 * Unknown, and every call fails server selection although the database is back). When a
 * heartbeat has been in flight for HUNG_HEARTBEAT_MS, the client is restarted, and a restart
 * that fails (the database is still away) is tried again every second until one succeeds: a
 * closed client has no monitor left to notice anything by itself.
 */
function watchHeartbeats(connection: Connection, onRestart: ClientRestartListener): { stop(): Promise<void> } {
  // Per server: in a replica set the other members' heartbeats go on answering while the
  // primary's hangs.
  const startedAt = new Map<string, number>();
  let restart: Promise<void> | undefined;
  let retrying = false;
  let stopped = false;
  // Listeners stay on the client across restarts (it is the same MongoClient).
  const client = connection.getClient();
  client.on('serverHeartbeatStarted', (event) => {
    if (!startedAt.has(event.connectionId)) startedAt.set(event.connectionId, Date.now());
  });
  client.on('serverHeartbeatSucceeded', (event) => startedAt.delete(event.connectionId));
  client.on('serverHeartbeatFailed', (event) => startedAt.delete(event.connectionId));
  const timer = setInterval(() => {
    const now = Date.now();
    const hung = [...startedAt.values()].some((started) => now - started >= HUNG_HEARTBEAT_MS);
    if (restart || stopped || !(hung || retrying)) return;
    startedAt.clear();
    restart = restartClient(connection)
      .then(
        () => {
          retrying = false;
          onRestart(null);
        },
        (error: unknown) => {
          retrying = !stopped;
          onRestart(error);
        },
      )
      .finally(() => (restart = undefined));
  }, 1000);
  timer.unref();
  return {
    /** Waits for a restart under way: one that ended after the connection's close would open its client again. */
    async stop() {
      stopped = true;
      clearInterval(timer);
      await restart;
    },
  };
}

/**
 * Closes the connection's client (its monitors and pools with it) and connects it again. The
 * same MongoClient is reconnected: mongoose's models keep using it, and its listeners stay.
 * (Connection#openUri would not do: on a connection that is open it keeps the closed client.)
 */
export async function restartClient(connection: Connection): Promise<void> {
  const client = connection.getClient();
  await client.close(true);
  await client.connect();
}

const unavailableErrorNames = new Set([
  'MongoServerSelectionError',
  'MongooseServerSelectionError',
  'MongoNetworkError',
  'MongoNetworkTimeoutError',
  'MongoNotConnectedError',
  'MongoTopologyClosedError',
  'MongoPoolClosedError',
  'MongoPoolClearedError',
  'PoolClearedOnNetworkError', // a MongoPoolClearedError: the monitor timed out on a hung server
  'MongoWaitQueueTimeoutError',
  'MongoOperationTimeoutError',
  // The heartbeat watchdog closed the client (restartClient) under an operation in flight.
  'MongoClientClosedError',
  'MongoServerClosedError',
]);

/** The server gave up on an operation at its maxTimeMS: the database is too slow to serve. */
const MAX_TIME_EXPIRED = 50;

/**
 * Server errors that say the server cannot serve just now (shutting down, stepping down, a
 * replica set changing its primary, a network fault between its nodes): the retryable-reads
 * specification's list, which the driver keeps to itself. On MongoDB a call that meets one is
 * a 503, like a lost connection.
 */
const SERVER_UNAVAILABLE_CODES = new Set([
  6, // HostUnreachable
  7, // HostNotFound
  89, // NetworkTimeout
  91, // ShutdownInProgress
  134, // ReadConcernMajorityNotAvailableYet
  189, // PrimarySteppedDown
  262, // ExceededTimeLimit
  9001, // SocketException
  10107, // NotWritablePrimary
  11600, // InterruptedAtShutdown
  11602, // InterruptedDueToReplStateChange
  13435, // NotPrimaryNoSecondaryOk
  13436, // NotPrimaryOrSecondary
]);

/** InternalError: FerretDB's answer to anything it did not expect. */
const INTERNAL_ERROR = 1;

/**
 * FerretDB, when stopping, gives each connection's commands three seconds and then cancels
 * them, answering each with an InternalError that ends with this (its ctxutil.WithDelay).
 */
const FERRETDB_SHUTDOWN = /context canceled after delay$/;

/** Whether an error means "the database cannot be reached" (503) rather than a bug (500). */
export function isDatabaseUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if (unavailableErrorNames.has(error.name)) return true;
  // mongoose with bufferCommands off refuses commands while disconnected with a plain Error;
  // a connection the server dropped can fail a write with the socket's own error.
  if (/Cannot call `.+` before initial connection is complete|Client must be connected|socket has been ended by the other party/.test(error.message)) return true;
  const code = (error as { code?: unknown }).code;
  if (code === MAX_TIME_EXPIRED) return true;
  if (error instanceof mongoose.mongo.MongoServerError) {
    if (typeof code === 'number' && SERVER_UNAVAILABLE_CODES.has(code)) return true;
    if (code === INTERNAL_ERROR && FERRETDB_SHUTDOWN.test(error.message)) return true;
  }
  if (typeof code === 'string' && ['EPIPE', 'ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT'].includes(code)) return true;
  const label = (error as { hasErrorLabel?: (label: string) => boolean }).hasErrorLabel;
  return typeof label === 'function' && label.call(error, 'ResetPool');
}

/**
 * Whether an error is a duplicate key (E11000) from a unique index or _id: of a single write,
 * or of every failed write of an unordered bulk insert.
 */
export function isDuplicateKey(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if ((error as { code?: unknown }).code === 11000) return true;
  const writeErrors = (error as { writeErrors?: Array<{ code?: number; err?: { code?: number } }> }).writeErrors;
  return writeErrors !== undefined && writeErrors.length > 0 && writeErrors.every((writeError) => (writeError.code ?? writeError.err?.code) === 11000);
}
