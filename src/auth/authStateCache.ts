// What authentication needs to know of a username (the user, its account, its last success
// and its recent wrong passwords), read from the database once and then kept up to date by
// what changed, not re-read per user: the cost of staying current does not grow with the
// number of users.
//
// Every AUTH_STATE_TTL_MS / 3 one poll (three small queries, whatever the number of users)
// reads what changed anywhere since the last poll: the change rows that every user and account
// change leaves (db/models.ts, AuthChangeRecord: the user or account is forgotten here and read
// again on its next call), the wrong passwords recorded by any process (added to the state
// they belong to), and the successes any process wrote as forgiving them (a success elsewhere
// resets the count, see ownSuccesses.ts). So a disable, lock, delete, reset or account disable
// made anywhere is seen here within AUTH_STATE_TTL_MS.
//
// Should polls fail (the database away), a state is used only while it is younger than
// AUTH_STATE_TTL_MS or the last successful poll is: after that each is read again on use, as
// if there were no poller. Whatever this process changes is applied to the cached state or
// forgotten at once. AUTH_STATE_TTL_MS = 0 reads the database on every request.
import { LRUCache } from 'lru-cache';
import { Types } from 'mongoose';
import { isDatabaseUnavailable } from '../db/connection.js';
import type { AccountRecord, ApiUserRecord, LoginFailureRecord, Models } from '../db/models.js';
import { findLiveUser } from '../domain/apiUsers.js';
import { clockMinutesBetween } from '../domain/clockMinutes.js';
import { againstCurrentPassword, LATE_FAILURE_ROW_MS, wrongPasswordOf, type LoginActivity, type WrongPassword } from '../domain/loginActivity.js';
import { AccountCache } from './accountCache.js';
import { countFrom, keptWrongPasswords, settleOwnSuccesses, withOwnSuccess, type Count } from './ownSuccesses.js';

export interface AuthState {
  user: ApiUserRecord | null;
  account: AccountRecord | null;
  /**
   * The user's latest success known to forgive the wrong passwords before it: read from the
   * database (where a process writes one once it is sure of it, see ownSuccesses.ts), or
   * settled here.
   */
  lastSuccess: Date | null;
  /**
   * Whether `lastSuccess` was read from the database. It matters only once a wrong password
   * counts (it says from when they count), so a user read without any is read without it:
   * a storm of newcomers costs a read less each. A state that holds wrong passwords always
   * knows it (see knowLastSuccess).
   */
  lastSuccessKnown: boolean;
  /**
   * The successes this process let in after `lastSuccess`, not settled yet: they count here at
   * once, unless wrong passwords heard of since show that the user was locked before them.
   */
  ownSuccesses: number[];
  /**
   * The user's latest wrong passwords after `lastSuccess` (the first and the last lockout
   * threshold of them between each two own successes, see keptWrongPasswords), as far as this process
   * knows. Times, not a count, so that a refusal and a success crossing each other are put in
   * the order they arrived in; with their rows' ids, so that what a poll or re-read finds
   * merges with what is known here, each wrong password once.
   */
  wrongPasswords: WrongPassword[];
}

/** A state of a user that exists: what ownSuccesses.ts judges. */
function ofUser(state: AuthState): state is AuthState & { user: ApiUserRecord } {
  return state.user !== null;
}

/** A count, with what it was made of: valid while the state still holds those very values. */
interface KnownCount {
  wrongPasswords: readonly WrongPassword[];
  ownSuccesses: readonly number[];
  lastSuccess: Date | null;
  unlockedAt: Date;
  threshold: number;
  count: Count;
}

/**
 * The count of each state, as last made. Every change of a state's wrong passwords, own
 * successes or last success gives it a new array or date, so an entry is valid while they are
 * the same ones; a call of a warm user asks for it on every call, and a user with wrong
 * passwords among its successes keeps hundreds of each (ownSuccesses.ts).
 */
const knownCounts = new WeakMap<AuthState, KnownCount>();

function count(state: AuthState, threshold: number): Count {
  if (!ofUser(state)) return { from: new Date(0), counting: 0 };
  const known = knownCounts.get(state);
  if (
    known &&
    known.wrongPasswords === state.wrongPasswords &&
    known.ownSuccesses === state.ownSuccesses &&
    known.lastSuccess === state.lastSuccess &&
    known.unlockedAt === state.user.unlockedAt &&
    known.threshold === threshold
  ) {
    return known.count;
  }
  return remember(state, threshold, countFrom(state, threshold));
}

