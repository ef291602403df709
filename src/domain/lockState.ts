// Whether an API user is locked is derived from stored facts, never stored beside them:
// the failure count (FailedLogins) and the account's last disable compared with the user's
// last unlock (AccountDisabled). Each fact changes in one atomic write, so a lock can never
// be half-applied, and a password reset clears both by resetting the count and the unlock time.
import type { AccountRecord, ApiUserRecord } from '../db/models.js';

export type LockReason = 'FailedLogins' | 'AccountDisabled';

export function lockReasonOf(
  user: Pick<ApiUserRecord, 'failedLoginCount' | 'unlockedAt'>,
  account: Pick<AccountRecord, 'usersLockedAt'>,
  lockoutThreshold: number,
): LockReason | null {
  if (user.failedLoginCount >= lockoutThreshold) return 'FailedLogins';
  if (account.usersLockedAt && account.usersLockedAt.getTime() >= user.unlockedAt.getTime()) return 'AccountDisabled';
  return null;
}
