// What authentication needs to know of a username (the user, its account, its last success
// and its recent wrong passwords), read from the database at most once per AUTH_STATE_TTL_MS
// and per username, concurrent readers sharing one read. Whatever this process changes is
// applied to the cached state or forgotten at once, so the next request here sees it; other
// processes see it within the TTL. AUTH_STATE_TTL_MS = 0 reads the database on every request.
import { LRUCache } from 'lru-cache';
import { Types } from 'mongoose';
import type { AccountRecord, ApiUserRecord, Models } from '../db/models.js';
import { LIVE_USERS } from '../domain/apiUsers.js';
import { since, type LoginActivity } from '../domain/loginActivity.js';

export interface AuthState {
  user: ApiUserRecord | null;
  account: AccountRecord | null;
  /** The user's last successful authentication, as far as this process knows. */
  lastSuccess: Date | null;
  /**
   * When the user's latest wrong passwords arrived (at most the lockout threshold of them,
   * after its last unlock), as far as this process knows: those after `lastSuccess` count.
   * Times, not a count, so that a refusal and a success crossing each other are put in the
   * order they arrived in, and a re-read can merge what it finds with what is known here.
   */
  failedAt: Date[];
}

/** The wrong passwords counting against the user now: since its unlock and its last success. */
export function failuresCounting(state: AuthState): number {
  if (!state.user) return 0;
  const from = since(state.user, state.lastSuccess);
  return state.failedAt.filter((at) => at > from).length;
}

/** Adds a wrong password that arrived at `at`, keeping the newest `keep`. */
export function addFailure(state: AuthState, at: Date, keep: number): void {
  state.failedAt = newest([...state.failedAt, at], keep);
}

function newest(times: Date[], keep: number): Date[] {
  return times.sort((x, y) => y.getTime() - x.getTime()).slice(0, keep);
}

export class AuthStateCache {
  private readonly states: LRUCache<string, AuthState> | undefined;

  constructor(
    private readonly models: Models,
    private readonly loginActivity: LoginActivity,
    private readonly lockoutThreshold: number,
    ttlMs: number,
    maxEntries: number,
  ) {
    this.states =
      ttlMs > 0
        ? new LRUCache<string, AuthState>({
            max: maxEntries,
            ttl: ttlMs,
            // A state deleted while its read is under way is not stored by that read. A re-read
            // after the TTL keeps what this process knows and the database may not have yet (a
            // wrong password whose row is still being written, a last use not yet flushed).
            fetchMethod: async (username, stale) => merged(await this.read(username), stale, lockoutThreshold),
          })
        : undefined;
  }

  async get(username: string): Promise<AuthState> {
    if (!this.states) return this.read(username);
    try {
      return (await this.states.fetch(username)) ?? (await this.read(username));
    } catch (error) {
      // Forgotten while being read (lru-cache then rejects the read's waiters): read afresh.
      if (error instanceof Error && error.message === 'deleted') return this.read(username);
      throw error;
    }
  }

  /**
   * The state of the same user as cached now (it may have been re-read since `state` was got),
   * else `state`. Changes this process makes to what it returns are kept, not read again.
   */
  latest(username: string, state: AuthState): AuthState {
    const cached = this.states?.peek(username);
    return cached?.user && state.user && cached.user._id.equals(state.user._id) ? cached : state;
  }

  // Changes are rare next to calls: a scan of at most AUTH_STATE_MAX entries is cheap.
  forgetUser(userId: Types.ObjectId): void {
    this.forgetWhere((state) => state.user?._id.equals(userId) === true);
  }

  forgetUsername(username: string): void {
    this.states?.delete(username);
  }

  /** The account changed here (disabled, enabled): every user of it is read again. */
  forgetAccount(accountId: Types.ObjectId): void {
    this.forgetWhere((state) => state.account?._id.equals(accountId) === true);
  }

  private forgetWhere(matches: (state: AuthState) => boolean): void {
    if (!this.states) return;
    for (const [username, state] of this.states.entries()) {
      if (matches(state)) this.states.delete(username);
    }
  }

  /**
   * The same queries whether the username exists or not (an unknown one is looked up as a
   * user that has nothing), so that the time taken does not tell which.
   */
  private async read(username: string): Promise<AuthState> {
    const found = await this.models.ApiUser.findOne({ username, ...LIVE_USERS }).lean<ApiUserRecord>().exec();
    const user = found ?? NOBODY;
    const [account, lastSuccess, failedAt] = await Promise.all([
      this.models.Account.findById(user.accountId).lean<AccountRecord>().exec(),
      this.loginActivity.lastSuccess(user._id),
      this.loginActivity.recentFailures(user, this.lockoutThreshold),
    ]);
    if (!found) return { user: null, account: null, lastSuccess: null, failedAt: [] };
    return { user: found, account, lastSuccess, failedAt };
  }
}

/** A fresh read, with what the stale state of the same user knew and the read may miss. */
function merged(fresh: AuthState, stale: AuthState | undefined, keep: number): AuthState {
  if (!fresh.user || !stale?.user?._id.equals(fresh.user._id)) return fresh;
  const lastSuccess = stale.lastSuccess && (!fresh.lastSuccess || stale.lastSuccess > fresh.lastSuccess) ? stale.lastSuccess : fresh.lastSuccess;
  // Two processes can record wrong passwords in the same millisecond: the read's own times
  // are all kept; a time known here is added only when the read has none like it. Those from
  // before a password reset (a new unlock time) count for nothing anyway.
  const read = new Set(fresh.failedAt.map((at) => at.getTime()));
  const unwritten = stale.failedAt.filter((at) => !read.has(at.getTime()));
  return { ...fresh, lastSuccess, failedAt: newest([...fresh.failedAt, ...unwritten], keep) };
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
  unlockedAt: new Date(0),
  created: new Date(0),
  deletedAt: null,
  pendingAudit: [],
};
