// A real gateway for a test: its own database on the run's server, listening on a free port.
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import type { Express } from 'express';
import { pino } from 'pino';
import { createGateway, createServices, type Gateway } from '../../src/app.js';
import { loadConfig, type Config } from '../../src/config.js';
import { connectDatabase, type Database } from '../../src/db/connection.js';
import { createHttpServer } from '../../src/transports/httpServer.js';
import type { Operation } from '../../src/operations/define.js';
import { databaseServerUri } from './rootHooks.js';

export interface TestAccount {
  accountId: string;
  name: string;
  username: string;
  password: string;
}

export interface TestGateway {
  /** The app, for in-process calls through supertest (see http.ts). */
  app: Express;
  /** The gateway listening on a port, for calls where the socket matters. */
  baseUrl: string;
  config: Config;
  gateway: Gateway;
  database: Database;
  databaseUri: string;
  server: Server;
  /** A new account and its owner, through the same code the CLI uses. */
  createAccount(options?: { name?: string; callsPerHour?: number }): Promise<TestAccount>;
  close(): Promise<void>;
}

/**
 * An account made straight in a database, through the services the CLI uses (for tests whose
 * gateways run as processes of their own): its record, its owner and the owner's credentials.
 */
export async function createAccountIn(database: Database, name: string, callsPerHour = 1_000_000) {
  const { accounts } = createServices(loadConfig({ BCRYPT_COST: '4' }), database);
  const created = await accounts.create({ name, mainEmail: 'owner@example.com', apiCallsPerHour: callsPerHour });
  return { ...created, credentials: { username: created.owner.username, password: created.password } };
}

export function uniqueDatabaseUri(): string {
  return `${databaseServerUri()}/t_${randomBytes(6).toString('hex')}`;
}

export async function startTestGateway(
  options: {
    env?: Record<string, string>;
    databaseUri?: string;
    operations?: readonly Operation[];
    /** Collects the gateway's log lines (JSON) when given. */
    logLines?: string[];
  } = {},
): Promise<TestGateway> {
  const databaseUri = options.databaseUri ?? uniqueDatabaseUri();
  // Tests hash at a low cost to run fast; one test keeps the default of 12.
  const config = loadConfig({ BCRYPT_COST: '4', QUOTA_SYNC_MS: '0', ...options.env });
  const database = await connectDatabase(databaseUri, { operationTimeoutMs: config.DB_OPERATION_TIMEOUT_MS });
  const logLines = options.logLines;
  const logger = logLines
    ? pino({ level: 'info' }, { write: (line: string) => void logLines.push(line) })
    : pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
  const gateway = await createGateway(config, database, logger, { operations: options.operations });
  const server = createHttpServer(gateway.app).listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', resolve));
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  let accounts = 0;
  return {
    app: gateway.app,
    baseUrl,
    config,
    gateway,
    database,
    databaseUri,
    server,
    async createAccount(accountOptions = {}) {
      const name = accountOptions.name ?? `Company ${++accounts} ${randomBytes(3).toString('hex')}`;
      const created = await gateway.services.accounts.create({
        name,
        mainEmail: `owner${accounts}@example.com`,
        apiCallsPerHour: accountOptions.callsPerHour,
      });
      return { accountId: created.account._id.toHexString(), name, username: created.owner.username, password: created.password };
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await gateway.close();
      // A database given by the test is shared with another gateway, which may still use it.
      if (!options.databaseUri) await database.connection.dropDatabase().catch(() => {});
      await database.close();
    },
  };
}
