// Builds the gateway from its parts: the domain services over one database, the shared
// authentication gate, and the two doors onto the one operation table. No logic of its own.
import express, { type Express } from 'express';
import type { Logger } from 'pino';
import { AuthStateCache } from './auth/authStateCache.js';
import { CredentialVerifier } from './auth/credentials.js';
import { VerifiedCredentialCache } from './auth/verifiedCredentialCache.js';
import type { Config } from './config.js';
import type { Database } from './db/connection.js';
import { Accounts } from './domain/accounts.js';
import { AuditTrail } from './domain/auditTrail.js';
import { ApiUsers } from './domain/apiUsers.js';
import { CallQuota } from './domain/callQuota.js';
import { LastUsedRecorder } from './domain/lastUsedRecorder.js';
import { LoginActivity } from './domain/loginActivity.js';
import { PasswordHasher } from './domain/passwords.js';
import { errors } from './errors.js';
import type { LogOutput } from './logger.js';
import { operations, type Operation } from './operations/index.js';
import { callGate, usernameTokenGate } from './transports/callGate.js';
import type { DoorDependencies } from './transports/doorDependencies.js';
import { RequestCallContext } from './transports/requestCallContext.js';
import { consoleRouter } from './console/serveConsole.js';
import { Health } from './observability/health.js';
import { Metrics } from './observability/metrics.js';
import { OPENAPI_PATH, openApiDocumentHandler } from './openapi/route.js';
import { observeRequests } from './observability/observeRequests.js';
import { restDoor, restErrorHandler } from './transports/rest/restDoor.js';
import { soapDoor } from './transports/soap/soapDoor.js';
import { SOAP_PATH } from './transports/soap/wsdlDocument.js';

export interface Services {
  hasher: PasswordHasher;
  authStates: AuthStateCache;
  lastUsed: LastUsedRecorder;
  loginActivity: LoginActivity;
  auditTrail: AuditTrail;
  apiUsers: ApiUsers;
  accounts: Accounts;
  quota: CallQuota;
  verifier: CredentialVerifier;
}

export function createServices(config: Config, database: Database, logger?: Logger, metrics?: Metrics): Services {
  const hasher = new PasswordHasher(config.BCRYPT_COST, {
    slots: config.BCRYPT_POOL_SIZE,
    maxQueueWaitMs: config.BCRYPT_QUEUE_MAX_WAIT_MS,
    nice: config.BCRYPT_NICE,
    observer: { shed: () => metrics?.bcryptShed.inc(), served: (serviceMs) => metrics?.bcryptBusySeconds.inc(serviceMs / 1000) },
  });
  const lastUsed = new LastUsedRecorder(database.models, config.LAST_USED_FLUSH_MS);
  // Called only once both exist (to show users).
  const loginActivity = new LoginActivity(database.models, lastUsed, (userId) => authStates.failuresCountFromHere(userId));
  const auditTrail = new AuditTrail(database.models, (userIds) => loginActivity.forget(userIds), database.scans);
  let pollFailing = false;
  const authStates = new AuthStateCache(database.models, loginActivity, config.LOCKOUT_THRESHOLD, config.AUTH_STATE_TTL_MS, config.AUTH_CACHE_MAX, {
    // Said once when polls start failing (every state is then re-read on use), not twice a second.
    pollFailed: (error) => {
      if (!pollFailing) logger?.warn({ err: error }, 'reading what changed failed: authentication re-reads each user until it works again');
      pollFailing = true;
    },
    polled: () => {
      if (pollFailing) logger?.info('reading what changed works again');
      pollFailing = false;
    },
    forgivenessFailed: (error) => {
      logger?.warn({ err: error }, 'writing a success that forgave wrong passwords failed: tried again with the next poll');
    },
    lockFound: (user, runStart, lockedAt) => {
      auditTrail.recordLock(user, runStart, lockedAt, config.LOCKOUT_THRESHOLD).catch((error: unknown) => {
        logger?.warn({ err: error }, 'recording a lock in the audit log failed');
      });
    },
  });
  const apiUsers = new ApiUsers(database.models, hasher, loginActivity, auditTrail, {
    scans: database.scans,
    usernameDomain: config.API_USER_DOMAIN,
    lockoutThreshold: config.LOCKOUT_THRESHOLD,
    usersChanged: (userIds) => {
      for (const userId of userIds) authStates.forgetUser(userId);
    },
  });
  return {
    hasher,
    authStates,
    lastUsed,
    loginActivity,
    auditTrail,
    apiUsers,
    accounts: new Accounts(database.models, apiUsers, auditTrail, (accountId) => authStates.forgetAccount(accountId)),
    quota: new CallQuota(database.models, config.QUOTA_SYNC_MS),
    verifier: new CredentialVerifier(
      authStates,
      new VerifiedCredentialCache(config.AUTH_CACHE_TTL_MS, config.AUTH_CACHE_MAX),
      hasher,
      loginActivity,
      auditTrail,
      config.LOCKOUT_THRESHOLD,
      {
        backgroundError: (error) => logger?.warn({ err: error }, 'recording a failed login failed'),
        lockedOut: () => metrics?.lockouts.inc(),
        cacheLookup: (decided) => metrics?.credentialCache.inc({ result: decided ? 'hit' : 'miss' }),
      },
    ),
  };
}