function remember(state: AuthState & { user: ApiUserRecord }, threshold: number, made: Count): Count {
  const { wrongPasswords, ownSuccesses, lastSuccess } = state;
  knownCounts.set(state, { wrongPasswords, ownSuccesses, lastSuccess, unlockedAt: state.user.unlockedAt, threshold, count: made });
  return made;
}

/** From when wrong passwords count against the user, as this process knows now (see ownSuccesses.ts). */
export function failuresCountFrom(state: AuthState, threshold: number): Date {
  return count(state, threshold).from;
}

/** The wrong passwords counting against the user now, newest first. */
function countedNow(state: AuthState, threshold: number): WrongPassword[] {
  const { from } = count(state, threshold);
  return state.wrongPasswords.filter((wrongPassword) => wrongPassword.at > from);
}

/** How many wrong passwords count against the user now. */
export function failuresCounting(state: AuthState, threshold: number): number {
  return count(state, threshold).counting;
}

/** Adds a wrong password (see keptWrongPasswords). */
export function addFailure(state: AuthState, wrongPassword: WrongPassword, threshold: number): void {
  state.wrongPasswords = kept(state, [...state.wrongPasswords, wrongPassword], threshold);
}

/** Those of `more` that are not among `known`. */
function unknownTo(known: readonly WrongPassword[], more: readonly WrongPassword[]): WrongPassword[] {
  const ids = new Set(known.map(({ id }) => id));
  return more.filter(({ id }) => !ids.has(id));
}

/** Those of `wrongPasswords` the state keeps (see keptWrongPasswords); those checked under an earlier password count for nothing. */
function kept(state: AuthState, wrongPasswords: readonly WrongPassword[], threshold: number): WrongPassword[] {
  return ofUser(state) ? keptWrongPasswords(wrongPasswords, state, threshold) : [];
}

/**
 * How far back each poll looks before the previous one started: room for rows still landing
 * when that poll read (a wrong password's row is found by when it arrived; one landing more
 * than LATE_FAILURE_ROW_MS after that is announced as a change of its user besides) and for
 * clocks of gateway processes that disagree by a few seconds. What is found twice is applied once.
 */
const POLL_OVERLAP_MS = 2 * LATE_FAILURE_ROW_MS;
/**
 * Change rows are kept this long, then removed now and then (the collection stays small: on
 * FerretDB every poll reads all of it). A process whose last successful poll is older than
 * that cannot know what it missed, and reads every state again.
 */
const CHANGE_ROWS_KEPT_MS = 60_000;
/** How recent a lock a read or poll finds must be for it to be told of (see noticeLock). */
const LOCKS_FOUND_WITHIN_MS = CHANGE_ROWS_KEPT_MS;
/**
 * Forgiving successes written at most at once: a spray of wrong passwords over thousands of
 * users, whose integrations then succeed, is written over several polls (on FerretDB an upsert
 * costs some 2 ms), each batch stamped with the time of its write.
 */
const MAX_FORGIVEN_PER_WRITE = 250;
/** Polls within one AUTH_STATE_TTL_MS: a slow one still leaves the states current. */
const POLLS_PER_TTL = 3;
/** Forgets remembered for the reads under way (a read older than all of them is not stored). */
const KEPT_FORGETS = 64;
const PRUNE_EVERY_MS = 10_000;

interface CachedState {
  state: AuthState;
  /** When it was read (Date.now()). */
  readAt: number;
  /**
   * Something changed: read again on next use. The state is kept meanwhile, for what this
   * process knows and the database may not have yet (see readAndStore).
   */
  invalidated: boolean;
}

interface Read {
  /**
   * The forget count when the read started: a read that predates a forget is not joined, and
   * is stored only if no forget made since matches it (see forgottenSince).
   */
  generation: number;
  done: Promise<CachedState>;
}

/** What a forget applies to: a username (whatever its state holds), or states it matches. */
type ForgetMatch = (username: string, state: AuthState) => boolean;

/** What the change poller tells the outside (database operations are counted elsewhere). */
export interface AuthStateObserver {
  pollFailed?(error: unknown): void;
  polled?(): void;
  /**
   * A user found locked by what a poll or read brought: wrong passwords of other processes
   * completed the run (or this one's did, counted before it heard of theirs), so no refusal
   * here said so. `runStart` is from when they count, `lockedAt` when the one that completed the run arrived.
   */
  lockFound?(user: ApiUserRecord, runStart: Date, lockedAt: Date): void;
  /** Writing a success that forgave wrong passwords failed (it is tried again with the next poll). */
  forgivenessFailed?(error: unknown): void;
}

