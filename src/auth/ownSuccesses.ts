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
//
// Everything here walks the successes and the wrong passwords side by side, in time order:
// linear in what is kept, which a busy user with a wrong password now and then makes hundreds.
import type { ApiUserRecord } from '../db/models.js';
import { againstCurrentPassword, since, type WrongPassword } from '../domain/loginActivity.js';

type UserRef = Pick<ApiUserRecord, '_id' | 'unlockedAt'>;

/** What deciding from when wrong passwords count needs of a user's auth state. */
export interface SuccessesAndFailures {
  user: UserRef;
  /** The latest success known to forgive (read from the database, or settled here). */
  lastSuccess: Date | null;
  /**
   * This process's successes since, oldest first, not settled yet (see withOwnSuccess): their
   * times in ms, a dozen or so numbers per busy user rather than as many Date objects.
   */
  ownSuccesses: readonly number[];
  /** Wrong passwords against the current password, newest first (see keptWrongPasswords). */
  wrongPasswords: readonly WrongPassword[];
}

/** From when wrong passwords count, and how many do. */
export interface Count {
  from: Date;
  counting: number;
}

/**
 * Own successes kept at most: past that the oldest is dropped, which can only make a lock more
 * likely. Only a user with thousands of wrong passwords among its successes within seconds
 * comes near it.
 */
const MAX_OWN_SUCCESSES = 4096;

/**
 * From when wrong passwords count, as this process knows them now, and how many do: its last
 * forgiving success, then each own success after it that came before any lock (the first that
 * came after `threshold` wrong passwords in a row forgives nothing, and no later one does).
 * A wrong password in the same millisecond as a success is taken as before it.
 */
export function countFrom(state: SuccessesAndFailures, threshold: number): Count {
  const start = since(state.user, state.lastSuccess);
  let from = start.getTime();
  let counting = 0;
  let next = 0;
  const successes = state.ownSuccesses;
  // Oldest first.
  for (let index = state.wrongPasswords.length - 1; index >= 0; index--) {
    const at = state.wrongPasswords[index]!.at.getTime();
    if (at <= from) continue;
    // The successes before this wrong password each reset the count, until a lock.
    while (counting < threshold && next < successes.length && successes[next]! < at) {
      if (successes[next]! > from) {
        from = successes[next]!;
        counting = 0;
      }
      next += 1;
    }
    counting += 1;
  }
  const latest = successes[successes.length - 1];
  if (counting < threshold && latest !== undefined && latest > from) {
    from = latest;
    counting = 0;
  }
  return { from: from === start.getTime() ? start : new Date(from), counting };
}

/**
 * The own successes with one at `at` added. Two of one poll interval (from `intervalStart`)
 * are one, the later standing for both, when no wrong password known here came before the
 * earlier one (since the success before it) or between them: a busy caller is one entry per
 * interval, not one per call, and one per wrong password among its calls. A wrong password
 * heard of later that arrived between them is then taken as before the later one, which can
 * only make a lock more likely, and only when `threshold` of them arrive within one interval.
 * Successes older than `settledBefore` with no wrong password known at all are dropped: there
 * is nothing for them to forgive, and nothing more can arrive before them.
 */
export function withOwnSuccess(state: SuccessesAndFailures, at: number, intervalStart: number, settledBefore: number): number[] {
  const newestWrong = state.wrongPasswords[0]?.at.getTime();
  const own = newestWrong !== undefined ? [...state.ownSuccesses] : state.ownSuccesses.filter((success) => success >= settledBefore);
  const last = own[own.length - 1];
  if (last !== undefined && at < last) return [...own, at].sort((x, y) => x - y).slice(-MAX_OWN_SUCCESSES);
  const previous = own[own.length - 2] ?? since(state.user, state.lastSuccess).getTime();
  const merges = last !== undefined && last >= intervalStart && !(newestWrong !== undefined && newestWrong > previous);
  if (merges) own[own.length - 1] = at;
  else own.push(at);
  return own.length > MAX_OWN_SUCCESSES ? own.slice(-MAX_OWN_SUCCESSES) : own;
}

/** What settling a state's own successes changed (see settleOwnSuccesses). */
export interface Settled {
  lastSuccess: Date | null;
  ownSuccesses: number[];
  /** The latest settled success that forgave a wrong password known here: to be written, so that the others count from it. */
  forgiving: Date | null;
}

/**
 * Settles the own successes that arrived by `horizon`, by when every wrong password before them
 * has been heard of: those that came before any lock become the last success (the latest of
 * them), those after one are dropped (they forgive nothing). Later ones wait.
 */
export function settleOwnSuccesses(state: SuccessesAndFailures, horizon: number, threshold: number): Settled {
  const settling = state.ownSuccesses.filter((success) => success <= horizon);
  const waiting = state.ownSuccesses.filter((success) => success > horizon);
  const { from } = countFrom({ ...state, ownSuccesses: settling }, threshold);
  const before = since(state.user, state.lastSuccess);
  if (from <= before) return { lastSuccess: state.lastSuccess, ownSuccesses: waiting, forgiving: null };
  const forgave = state.wrongPasswords.some((wrongPassword) => wrongPassword.at > before && wrongPassword.at <= from);
  return { lastSuccess: from, ownSuccesses: waiting, forgiving: forgave ? from : null };
}

/**
 * The wrong passwords worth keeping: against the current password, after the last forgiving
 * success, and, between each two own successes (and after the last), the first `threshold`
 * and the last `threshold` (more tell nothing more: the first that many lock, and the last of
 * them says when; the last that many still do when a success elsewhere, heard of later, turns
 * out to have come among them). Newest first.
 */
export function keptWrongPasswords<T extends WrongPassword>(wrongPasswords: readonly T[], state: Omit<SuccessesAndFailures, 'wrongPasswords'>, threshold: number): T[] {
  const from = since(state.user, state.lastSuccess);
  const bounds = state.ownSuccesses;
  const oldestFirst = wrongPasswords
    .filter((wrongPassword) => wrongPassword.at > from && againstCurrentPassword(wrongPassword, state.user))
    .sort((x, y) => x.at.getTime() - y.at.getTime());
  const kept: T[] = [];
  let span: T[] = [];
  const keepSpan = () => kept.push(...(span.length <= 2 * threshold ? span : [...span.slice(0, threshold), ...span.slice(-threshold)]));
  // Walking oldest first: `next` is the first success not before the wrong password at hand
  // (one in the same millisecond is after it).
  let next = 0;
  for (const wrongPassword of oldestFirst) {
    let moved = false;
    while (next < bounds.length && bounds[next]! < wrongPassword.at.getTime()) {
      next += 1;
      moved = true;
    }
    if (moved) {
      keepSpan();
      span = [];
    }
    span.push(wrongPassword);
  }
  keepSpan();
  return kept.reverse();
}