export interface Gateway {
  app: Express;
  services: Services;
  metrics: Metrics;
  health: Health;
  /** Flushes what is buffered; the caller closes the HTTP server and the database. */
  close(): Promise<void>;
}

export interface GatewayOptions {
  /** The operation table to serve; the product's own unless a test brings another. */
  operations?: readonly Operation[] | undefined;
  /** What the logger could not write (the server's own logger; tests log elsewhere). */
  logOutput?: LogOutput | undefined;
}

export async function createGateway(
  config: Config,
  database: Database,
  logger: Logger,
  options: GatewayOptions = {},
): Promise<Gateway> {
  const table = options.operations ?? operations;
  const metrics = new Metrics();
  const health = new Health(database.connection);
  const services = createServices(config, database, logger, metrics);
  metrics.watchBcryptQueue(() => services.hasher.queueLength);
  if (options.logOutput) metrics.watchLogOutput(options.logOutput);
  metrics.watchDatabase(database.connection.getClient());
  metrics.watchDatabase(database.scans.ApiUser.db.getClient());
  const operationServices = {
    apiUsers: services.apiUsers,
    accounts: services.accounts,
    loginActivity: services.loginActivity,
    auditTrail: services.auditTrail,
  };
  const dependencies: DoorDependencies = {
    config,
    logger,
    authenticate: callGate(services.verifier, services.quota),
    authenticateByUsernameToken: (tokenOf) => usernameTokenGate(services.verifier, services.quota, tokenOf),
    callContext: (req, caller, quota) => new RequestCallContext(req, caller, quota, operationServices, config.LOCKOUT_THRESHOLD, config.PUBLIC_URL),
  };

  const app = express();
  app.disable('x-powered-by');
  // req.ip (the allowlists, audit events, logs) is the socket's address unless proxies are
  // trusted to say who their client was (see TRUST_PROXY in src/config.ts).
  if (config.TRUST_PROXY !== undefined) app.set('trust proxy', config.TRUST_PROXY);
  app.set('etag', false);
  app.enable('case sensitive routing');
  // The doors' calls first, as directly as Express allows (every layer a call passes costs it):
  // the SOAP door is entered only on its path, the REST door answers every other /v2 path
  // (404 for unknown ones), and what is left (probes, metrics, the Access page) comes after.
  app.use(observeRequests(logger, metrics, health));
  app.get(OPENAPI_PATH, openApiDocumentHandler(table, config)); // public, like the WSDL: before the REST door's gate
  app.use(SOAP_PATH, await soapDoor(table, dependencies));
  app.use(restDoor(table, dependencies));
  app.get('/healthz', health.liveness());
  app.get('/readyz', health.readiness());
  app.get('/metrics', metrics.endpoint(config.METRICS_TOKEN));
  app.use(consoleRouter());
  app.use((req, _res, next) => next(errors.routeNotFound(req.method, req.path)));
  app.use(restErrorHandler(logger, table));
  // Users written before username rows existed get theirs; whatever a crashed process left
  // half-published is finished before serving, then watched for.
  await services.apiUsers.indexUsernames();
  await services.auditTrail.recover();
  services.auditTrail.startRecovery((error) => logger.warn({ err: error }, 'audit recovery failed'));

  return {
    app,
    services,
    metrics,
    health,
    close: async () => {
      services.auditTrail.stopRecovery();
      services.authStates.close();
      await Promise.all([services.quota.close(), services.lastUsed.close(), services.hasher.close(), services.authStates.writeSettled()]);
    },
  };
}
