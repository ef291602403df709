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

/** A <time> element for an ISO time, or the text for none. */
export function timeElement(iso: string | null, none: string): HTMLElement {
  if (!iso) {
    const span = document.createElement('span');
    span.textContent = none;
    return span;
  }
  const time = document.createElement('time');
  time.dateTime = iso;
  time.textContent = dateFormat.format(new Date(iso));
  return time;
}
