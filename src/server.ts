// Process entry: configuration, database, HTTP, and a clean stop on SIGINT/SIGTERM.
import type { Server } from 'node:http';
import { createGateway, type Gateway } from './app.js';
import { ConfigError, loadConfig } from './config.js';
import { connectDatabase, type Database } from './db/connection.js';
import { DatabaseNotFoundError, startDatabaseServer, type DatabaseServer } from './db/databaseServer.js';
import { lookupsScanOn } from './db/indexedLookups.js';
import { createDemoAccountIfEmpty } from './demoAccount.js';
import { createLogger } from './logger.js';
import { createHttpServer, stopAccepting } from './transports/httpServer.js';

/** What is running so far: a stop during startup undoes exactly that much. */
interface Running {
  databaseServer?: DatabaseServer;
  database?: Database;
  gateway?: Gateway;
  server?: Server;
}

/** How long the last log lines may take to be written at a stop (see LogOutput.end). */
const LOG_END_TIMEOUT_MS = 2000;

const running: Running = {};
let stopRequested: string | undefined;
let onStopRequested: (() => void) | undefined;

// Installed first, so that a signal at any moment of startup also stops cleanly.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopRequested) return;
    stopRequested = signal;
    onStopRequested?.();
  });
}

async function main(): Promise<void> {
  const config = loadConfig();
  const { logger, output: logOutput } = createLogger(config.LOG_LEVEL, config.LOG_BUFFER_MAX_BYTES);
  const stop = async () => {
    logger.info({ signal: stopRequested }, 'stopping');
    const { server, gateway, database, databaseServer } = running;
    gateway?.health.draining();
    if (server) {
      // In-flight requests finish, for SHUTDOWN_TIMEOUT_MS at most.
      await stopAccepting(server, config.SHUTDOWN_TIMEOUT_MS, () =>
        logger.warn({ timeoutMs: config.SHUTDOWN_TIMEOUT_MS }, 'connections still open at the shutdown deadline: closing them'),
      );
    }
    await gateway?.close().catch((error: unknown) => logger.warn({ err: error }, 'flush at shutdown failed'));
    await database?.close();
    await databaseServer?.stop();
    await logOutput.end('stopped', LOG_END_TIMEOUT_MS);
    process.exit(0);
  };
  const stopIfRequested = () => {
    if (stopRequested) void stop();
    return stopRequested !== undefined;
  };
  // Until the server listens, a signal is acted on between startup steps.
  running.databaseServer = await startDatabaseServer({
    mongodbUri: config.MONGODB_URI,
    dataDir: config.DATA_DIR,
    onBuild: (message) => console.log(message),
  });
  if (stopIfRequested()) return;
  running.database = await connectDatabase(running.databaseServer.uri, {
    operationTimeoutMs: config.DB_OPERATION_TIMEOUT_MS,
    onClientRestart: (error) => {
      if (error) logger.warn({ err: error }, 'database client restart failed: trying again in a second');
      else logger.warn('database monitor hung: the database client was restarted');
    },
  });
  if (stopIfRequested()) return;
  const scanningVersion = await lookupsScanOn(running.database).catch(() => null);
  if (scanningVersion) {
    logger.warn(
      { ferretdbVersion: scanningVersion },
      'this FerretDB reads a whole collection for every lookup: authentication slows with the number of API users, and listings with the size of the database. ' +
        'Build FerretDB with scripts/build-ferretdb.sh, or use MongoDB (docs/operations.md)',
    );
  }
  running.gateway = await createGateway(config, running.database, logger, { logOutput });
  const demo = config.DEMO_ACCOUNT === 'on' || (config.DEMO_ACCOUNT === 'auto' && config.MONGODB_URI === undefined);
  if (demo) await createDemoAccountIfEmpty(running.gateway.services.accounts, (line) => console.log(line));
  if (stopIfRequested()) return;

  const server: Server = createHttpServer(running.gateway.app).listen(config.PORT, config.HOST ?? '0.0.0.0');
  running.server = server;
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', (error: NodeJS.ErrnoException) => reject(hostRefused(error, config.HOST) ?? error));
  });
  onStopRequested = () => void stop();
  if (stopIfRequested()) return;
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.PORT;
  logger.info({ port, database: running.databaseServer.kind }, `dualgate listening on port ${port}`);
}

/**
 * A HOST that names no address of this machine (unknown to the resolver, or another machine's)
 * is a configuration error like any other: exit 2, naming it. Anything else (the port taken,
 * the resolver away) is not.
 */
function hostRefused(error: NodeJS.ErrnoException, host: string | undefined): ConfigError | undefined {
  if (host === undefined || (error.code !== 'ENOTFOUND' && error.code !== 'EADDRNOTAVAIL')) return undefined;
  return new ConfigError(`Invalid configuration: HOST must name an address of this machine (got "${host}": ${error.code}).`);
}

main().catch(async (error: unknown) => {
  await running.databaseServer?.stop().catch(() => {});
  if (error instanceof ConfigError || error instanceof DatabaseNotFoundError) {
    console.error(error.message);
    process.exit(2);
  }
  console.error('dualgate could not start:', error instanceof Error ? error.message : error);
  process.exit(1);
});
