// The hourly call quota of each account, shared by every gateway process.
//
// Each process counts the calls it accepts in a counter document of its own per account and
// clock hour (UTC); an account's total is the sum over the processes' documents. No document
// ever has two writers (FerretDB 1.x loses concurrent updates of one document, and $inc is
// not atomic there), so no count is lost on either database.
//
// A process decides from its own exact count plus the others' counts as last read. With
// syncIntervalMs = 0 it reads the others and writes its own on every call: one process is
// exact, several can overshoot only by calls racing each other. With syncIntervalMs > 0 (as
// Kong's rate-limiting plugin syncs) it writes and reads every syncIntervalMs: one process is
// still exact; several can together exceed the limit by at most what the others accept
// within one sync interval.
import { randomBytes } from 'node:crypto';
import type { Types } from 'mongoose';
import type { Models } from '../db/models.js';
import { clockHourStart, HOUR_MS } from './clockHours.js';

/** A counter idle for this many sync intervals stops being refreshed and is re-read on use. */
const IDLE_SYNCS = 20;

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
  id: string;
  accountId: Types.ObjectId;
  windowStart: number;
  /** Calls this process accepted in the window (exact). */
  own: number;
  /** What this process last wrote to its document. */
  written: number;
  /** The other processes' calls, as last read; undefined until read (or after idling). */
  others: number | undefined;
  lastConsumed: number;
  /** Writes of one counter are chained, so that the document sees its counts in order. */
  writing: Promise<void>;
}

export class CallQuota {
  private readonly processId = `${process.pid.toString(36)}${randomBytes(4).toString('hex')}`;
  private readonly counters = new Map<string, WindowCounter>();
  private timer: NodeJS.Timeout | undefined;
  private syncing: Promise<void> | undefined;
  private cleanedWindow = 0;

  constructor(
    private readonly models: Models,
    private readonly syncIntervalMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Counts one call of the account, unless its quota for this hour is spent. */
  async consume(accountId: Types.ObjectId, limit: number): Promise<QuotaState> {
    const now = this.now();
    const windowStart = clockHourStart(now);
    const resetSeconds = Math.max(1, Math.ceil((windowStart + HOUR_MS - now) / 1000));
    const counter = this.counterFor(accountId, windowStart);
    counter.lastConsumed = now;
    if (this.syncIntervalMs === 0 || counter.others === undefined) {
      counter.others = await this.othersTotal(counter);
    }
    const total = counter.others + counter.own;
    if (total >= limit) return state(false, limit, limit, resetSeconds);
    counter.own += 1;
    if (this.syncIntervalMs === 0) await this.write(counter);
    else this.startTimer();
    return state(true, total + 1, limit, resetSeconds);
  }

  /** Writes every unwritten count and refreshes the others' (on a timer, and at shutdown). */
  async flush(): Promise<void> {
    if (this.syncing) return this.syncing;
    this.syncing = this.syncAll().finally(() => {
      this.syncing = undefined;
    });
    return this.syncing;
  }

  /** Stops the timer after a last flush. */
  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.flush();
  }

  private counterFor(accountId: Types.ObjectId, windowStart: number): WindowCounter {
    const key = `${accountId.toHexString()}:${windowStart}`;
    let counter = this.counters.get(key);
    if (!counter) {
      counter = { id: `${key}:${this.processId}`, accountId, windowStart, own: 0, written: 0, others: undefined, lastConsumed: 0, writing: Promise.resolve() };
      this.counters.set(key, counter);
      if (windowStart > this.cleanedWindow) {
        this.cleanedWindow = windowStart;
        void this.forgetOldWindows(windowStart);
      }
    }
    return counter;
  }

  private async syncAll(): Promise<void> {
    const now = this.now();
    const currentWindow = clockHourStart(now);
    const failures: unknown[] = [];
    for (const [key, counter] of this.counters) {
      try {
        if (counter.own !== counter.written) await this.write(counter);
        if (counter.windowStart < currentWindow) {
          this.counters.delete(key);
        } else if (now - counter.lastConsumed <= IDLE_SYNCS * this.syncIntervalMs) {
          counter.others = await this.othersTotal(counter);
        } else {
          counter.others = undefined;
        }
      } catch (error) {
        failures.push(error); // unwritten counts stay and go with the next sync
      }
    }
    if (failures.length > 0) throw failures[0];
  }

  private write(counter: WindowCounter): Promise<void> {
    const written = counter.writing.then(async () => {
      const own = counter.own;
      if (own === counter.written) return;
      await this.models.QuotaCounter.updateOne(
        { _id: counter.id },
        { $set: { count: own, accountId: counter.accountId, windowStart: new Date(counter.windowStart) } },
        { upsert: true },
      ).exec();
      counter.written = own;
    });
    // A failed write must not block the ones after it; the caller still sees the failure.
    counter.writing = written.catch(() => {});
    return written;
  }

  private async othersTotal(counter: WindowCounter): Promise<number> {
    const documents = await this.models.QuotaCounter.find({ accountId: counter.accountId, windowStart: new Date(counter.windowStart) })
      .lean()
      .exec();
    return documents.reduce((sum, document) => (document._id === counter.id ? sum : sum + document.count), 0);
  }

  private startTimer(): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      this.flush().catch(() => {
        /* the database is away: counts stay unwritten and go with the next sync */
      });
    }, this.syncIntervalMs);
    this.timer.unref();
  }

  /** Windows before the previous hour are of no use to anyone (FerretDB has no TTL index). */
  private async forgetOldWindows(windowStart: number): Promise<void> {
    try {
      await this.models.QuotaCounter.deleteMany({ windowStart: { $lt: new Date(windowStart - HOUR_MS) } }).exec();
    } catch {
      /* best effort: the next window tries again */
    }
  }
}

function state(allowed: boolean, used: number, limit: number, resetSeconds: number): QuotaState {
  return { allowed, limit, used, remaining: Math.max(0, limit - used), resetSeconds };
}
