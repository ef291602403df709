// What authentication needs to know of a username (the user, its account and its counted
// wrong passwords), read from the database at most once per AUTH_STATE_TTL_MS and per
// username, concurrent readers sharing one read. Whatever this process changes is forgotten
// at once, so the next request here sees it; other processes see it within the TTL.
// AUTH_STATE_TTL_MS = 0 reads the database on every request.
import { LRUCache } from 'lru-cache';
import { Types } from 'mongoose';
import type { AccountRecord, ApiUserRecord, Models } from '../db/models.js';
import { LIVE_USERS } from '../domain/apiUsers.js';
import type { LoginActivity } from '../domain/loginActivity.js';

export interface AuthState {
  user: ApiUserRecord | null;
  account: AccountRecord | null;
  /** The user's last successful authentication, as far as this process knows. */
  lastSuccess: Date | null;
  /** Wrong passwords counting against the user now (since its unlock and last success). */
  failures: number;
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
            // A state deleted while its read is under way is not stored by that read.
            fetchMethod: (username) => this.read(username),
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

  /** Adjusts a cached state to a change this process just made (kept, not read again). */
  adjust(username: string, change: (state: AuthState) => void): AuthState | undefined {
    const state = this.states?.peek(username);
    if (state) change(state);
    return state;
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
    const [account, { lastSuccess, failures }] = await Promise.all([
      this.models.Account.findById(user.accountId).lean<AccountRecord>().exec(),
      this.failuresOf(user),
    ]);
    if (!found) return { user: null, account: null, lastSuccess: null, failures: 0 };
    return { user: found, account, lastSuccess, failures };
  }

  /** The database's word on the user's failures now (other processes' included). */
  async failuresOf(user: ApiUserRecord): Promise<{ lastSuccess: Date | null; failures: number }> {
    const lastSuccess = this.loginActivity.lastSuccess(user._id);
    const failures = await this.loginActivity.failureCount(user, lastSuccess, this.lockoutThreshold);
    return { lastSuccess: await lastSuccess, failures };
  }
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
