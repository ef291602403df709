// How a user's fields read in the list.
import type { ApiUser } from './api.js';

const LOCK_REASONS: Record<NonNullable<ApiUser['lockReason']>, string> = {
  FailedLogins: 'too many wrong passwords',
  AccountDisabled: 'the account was disabled',
};

export interface StatusText {
  text: string;
  kind: 'enabled' | 'disabled' | 'locked';
}

export function statusOf(user: ApiUser): StatusText {
  if (user.locked) {
    const reason = user.lockReason ? LOCK_REASONS[user.lockReason] : 'locked';
    return { text: `${user.enabled ? 'Locked' : 'Disabled and locked'}: ${reason}`, kind: 'locked' };
  }
  return user.enabled ? { text: 'Enabled', kind: 'enabled' } : { text: 'Disabled', kind: 'disabled' };
}

const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

/** A <time> element for an ISO time (shown in local time, the ISO time as its title), or the text for none. */
export function timeElement(iso: string | null, none: string): HTMLElement {
  if (!iso) {
    const span = document.createElement('span');
    span.textContent = none;
    return span;
  }
  const time = document.createElement('time');
  time.dateTime = iso;
  time.title = iso;
  time.textContent = dateFormat.format(new Date(iso));
  return time;
}

/** Where a user may call from, in short: "Any address", "2 addresses", "1 address, 1 range". */
export function allowlistSummary(entries: readonly string[]): string {
  if (entries.length === 0) return 'Any address';
  const ranges = entries.filter((entry) => entry.includes('/')).length;
  const addresses = entries.length - ranges;
  const parts: string[] = [];
  if (addresses > 0) parts.push(addresses === 1 ? '1 address' : `${addresses} addresses`);
  if (ranges > 0) parts.push(ranges === 1 ? '1 range' : `${ranges} ranges`);
  return parts.join(', ');
}

/** "Old password works until <time>" while the grace of the last reset lasts, else null. */
export function rotationNote(user: ApiUser, now = Date.now()): HTMLElement | null {
  const until = user.previousPasswordExpires;
  if (!until || Date.parse(until) <= now) return null;
  const note = document.createElement('span');
  note.className = 'rotation';
  note.append('Old password works until ', timeElement(until, ''));
  return note;
}
