// Whether an API user is locked is derived from stored facts, never stored beside them:
// the wrong passwords since its last unlock (FailedLogins), and the account's last disable
// compared with the user's last unlock (AccountDisabled). Each fact is one write, so a lock
// can never be half-applied; a password reset moves the unlock time and so clears both.
import type { AccountRecord, ApiUserRecord } from '../db/models.js';

export type LockReason = 'FailedLogins' | 'AccountDisabled';

export function lockReasonOf(
  user: Pick<ApiUserRecord, 'unlockedAt'>,
  account: Pick<AccountRecord, 'usersLockedAt'>,
  failedLoginCount: number,
  lockoutThreshold: number,
): LockReason | null {
  if (failedLoginCount >= lockoutThreshold) return 'FailedLogins';
  if (account.usersLockedAt && account.usersLockedAt.getTime() >= user.unlockedAt.getTime()) return 'AccountDisabled';
  return null;
}
