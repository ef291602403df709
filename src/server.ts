// Process entry: configuration, database, HTTP, and a clean stop on SIGINT/SIGTERM.
import type { Server } from 'node:http';
import { createGateway } from './app.js';
import { ConfigError, loadConfig } from './config.js';
import { connectDatabase } from './db/connection.js';
import { DatabaseNotFoundError, startDatabaseServer } from './db/databaseServer.js';
import { createDemoAccountIfEmpty } from './demoAccount.js';
import { createLogger } from './logger.js';

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(config.LOG_LEVEL);
  const databaseServer = await startDatabaseServer({
    mongodbUri: config.MONGODB_URI,
    dataDir: config.DATA_DIR,
    onBuild: (message) => console.log(message),
  });
  const database = await connectDatabase(databaseServer.uri);
  const gateway = await createGateway(config, database, logger);
  await createDemoAccountIfEmpty(gateway.services.accounts, (line) => console.log(line));

  const server: Server = gateway.app.listen(config.PORT, config.HOST ?? '0.0.0.0');
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.PORT;
  logger.info({ port, database: databaseServer.kind }, `dualgate listening on port ${port}`);

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping');
    // Stops accepting; in-flight requests finish, idle keep-alive connections are dropped.
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    void (async () => {
      await closed;
      await gateway.close().catch((error: unknown) => logger.warn({ err: error }, 'flush at shutdown failed'));
      await database.close();
      await databaseServer.stop();
      logger.info('stopped');
      process.exit(0);
    })();
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError || error instanceof DatabaseNotFoundError) {
    console.error(error.message);
    process.exit(2);
  }
  console.error('dualgate could not start:', error instanceof Error ? error.message : error);
  process.exit(1);
});
