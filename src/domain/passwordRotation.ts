// Password rotation without downtime: a reset may keep the password it replaces working for a
// few hours beside the new one, so that an integration's machines can move over one by one
// (as Stripe keeps a rolled key, or AWS gives a user two access keys). The replaced password's
// bcrypt hash stays on the user until then; another reset, a disable or a delete drops it.
import type { ApiUserRecord } from '../db/models.js';
import { HOUR_MS } from './clockHours.js';

/** Until when the replaced password works, when it still does at `now`; else null. */
export function previousPasswordExpiry(user: ApiUserRecord, now: Date): Date | null {
  const expires = user.previousPasswordExpires ?? null;
  return user.previousPasswordHash && expires && expires > now ? expires : null;
}

/** The hash a password may also match at `at` (the replaced one, in its grace), or null. */
export function previousPasswordHashAt(user: ApiUserRecord, at: Date): string | null {
  return previousPasswordExpiry(user, at) ? (user.previousPasswordHash ?? null) : null;
}

/** What a reset writes of the replaced password: kept for `hours` (0: dropped at once). */
export function rotationFields(
  replacedHash: string,
  hours: number,
  now: Date,
): Pick<ApiUserRecord, 'previousPasswordHash' | 'previousPasswordExpires'> {
  if (hours <= 0) return ENDED_GRACE;
  return { previousPasswordHash: replacedHash, previousPasswordExpires: new Date(now.getTime() + hours * HOUR_MS) };
}

/** What ends a grace at once (a disable). */
export const ENDED_GRACE: Readonly<Pick<ApiUserRecord, 'previousPasswordHash' | 'previousPasswordExpires'>> = {
  previousPasswordHash: null,
  previousPasswordExpires: null,
};
