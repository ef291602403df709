// The hourly call quota of each account, shared by every gateway process through one counter
// document per account and clock hour (UTC).
//
// With syncIntervalMs = 0 every call is one atomic $inc: exact across processes, one database
// round trip per call. With syncIntervalMs > 0 (the way Kong's rate-limiting plugin syncs),
// a process counts locally and adds its count to the database every syncIntervalMs, deciding
// from the last total it read plus its own unsynced calls. One process alone stays exact;
// several can together exceed the limit by at most what the others accept between two syncs.
import type { Types } from 'mongoose';
import { isDuplicateKey } from '../db/connection.js';
import type { Models } from '../db/models.js';

const HOUR_MS = 3_600_000;

export interface QuotaState {
  allowed: boolean;
  limit: number;
  /** Calls counted in this window, this one included when allowed. */
  used: number;
  remaining: number;
  /** Seconds until the window ends and the count starts again. */
  resetSeconds: number;
}

interface WindowCounter {
  accountId: Types.ObjectId;
  windowStart: number;
  /** The database's count as last read (every process's calls up to then). */
  syncedTotal: number;
  /** Calls this process accepted and has not yet added to the database. */
  unsynced: number;
}

export class CallQuota {
  private readonly counters = new Map<string, WindowCounter>();
  private timer: NodeJS.Timeout | undefined;
  private syncing: Promise<void> | undefined;

  constructor(
    private readonly models: Models,
    private readonly syncIntervalMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Counts one call of the account, unless its quota for this hour is spent. */
  async consume(accountId: Types.ObjectId, limit: number): Promise<QuotaState> {
    const now = this.now();
    const windowStart = now - (now % HOUR_MS);
    const resetSeconds = Math.max(1, Math.ceil((windowStart + HOUR_MS - now) / 1000));
    const key = `${accountId.toHexString()}:${windowStart}`;
    const counter = this.counters.get(key);

    if (this.syncIntervalMs === 0 || !counter) {
      // Exact mode, or this process's first call of the window: count in the database now.
      const total = await this.increment(key, accountId, windowStart, 1);
      if (this.syncIntervalMs > 0) this.track(key, { accountId, windowStart, syncedTotal: total, unsynced: 0 });
      // A call past the limit was counted but is refused; the count above the limit is never
      // reported (used is capped) and goes away with the window.
      return this.state(total <= limit, Math.min(total, limit), limit, resetSeconds);
    }
    const total = counter.syncedTotal + counter.unsynced;
    if (total >= limit) return this.state(false, limit, limit, resetSeconds);
    counter.unsynced += 1;
    return this.state(true, total + 1, limit, resetSeconds);
  }

  /** Adds every unsynced count to the database (called on a timer and at shutdown). */
  async flush(): Promise<void> {
    if (this.syncing) await this.syncing;
    this.syncing = this.syncAll().finally(() => {
      this.syncing = undefined;
    });
    await this.syncing;
  }

  /** Stops the timer after a last flush. */
  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.flush();
  }

  private async syncAll(): Promise<void> {
    const currentWindow = this.now() - (this.now() % HOUR_MS);
    for (const [key, counter] of this.counters) {
      const pending = counter.unsynced;
      if (pending > 0) {
        counter.unsynced -= pending;
        try {
          counter.syncedTotal = await this.increment(key, counter.accountId, counter.windowStart, pending);
        } catch (error) {
          counter.unsynced += pending; // kept for the next sync: counted calls are never dropped
          throw error;
        }
      }
      if (counter.windowStart < currentWindow && counter.unsynced === 0) this.counters.delete(key);
    }
  }

  private track(key: string, counter: WindowCounter): void {
    this.counters.set(key, counter);
    if (!this.timer) {
      this.timer = setInterval(() => {
        this.flush().catch(() => {
          /* the database is away: counts stay unsynced and go with the next sync */
        });
      }, this.syncIntervalMs);
      this.timer.unref();
    }
  }

  private async increment(key: string, accountId: Types.ObjectId, windowStart: number, by: number): Promise<number> {
    // Two processes may both try to create the window's document; the loser retries as an update.
    for (let attempt = 0; ; attempt++) {
      try {
        const doc = await this.models.QuotaWindow.findOneAndUpdate(
          { _id: key },
          { $inc: { count: by }, $setOnInsert: { accountId, windowStart: new Date(windowStart) } },
          { upsert: true, returnDocument: 'after' }, // no projection: FerretDB's findAndModify lacks it
        )
          .lean<{ count: number }>()
          .exec();
        if (attempt === 0 && doc && doc.count === by) void this.forgetOldWindows(windowStart);
        return doc?.count ?? by;
      } catch (error) {
        if (!isDuplicateKey(error) || attempt >= 2) throw error;
      }
    }
  }

  /** Windows older than the previous hour are of no use to anyone (no TTL index on FerretDB). */
  private async forgetOldWindows(windowStart: number): Promise<void> {
    try {
      await this.models.QuotaWindow.deleteMany({ windowStart: { $lt: new Date(windowStart - HOUR_MS) } }).exec();
    } catch {
      /* best effort: the next window's first call tries again */
    }
  }

  private state(allowed: boolean, used: number, limit: number, resetSeconds: number): QuotaState {
    return { allowed, limit, used, remaining: Math.max(0, limit - used), resetSeconds };
  }
}
