// The accounts authentication reads, kept by the auth state cache (authStateCache.ts) by the
// same rule as the users' states: read once, forgotten when a change row or this process says
// the account changed, and used while it is younger than AUTH_STATE_TTL_MS or than the last
// successful poll. An account's integrations share it: a storm of an account's new users
// (every integration reconnecting after a deploy) reads it once, not once per user.
import { LRUCache } from 'lru-cache';
import type { Types } from 'mongoose';
import type { AccountRecord, Models } from '../db/models.js';

export interface CachedAccount {
  account: AccountRecord | null;
  /** When it was read (Date.now()). */
  readAt: number;
}

export class AccountCache {
  private readonly accounts: LRUCache<string, CachedAccount>;
  /** Reads under way, by account id, with the forget count when each started. */
  private readonly reading = new Map<string, { generation: number; done: Promise<CachedAccount> }>();
  /** Bumped by every forget: a read that started before one is neither joined nor stored. */
  private generation = 0;

  constructor(
    private readonly models: Models,
    maxEntries: number,
    /** Whether what was read at `readAt` is current still (the state cache's rule). */
    private readonly current: (readAt: number) => boolean,
  ) {
    this.accounts = new LRUCache<string, CachedAccount>({ max: maxEntries });
  }

  /**
   * The account (null when there is none by that id: unknown usernames are looked up too), and
   * when what is returned was read (Date.now()): a state read with it is no newer than that.
   */
  get(accountId: Types.ObjectId): Promise<CachedAccount> {
    const key = accountId.toHexString();
    const cached = this.accounts.get(key);
    if (cached && this.current(cached.readAt)) return Promise.resolve(cached);
    const underWay = this.reading.get(key);
    if (underWay?.generation === this.generation) return underWay.done;
    const generation = this.generation;
    const readAt = Date.now();
    const done = this.models.Account.findById(accountId)
      .lean<AccountRecord>()
      .exec()
      .then((account) => {
        const read = { account, readAt };
        if (generation === this.generation) this.accounts.set(key, read);
        return read;
      })
      .finally(() => {
        if (this.reading.get(key)?.done === done) this.reading.delete(key);
      });
    this.reading.set(key, { generation, done });
    return done;
  }

  /** The account changed (or, without an id, anything may have): read again on next use. */
  forget(accountId?: Types.ObjectId): void {
    this.generation += 1;
    if (accountId) this.accounts.delete(accountId.toHexString());
    else this.accounts.clear();
  }
}
