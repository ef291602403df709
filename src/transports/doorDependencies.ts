import type { Request, RequestHandler } from 'express';
import type { Logger } from 'pino';
import type { Caller } from '../auth/credentials.js';
import type { UsernameTokenOf } from '../auth/usernameTokenStrategy.js';
import type { Config } from '../config.js';
import type { QuotaState } from '../domain/callQuota.js';
import type { CallContext } from '../operations/context.js';

/** What the app hands each door: settings, the shared gate, and how to build a call's context. */
export interface DoorDependencies {
  config: Config;
  logger: Logger;
  /** HTTP Basic, then the quota (callGate): run in this order before any operation. */
  authenticate: RequestHandler[];
  /** The same gate with a WS-Security UsernameToken instead (the SOAP door's, for calls without HTTP Basic). */
  authenticateByUsernameToken(tokenOf: UsernameTokenOf): RequestHandler[];
  callContext(req: Request, caller: Caller, quota: QuotaState): CallContext;
}
