// Which successes forgive the wrong passwords before them. A success resets the lockout count,
// but only if the wrong passwords before it had not locked the user already, counted in the
// order everything arrived in: a user locked stays locked until its password is reset, whoever
// then sends the right password.
//
// The process that lets a success in cannot always know that: wrong passwords refused
// elsewhere reach it through its polls, up to AUTH_STATE_TTL_MS later (more, for a row still
// being written). So its own successes count here at once, and are judged again with every
// wrong password heard of since; and they are told to the other processes (written as the
// user's forgiving success, `lastUsed`) only once every wrong password that arrived before
// them has had time to land (LATE_FAILURE_ROW_MS), and only if none of them had locked the user
// before them. A success let in during a lock made elsewhere that this process had not heard
// of yet (which the TTL allows) therefore lifts nothing: once the lock is heard of, it stands
// here too.
import type { ApiUserRecord } from '../db/models.js';
import { againstCurrentPassword, since, type WrongPassword } from '../domain/loginActivity.js';

type UserRef = Pick<ApiUserRecord, '_id' | 'unlockedAt'>;

/** What deciding from when wrong passwords count needs of a user's auth state. */
export interface SuccessesAndFailures {
  user: UserRef;
  /** The latest success known to forgive (read from the database, or settled here). */
  lastSuccess: Date | null;
  /** This process's successes since, in their order, not settled yet (see withOwnSuccess). */
  ownSuccesses: readonly Date[];
  /** Wrong passwords against the current password (see keptWrongPasswords). */
  wrongPasswords: readonly WrongPassword[];
}

/** Own successes kept at most: past that the oldest is dropped, which can only make a lock more likely. */
const MAX_OWN_SUCCESSES = 32;

/**
 * From when wrong passwords count, as this process knows them now: its last forgiving success,
 * then each own success after it that came before any lock (the first that came after
 * `threshold` wrong passwords in a row forgives nothing, and no later one does).
 */
export function countFrom(state: SuccessesAndFailures, threshold: number): Date {
  let from = since(state.user, state.lastSuccess);
  for (const success of state.ownSuccesses) {
    if (success <= from) continue;
    if (between(state.wrongPasswords, from, success) >= threshold) break;
    from = success;
  }
  return from;
}

/**
 * The own successes with one at `at` added. Those of one poll interval (from `intervalStart`)
 * with no wrong password known between them are one: the later stands for both (a busy caller
 * is one entry per interval, not one per call). A wrong password heard of later that arrived
 * between them is then taken as before the later one, which can only make a lock more likely,
 * and only when `threshold` of them arrive within one interval. Successes older than
 * `settledBefore` with no wrong password known at all are dropped: there is nothing for them
 * to forgive, and nothing more can arrive before them.
 */
export function withOwnSuccess(state: SuccessesAndFailures, at: Date, intervalStart: number, settledBefore: number): Date[] {
  const own = state.wrongPasswords.length === 0 ? state.ownSuccesses.filter((success) => success.getTime() >= settledBefore) : [...state.ownSuccesses];
  const last = own[own.length - 1];
  if (last && at < last) return [...own, at].sort((x, y) => x.getTime() - y.getTime()).slice(-MAX_OWN_SUCCESSES);
  if (last && last.getTime() >= intervalStart && between(state.wrongPasswords, last, at) === 0) own[own.length - 1] = at;
  else own.push(at);
  return own.slice(-MAX_OWN_SUCCESSES);
}

/** What settling a state's own successes changed (see settleOwnSuccesses). */
export interface Settled {
  lastSuccess: Date | null;
  ownSuccesses: Date[];
  /** The latest settled success that forgave a wrong password known here: to be written, so that the others count from it. */
  forgiving: Date | null;
}

/**
 * Settles the own successes that arrived before `horizon`, by when every wrong password before
 * them has been heard of: those that came before any lock become the last success (the latest
 * of them), those after one are dropped (they forgive nothing). Later ones wait.
 */
export function settleOwnSuccesses(state: SuccessesAndFailures, horizon: Date, threshold: number): Settled {
  let from = since(state.user, state.lastSuccess);
  let lastSuccess = state.lastSuccess;
  let forgiving: Date | null = null;
  let locked = false;
  const waiting: Date[] = [];
  for (const success of state.ownSuccesses) {
    if (success > horizon) waiting.push(success);
    else if (locked || success <= from) continue;
    else {
      const forgiven = between(state.wrongPasswords, from, success);
      if (forgiven >= threshold) {
        locked = true;
        continue;
      }
      if (forgiven > 0) forgiving = success;
      from = success;
      lastSuccess = success;
    }
  }
  return { lastSuccess, ownSuccesses: waiting, forgiving };
}

/**
 * The wrong passwords worth keeping: against the current password, after the last forgiving
 * success, and, between each two own successes (and after the last), the newest `threshold`
 * (more tell nothing more: that many lock). Newest first.
 */
export function keptWrongPasswords<T extends WrongPassword>(wrongPasswords: readonly T[], state: Omit<SuccessesAndFailures, 'wrongPasswords'>, threshold: number): T[] {
  const from = since(state.user, state.lastSuccess);
  const bounds = state.ownSuccesses.filter((success) => success > from);
  const perSpan = new Map<number, number>();
  return wrongPasswords
    .filter((wrongPassword) => wrongPassword.at > from && againstCurrentPassword(wrongPassword, state.user))
    .sort((x, y) => y.at.getTime() - x.at.getTime())
    .filter((wrongPassword) => {
      // A wrong password in the same millisecond as a success is taken as before it (see between).
      const span = bounds.filter((success) => success < wrongPassword.at).length;
      const count = (perSpan.get(span) ?? 0) + 1;
      perSpan.set(span, count);
      return count <= threshold;
    });
}

/** How many of the wrong passwords arrived after `from` and by `to` (one in the same millisecond as a success is taken as before it). */
function between(wrongPasswords: readonly WrongPassword[], from: Date, to: Date): number {
  let count = 0;
  for (const wrongPassword of wrongPasswords) if (wrongPassword.at > from && wrongPassword.at <= to) count += 1;
  return count;
}