export class AuthStateCache {
  private readonly states: LRUCache<string, CachedState> | undefined;
  /** The users' accounts, kept by the same rule (many users share one). */
  private readonly accounts: AccountCache | undefined;
  /** Reads under way, by username: concurrent readers share one. */
  private readonly reading = new Map<string, Read>();
  /** Bumped by every forget: a read that started before one is not joined. */
  private generation = 0;
  /** The latest forgets: a read under way when one was made is stored only if it does not match. */
  private readonly forgets: Array<{ generation: number; matches: ForgetMatch }> = [];
  /** Change rows applied already (id → time), so that the polls' overlap applies each once. */
  private readonly applied = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private pollUnderWay: Promise<void> | undefined;
  /** Start (Date.now()) of the last poll that succeeded: every state is current as of then. */
  private lastPollStart: number;
  private closed = false;
  private lastPrune = 0;
  /**
   * Usernames whose state has held wrong passwords: the only ones whose own successes a poll
   * settles (walking every state instead would cost each poll time in proportion to the users
   * cached). Pruned by that walk once a state has none left, or is gone.
   */
  private readonly withFailures = new Set<string>();
  /**
   * The username each stored user's state is kept under, by user id: a poll's wrong passwords
   * name users by id, and are added to their states without walking every state. Entries of
   * states the cache has dropped are removed once they outnumber the states (see remember).
   */
  private readonly usernameByUserId = new Map<string, string>();
  /** Settled successes that forgave wrong passwords and are still to be written, by user id. */
  private readonly unwritten = new Map<string, { user: ApiUserRecord; at: Date }>();
  private writingForgiveness: Promise<void> | undefined;
  /** The start of the window of the last poll after an outage: wrong passwords before it were not heard of by polls. */
  private unheardBefore = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly models: Models,
    private readonly loginActivity: LoginActivity,
    private readonly lockoutThreshold: number,
    private readonly ttlMs: number,
    maxEntries: number,
    private readonly observer: AuthStateObserver = {},
  ) {
    this.states = ttlMs > 0 && maxEntries > 0 ? new LRUCache<string, CachedState>({ max: maxEntries }) : undefined;
    this.accounts = this.states ? new AccountCache(models, maxEntries, (readAt) => this.current(readAt)) : undefined;
    // Nothing is cached before now: the first poll looks back from here.
    this.lastPollStart = Date.now();
  }

  async get(username: string): Promise<AuthState> {
    if (!this.states) {
      const state = await this.read(username);
      this.noticeLock(state, 0);
      return state;
    }
    this.startPolling();
    let cached = this.states.get(username);
    // A state that is only out of date is brought up to date by a poll (the one under way, or
    // one started now; a second when the first had started too long ago), not by a read of its
    // own: under load, per-user reads would slow the polls, which would leave more states out
    // of date, and so on. A poll the database could not answer says what a read would meet.
    for (let attempt = 0; attempt < 2 && cached && !cached.invalidated && !this.usable(cached); attempt++) {
      await this.poll().catch((error: unknown) => {
        if (isDatabaseUnavailable(error)) throw error;
      });
      cached = this.states.get(username);
    }
    if (cached && this.usable(cached)) return cached.state;
    let read = this.reading.get(username);
    if (!read || read.generation !== this.generation) {
      const generation = this.generation;
      const done = this.readAndStore(username, cached?.state, generation).finally(() => {
        if (this.reading.get(username)?.done === done) this.reading.delete(username);
      });
      read = { generation, done };
      this.reading.set(username, read);
    }
    return (await read.done).state;
  }

  /** Whether get() would answer without reading the database. */
  holds(username: string): boolean {
    const cached = this.states?.peek(username);
    return cached !== undefined && this.usable(cached);
  }

  /** Not forgotten, and current as of its read or of the last successful poll, whichever is later. */
  private usable(cached: CachedState): boolean {
    return !cached.invalidated && this.current(cached.readAt);
  }

  private current(readAt: number): boolean {
    return Math.max(readAt, this.lastPollStart) >= Date.now() - this.ttlMs;
  }

  /**
   * The state of the same user as cached now (it may have been re-read since `state` was got),
   * else `state`. Changes this process makes to what it returns are kept, not read again.
   * A forgotten entry is never it: when a read could not be stored (a change was applied while
   * it was under way), the entry left is older than the read, and would judge the user by the
   * state before the change (a reset's new password against the lock it lifted).
   */
  latest(username: string, state: AuthState): AuthState {
    const cached = this.states?.peek(username);
    if (!cached || cached.invalidated) return state;
    // Read since, and no one by that name now: the user is gone.
    if (!cached.state.user) return cached.state;
    return state.user && cached.state.user._id.equals(state.user._id) ? cached.state : state;
  }

  /** Whether states are kept between calls (not with AUTH_STATE_TTL_MS=0): what a call adds to one, the next call here sees. */
  get keepsStates(): boolean {
    return this.states !== undefined;
  }

  /** Where the forgets stand now: what changedSince is asked against. */
  get changeMark(): number {
    return this.generation;
  }

  /**
   * Whether a change of this user (a disable, a reset, a delete, its account's) was heard of
   * since `mark`, so that a state got before it may be out of date; also when too many changes
   * came since to tell.
   */
  changedSince(mark: number, username: string, state: AuthState): boolean {
    return this.forgottenSince(mark, username, state);
  }

  // Changes are rare next to calls: a scan of at most AUTH_CACHE_MAX entries is cheap.
  forgetUser(userId: Types.ObjectId): void {
    this.forgetWhere((state) => state.user?._id.equals(userId) === true);
  }

  /**
   * Every read of the username under way when it is forgotten is kept from being stored, not
   * only the one a new call would join: an older one, replaced there after another forget,
   * would otherwise store the state from before the change, current to every later poll.
   */
  forgetUsername(username: string): void {
    this.noteForget((key) => key === username);
    const cached = this.states?.peek(username);
    if (cached) cached.invalidated = true;
  }

  /** The account changed (disabled, enabled): every user of it is read again. */
  forgetAccount(accountId: Types.ObjectId): void {
    this.accounts?.forget(accountId);
    this.forgetWhere((state) => state.account?._id.equals(accountId) === true);
  }

  /**
   * Reads the user's last success into the state, unless it is known already: before a wrong
   * password is counted in it, which that time decides.
   */
  async knowLastSuccess(state: AuthState): Promise<void> {
    if (state.lastSuccessKnown || !state.user) return;
    learnLastSuccess(state, await this.loginActivity.lastSuccess(state.user._id), this.lockoutThreshold);
  }

  /** Reads what changed everywhere since the last poll and applies it (on a timer; tests call it). */
  async poll(): Promise<void> {
    if (!this.states) return;
    if (this.pollUnderWay) return this.pollUnderWay;
    const started = Date.now();
    const done = this.pollOnce(started).finally(() => {
      this.pollUnderWay = undefined;
    });
    this.pollUnderWay = done;
    return done;
  }

  private async pollOnce(started: number): Promise<void> {
    let from = new Date(this.lastPollStart - POLL_OVERLAP_MS);
    // What the rows removed since could have said is unknown: everything is read again, and
    // older rows tell nothing more.
    if (from.getTime() < started - CHANGE_ROWS_KEPT_MS + POLL_OVERLAP_MS) {
      this.accounts?.forget();
      this.forgetWhere(() => true);
      from = new Date(started - CHANGE_ROWS_KEPT_MS);
      // Nor is what wrong passwords arrived before that: successes before it are settled once read again (see settle).
      this.unheardBefore = from.getTime();
    }
    // The newest wrong passwords by their minutes, up to a writer's clock POLL_OVERLAP_MS ahead
    // of ours: an index lookup, whatever the number of rows (a row is kept for every user who
    // ever got a password wrong, and FerretDB reads a range on `at` row by row). The change
    // rows are few (kept a minute): a range on their time is cheap everywhere.
    const minutes = clockMinutesBetween(from.getTime(), started + POLL_OVERLAP_MS);
    const [changes, failures, forgiven] = await Promise.all([
      this.models.AuthChange.find({ at: { $gte: from } }, { accountId: 1, userId: 1, username: 1 }).lean().exec(),
      this.models.LoginFailure.find({ minute: { $in: minutes }, at: { $gte: from } }, { userId: 1, at: 1, unlockedAt: 1 }).lean().exec(),
      this.loginActivity.forgivenSince(from, POLL_OVERLAP_MS),
    ]);
    for (const change of changes) {
      const id = change._id.toHexString();
      if (this.applied.has(id)) continue;
      this.applied.set(id, change._id.getTimestamp().getTime());
      // By username where the row names one: only that user's reads are discarded.
      if (change.username) this.forgetUsername(change.username);
      else if (change.userId) this.forgetUser(change.userId);
      else this.forgetAccount(change.accountId);
    }
    for (const [id, at] of this.applied) {
      if (at < from.getTime() - POLL_OVERLAP_MS) this.applied.delete(id);
    }
    this.applyForgiveness(forgiven);
    await this.applyFailures(failures);
    this.settle(started);
    this.lastPollStart = started;
    this.observer.polled?.();
    if (started - this.lastPrune >= PRUNE_EVERY_MS) {
      this.lastPrune = started;
      void this.models.AuthChange.deleteMany({ at: { $lt: new Date(started - CHANGE_ROWS_KEPT_MS) } })
        .exec()
        .catch(() => {
          /* best effort: the next prune tries again */
        });
    }
  }

  /**
   * A success this process let in: it counts here at once, and forgives the wrong passwords
   * before it everywhere once settled (see ownSuccesses.ts). Without states kept
   * (AUTH_STATE_TTL_MS=0) every call reads them all from the database, and there is no poll: a
   * success after wrong passwords is settled by reading them again LATE_FAILURE_ROW_MS later.
   */
  addOwnSuccess(state: AuthState, at: Date): void {
    if (!ofUser(state)) return;
    if (!this.states) {
      if (failuresCounting(state, this.lockoutThreshold) > 0) this.settleLater(state.user, at);
      return;
    }
    const before = count(state, this.lockoutThreshold);
    const pollInterval = this.ttlMs / POLLS_PER_TTL;
    const { length } = state.ownSuccesses;
    const [first] = state.ownSuccesses;
    const latest = state.ownSuccesses[length - 1];
    // An interval as long as a poll's, also while polls fail (the last one's start then stays put).
    const intervalStart = Math.max(this.lastPollStart, at.getTime() - pollInterval);
    state.ownSuccesses = withOwnSuccess(state, at.getTime(), intervalStart, at.getTime() - LATE_FAILURE_ROW_MS - pollInterval);
    // The count with a success after everything known, as countFrom would make it: from it, unless locked.
    const newestWrong = state.wrongPasswords[0]?.at;
    // Only when nothing was dropped from the front (settled with nothing to forgive, or past the cap).
    const appended = (length === 0 || state.ownSuccesses[0] === first) && state.ownSuccesses.length - length <= 1;
    if (appended && (latest === undefined || at.getTime() >= latest) && (!newestWrong || newestWrong <= at)) remember(state, this.lockoutThreshold, before.counting < this.lockoutThreshold ? { from: at, counting: 0 } : before);
  }

  /** Settles a success without a state kept (AUTH_STATE_TTL_MS=0): its user's wrong passwords up to it, read once they have all landed. */
  private settleLater(user: ApiUserRecord, at: Date): void {
    const timer = setTimeout(() => {
      if (this.closed) return;
      void (async () => {
        const [wrongPasswords, lastSuccess] = await Promise.all([
          this.loginActivity.recentFailures(user, this.lockoutThreshold, at),
          this.loginActivity.lastSuccess(user._id),
        ]);
        const { forgiving } = settleOwnSuccesses({ user, lastSuccess, ownSuccesses: [at.getTime()], wrongPasswords }, at.getTime(), this.lockoutThreshold);
        if (forgiving) await this.loginActivity.forgive([{ user, at: forgiving }]);
      })().catch((error: unknown) => this.observer.forgivenessFailed?.(error));
    }, LATE_FAILURE_ROW_MS);
    timer.unref();
  }

  /** From when wrong passwords count against the user as this process knows it, if it holds the user's state. */
  failuresCountFromHere(userId: Types.ObjectId): Date | null {
    const state = this.cachedByUserId(userId.toHexString())?.state;
    return state ? failuresCountFrom(state, this.lockoutThreshold) : null;
  }

  /** The cached state of the user with this id (hex), if any: the polls' rows name users by id. */
  private cachedByUserId(userId: string): CachedState | undefined {
    const username = this.usernameByUserId.get(userId);
    const cached = username === undefined ? undefined : this.states?.peek(username);
    return cached?.state.user?._id.toHexString() === userId ? cached : undefined;
  }

  /** A wrong password of this process, counted in the user's state at once (see addFailure). */
  addFailure(username: string, state: AuthState, wrongPassword: WrongPassword): void {
    addFailure(state, wrongPassword, this.lockoutThreshold);
    this.withFailures.add(username);
  }

  /** Stops the poller (at shutdown), for good: a call still under way does not start it again. */
  close(): void {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  private startPolling(): void {
    if (this.timer || this.closed) return;
    this.timer = setInterval(() => {
      this.poll().catch((error: unknown) => this.observer.pollFailed?.(error));
    }, Math.max(1, Math.floor(this.ttlMs / POLLS_PER_TTL)));
    this.timer.unref();
  }

  /**
   * Other processes' wrong passwords (and this one's, already known: each is added once),
   * added once the last successes of the users they are of have been read with the poll's
   * other ones: no state holds wrong passwords without knowing from when they count.
   */
  private async applyFailures(failures: ReadonlyArray<Pick<LoginFailureRecord, '_id' | 'userId' | 'at' | 'unlockedAt'>>): Promise<void> {
    if (!this.states) return;
    const byUser = new Map<string, WrongPassword[]>();
    for (const failure of failures) {
      const key = failure.userId.toHexString();
      byUser.set(key, [...(byUser.get(key) ?? []), wrongPasswordOf(failure)]);
    }
    const found = new Map<AuthState, { wrongPasswords: WrongPassword[]; cached: CachedState }>();
    for (const [userId, wrongPasswords] of byUser) {
      const cached = this.cachedByUserId(userId);
      if (cached) found.set(cached.state, { wrongPasswords, cached });
    }
    await this.knowLastSuccesses([...found.keys()]);
    for (const [state, { wrongPasswords, cached }] of found) {
      const heard = unknownTo(state.wrongPasswords, wrongPasswords).filter((wrongPassword) => againstCurrentPassword(wrongPassword, state.user!));
      if (heard.length === 0) continue;
      const countedBefore = failuresCounting(state, this.lockoutThreshold);
      // Judged with this process's own successes: one after a lock they complete forgives nothing.
      state.wrongPasswords = kept(state, [...state.wrongPasswords, ...heard], this.lockoutThreshold);
      this.withFailures.add(state.user!.username);
      // Not in a state forgotten since (its user may have been reset: its unlock is the old one).
      if (!cached.invalidated) this.noticeLock(state, countedBefore);
    }
  }

  /** Successes written as forgiving since the last poll, by any process: a success elsewhere resets the count. */
  private applyForgiveness(forgiven: ReadonlyArray<{ userId: Types.ObjectId; lastUsed: Date }>): void {
    for (const { userId, lastUsed } of forgiven) {
      const state = this.cachedByUserId(userId.toHexString())?.state;
      if (state) learnLastSuccess(state, lastUsed, this.lockoutThreshold);
    }
  }

  /**
   * The last success of the users about to get wrong passwords, where this process never read
   * it (in one query): later ones come with the polls (applyForgiveness).
   */
  private async knowLastSuccesses(states: readonly AuthState[]): Promise<void> {
    const unknown = states.filter((state) => !state.lastSuccessKnown && state.user);
    if (unknown.length === 0) return;
    const lastSuccesses = await this.loginActivity.lastSuccesses(unknown.map((state) => state.user!._id));
    for (const state of unknown) learnLastSuccess(state, lastSuccesses.get(state.user!._id.toHexString()) ?? null, this.lockoutThreshold);
  }

  /**
   * Settles the own successes of the users with wrong passwords known here that arrived
   * LATE_FAILURE_ROW_MS or more before this poll started (every wrong password that arrived
   * before them has landed: this poll, or an earlier one, read it), and writes the latest that
   * forgave one (see ownSuccesses.ts). States forgotten since (a change of their user) too:
   * what this process knows of the user's wrong passwords is still so, and a state is
   * forgotten often (every change of its user or account) and read again only on its next
   * call. One of a user reset since forgives nothing that still counts; one of a user deleted
   * since leaves a row that nothing reads.
   */
  private settle(started: number): void {
    if (!this.states) return;
    const horizon = started - LATE_FAILURE_ROW_MS;
    for (const username of this.withFailures) {
      const cached = this.states.peek(username);
      const state = cached?.state;
      if (!state || state.wrongPasswords.length === 0) this.withFailures.delete(username);
      if (!state || !ofUser(state) || state.ownSuccesses.length === 0 || state.ownSuccesses[0]! > horizon) continue;
      // Successes from before a poll outage's window wait for their state's next read, which finds every wrong password.
      if (cached.invalidated && state.ownSuccesses[0]! < this.unheardBefore) continue;
      const { lastSuccess, ownSuccesses, forgiving } = settleOwnSuccesses(state, horizon, this.lockoutThreshold);
      Object.assign(state, { lastSuccess, ownSuccesses });
      state.wrongPasswords = kept(state, state.wrongPasswords, this.lockoutThreshold);
      if (forgiving) this.unwritten.set(state.user._id.toHexString(), { user: state.user, at: forgiving });
    }
    if (!this.writingForgiveness && this.unwritten.size > 0) {
      this.writingForgiveness = this.writeForgiveness().finally(() => {
        this.writingForgiveness = undefined;
      });
    }
  }

  /**
   * Writes settled successes that forgave wrong passwords, MAX_FORGIVEN_PER_WRITE at a time,
   * in the background: a poll does not wait for it (the states' freshness does not hang on a
   * write), and one write at a time goes. One that fails is tried again after the next poll.
   */
  private async writeForgiveness(): Promise<void> {
    const batch = [...this.unwritten.values()].slice(0, MAX_FORGIVEN_PER_WRITE);
    try {
      await this.loginActivity.forgive(batch);
      for (const entry of batch) {
        const key = entry.user._id.toHexString();
        if (this.unwritten.get(key) === entry) this.unwritten.delete(key);
      }
    } catch (error) {
      this.observer.forgivenessFailed?.(error);
    }
  }

  /** The write of forgiving successes under way, if any (tests wait for it). */
  forgivenessWritten(): Promise<void> {
    return this.writingForgiveness ?? Promise.resolve();
  }

  /** At shutdown: the successes settled and not written yet are (those not settled yet forgive nothing: see ownSuccesses.ts). */
  async writeSettled(): Promise<void> {
    await this.forgivenessWritten();
    while (this.unwritten.size > 0) {
      const before = this.unwritten.size;
      await this.writeForgiveness();
      if (this.unwritten.size >= before) return; // the database is away: nothing more to do
    }
  }

  /**
   * Tells of a lock the state shows and did not when it counted `countedBefore` (see
   * AuthStateObserver.lockFound), if it is recent: an older one was found by the processes
   * whose refusals made it (each keeps the state it refused by, and polls), and a read of a
   * user locked long ago (a restart, a cache that dropped it) must not cost an audit query.
   */
  private noticeLock(state: AuthState, countedBefore: number): void {
    const { user } = state;
    if (!user || countedBefore >= this.lockoutThreshold) return;
    // Newest first: the one that completed the run is the threshold-th from the oldest.
    const counted = countedNow(state, this.lockoutThreshold);
    const completing = counted[counted.length - this.lockoutThreshold];
    if (!completing || completing.at.getTime() < Date.now() - LOCKS_FOUND_WITHIN_MS) return;
    this.observer.lockFound?.(user, failuresCountFrom(state, this.lockoutThreshold), completing.at);
  }

  private forgetWhere(matches: (state: AuthState) => boolean): void {
    if (!this.states) return;
    this.noteForget((_username, state) => matches(state));
    for (const cached of this.states.values()) {
      if (matches(cached.state)) cached.invalidated = true;
    }
  }

  /** Remembered for the reads under way, which no call joins from now on. */
  private noteForget(matches: ForgetMatch): void {
    if (!this.states) return;
    this.generation += 1;
    this.forgets.push({ generation: this.generation, matches });
    if (this.forgets.length > KEPT_FORGETS) this.forgets.shift();
  }

  /**
   * A read, stored unless something was forgotten while it was under way (it may predate that
   * change). It keeps what this process knew of the same user and the database may not have
   * yet (a wrong password whose row is still being written, a last use not yet flushed).
   */
  private async readAndStore(username: string, stale: AuthState | undefined, generation: number): Promise<CachedState> {
    const started = Date.now();
    // Enough of the newest wrong passwords to judge each of this process's successes by (see keptWrongPasswords).
    const { state: fresh, accountReadAt } = await this.readWithAge(username, this.lockoutThreshold * (1 + (stale?.ownSuccesses.length ?? 0)));
    // As old as its older part: the account may come from the account cache, read before.
    const readAt = Math.min(started, accountReadAt);
    const state = merged(fresh, stale, this.lockoutThreshold);
    // Wrong passwords known here and not yet written (the read found none of its own).
    if (state.wrongPasswords.length > 0) {
      await this.knowLastSuccess(state);
      // With the successes let in meanwhile, judged by the stale state.
      if (stale && state.user && stale.user?._id.equals(state.user._id)) state.ownSuccesses = stale.ownSuccesses;
    }
    const cached: CachedState = { state, readAt, invalidated: false };
    if (!this.forgottenSince(generation, username, cached.state)) {
      this.remember(username, cached);
      // What the stale state knew, counted as the fresh one counts (its user may have been reset).
      const { user } = state;
      this.noticeLock(state, stale && user && stale.user?._id.equals(user._id) ? failuresCounting({ ...stale, user }, this.lockoutThreshold) : 0);
    }
    return cached;
  }

  private remember(username: string, cached: CachedState): void {
    if (!this.states) return;
    this.states.set(username, cached);
    if (cached.state.wrongPasswords.length > 0) this.withFailures.add(username);
    if (!cached.state.user) return;
    this.usernameByUserId.set(cached.state.user._id.toHexString(), username);
    if (this.usernameByUserId.size > 2 * Math.max(1024, this.states.size)) {
      this.usernameByUserId.clear();
      for (const [key, { state }] of this.states.entries()) if (state.user) this.usernameByUserId.set(state.user._id.toHexString(), key);
    }
  }

  /** Whether a forget made after `generation` matches the state (or may have: too old to tell). */
  private forgottenSince(generation: number, username: string, state: AuthState): boolean {
    if (generation === this.generation) return false;
    const oldestKept = this.forgets[0]?.generation ?? this.generation + 1;
    if (generation + 1 < oldestKept) return true;
    return this.forgets.some((forget) => forget.generation > generation && forget.matches(username, state));
  }

  /**
   * The same queries whether the username exists or not (an unknown one is looked up as a
   * user that has nothing), so that the time taken does not tell which. The last success only
   * where wrong passwords were found: only then does it count for anything.
   */
  private async read(username: string): Promise<AuthState> {
    return (await this.readWithAge(username, this.lockoutThreshold)).state;
  }

  /** A read of the user's state, with when its account was read (Date.now(): from the account cache, perhaps earlier). */
  private async readWithAge(username: string, failuresRead: number): Promise<{ state: AuthState; accountReadAt: number }> {
    const started = Date.now();
    const found = await findLiveUser(this.models, username);
    const user = found ?? NOBODY;
    const [{ account, readAt: accountReadAt }, wrongPasswords] = await Promise.all([
      this.accounts ? this.accounts.get(user.accountId) : this.models.Account.findById(user.accountId).lean<AccountRecord>().exec().then((read) => ({ account: read, readAt: started })),
      this.loginActivity.recentFailures(user, failuresRead),
    ]);
    if (!found) return { state: { user: null, account: null, lastSuccess: null, lastSuccessKnown: false, ownSuccesses: [], wrongPasswords: [] }, accountReadAt };
    const state: AuthState = { user: found, account, lastSuccess: null, lastSuccessKnown: false, ownSuccesses: [], wrongPasswords };
    if (wrongPasswords.length > 0) await this.knowLastSuccess(state);
    return { state, accountReadAt };
  }
}

