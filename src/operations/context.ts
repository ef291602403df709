import type { Caller } from '../auth/credentials.js';
import type { Accounts } from '../domain/accounts.js';
import type { Actor, AuditTrail } from '../domain/auditTrail.js';
import type { ApiUsers } from '../domain/apiUsers.js';
import type { QuotaState } from '../domain/callQuota.js';
import type { LoginActivity } from '../domain/loginActivity.js';

/** What an operation's handler knows of the call, whichever door it came through. */
export interface CallContext {
  caller: Caller;
  /** The caller as the audit log names it, with the address it called from. */
  actor: Actor;
  quota: QuotaState;
  /** The server's public base URL (PUBLIC_URL, else taken from the request's Host). */
  publicBaseUrl: string;
  services: {
    apiUsers: ApiUsers;
    accounts: Accounts;
    loginActivity: LoginActivity;
    auditTrail: AuditTrail;
  };
  lockoutThreshold: number;
}