/** The user's last forgiving success as the database has it, if later than the one known; the wrong passwords it forgave are dropped. */
function learnLastSuccess(state: AuthState, found: Date | null, threshold: number): void {
  if (found && (!state.lastSuccess || found > state.lastSuccess)) state.lastSuccess = found;
  state.lastSuccessKnown = true;
  state.wrongPasswords = kept(state, state.wrongPasswords, threshold);
}

/** A fresh read, with what the stale state of the same user knew and the read may miss. */
function merged(fresh: AuthState, stale: AuthState | undefined, keep: number): AuthState {
  if (!fresh.user || !stale?.user?._id.equals(fresh.user._id)) return fresh;
  const lastSuccess = stale.lastSuccess && (!fresh.lastSuccess || stale.lastSuccess > fresh.lastSuccess) ? stale.lastSuccess : fresh.lastSuccess;
  // The read's wrong passwords, and those known here whose rows it did not find (not written
  // yet); this process's successes not settled yet. Those from before a password reset (a new
  // unlock time) count for nothing anyway. The last success is known only as the read knows
  // it: one without wrong passwords did not read it (a success elsewhere since the stale state
  // was read would be missed).
  const state: AuthState = { ...fresh, lastSuccess, ownSuccesses: stale.ownSuccesses };
  state.wrongPasswords = kept(state, [...fresh.wrongPasswords, ...unknownTo(fresh.wrongPasswords, stale.wrongPasswords)], keep);
  return state;
}

/** Who an unknown username is looked up as: ids that name nothing. */
const NOBODY: ApiUserRecord = {
  _id: new Types.ObjectId('000000000000000000000000'),
  accountId: new Types.ObjectId('000000000000000000000000'),
  username: '',
  description: '',
  passwordHash: '',
  enabled: false,
  canManageAccount: false,
  isOwner: false,
  ipAllowlist: [],
  previousPasswordHash: null,
  previousPasswordExpires: null,
  unlockedAt: new Date(0),
  created: new Date(0),
  deletedAt: null,
  pendingAudit: [],
};
