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
// within one sync interval. A sync writes the counts changed MAX_UPDATES_PER_COMMAND to a
// command, and reads the others' counts in one query per QUERY_BATCH accounts in use (a read
// and a write per account, one after the other, made a pass over 1,000 active accounts take
// seconds and never leave the database alone).
import { randomBytes } from 'node:crypto';
import type { Types } from 'mongoose';
import { MAX_UPDATES_PER_COMMAND } from '../db/boundedBulkWrite.js';
import type { Models } from '../db/models.js';
import { clockHourStart, HOUR_MS } from './clockHours.js';

/** A counter idle for this many sync intervals stops being refreshed and is re-read on use. */
const IDLE_SYNCS = 20;
/** Accounts per read of the others' counts in a sync. */
const QUERY_BATCH = 500;

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
  private closed = false;
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

  /** Counters held in memory: the accounts counted in the current hour (and, until a sync, the last). */
  get countersHeld(): number {
    return this.counters.size;
  }

  /** Stops the timer after a last flush. */
  async close(): Promise<void> {
    this.closed = true; // a call still under way does not start the timer again
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.flush();
  }

  private counterFor(accountId: Types.ObjectId, windowStart: number): WindowCounter {
    const key = counterKey(accountId, windowStart);
    let counter = this.counters.get(key);
    if (!counter) {
      counter = { id: `${key}:${this.processId}`, accountId, windowStart, own: 0, written: 0, others: undefined, lastConsumed: 0, writing: Promise.resolve() };
      if (windowStart > this.cleanedWindow) {
        this.cleanedWindow = windowStart;
        // Past windows count for no one any more; without this, counting synchronously
        // (QUOTA_SYNC_MS=0, where no sync drops them) would keep one counter per account and hour.
        for (const [oldKey, old] of this.counters) if (old.windowStart < windowStart) this.counters.delete(oldKey);
        void this.forgetOldWindows(windowStart);
      }
      this.counters.set(key, counter);
    }
    return counter;
  }

  private async syncAll(): Promise<void> {
    const now = this.now();
    const currentWindow = clockHourStart(now);
    const counters = [...this.counters.values()];
    let failure: unknown;
    // Unwritten counts stay, and go with the next sync.
    await this.writeAll(counters.filter((counter) => counter.own !== counter.written)).catch((error: unknown) => (failure ??= error));
    const inUse: WindowCounter[] = [];
    for (const counter of counters) {
      if (counter.windowStart < currentWindow) {
        if (counter.own === counter.written) this.counters.delete(counterKey(counter.accountId, counter.windowStart));
      } else if (now - counter.lastConsumed <= IDLE_SYNCS * this.syncIntervalMs) {
        inUse.push(counter);
      } else {
        counter.others = undefined;
      }
    }
    await this.refreshOthers(inUse).catch((error: unknown) => (failure ??= error));
    if (failure !== undefined) throw failure;
  }

  private write(counter: WindowCounter): Promise<void> {
    return this.writeAll([counter]);
  }

  /**
   * Writes the counters' counts, MAX_UPDATES_PER_COMMAND to a command and one command after the
   * other (FerretDB wedges on an update command of about a hundred statements, or on several at
   * once: see boundedBulkWrite.ts). Each counter's writes are chained, so that its document sees
   * its counts in order (FerretDB applies an update as a read and then a write: two of one
   * document at once could leave the older count).
   */
  private async writeAll(counters: readonly WindowCounter[]): Promise<void> {
    for (let start = 0; start < counters.length; start += MAX_UPDATES_PER_COMMAND) {
      const batch = counters.slice(start, start + MAX_UPDATES_PER_COMMAND);
      const written = Promise.all(batch.map((counter) => counter.writing)).then(async () => {
        const changed = batch.filter((counter) => counter.own !== counter.written).map((counter) => ({ counter, count: counter.own }));
        if (changed.length === 0) return;
        await this.models.QuotaCounter.bulkWrite(
          changed.map(({ counter, count }) => ({
            updateOne: {
              filter: { _id: counter.id },
              update: { $set: { count, accountId: counter.accountId, windowStart: new Date(counter.windowStart) } },
              upsert: true,
            },
          })),
          { ordered: false },
        );
        for (const { counter, count } of changed) counter.written = count;
      });
      // A failed write must not block the ones after it; the caller still sees the failure.
      for (const counter of batch) counter.writing = written.catch(() => {});
      await written;
    }
  }

  private async othersTotal(counter: WindowCounter): Promise<number> {
    const documents = await this.models.QuotaCounter.find({ accountId: counter.accountId, windowStart: new Date(counter.windowStart) })
      .lean()
      .exec();
    return documents.reduce((sum, document) => (document._id === counter.id ? sum : sum + document.count), 0);
  }

  /** The others' counts of these counters (all of the current window), QUERY_BATCH accounts to a read. */
  private async refreshOthers(counters: readonly WindowCounter[]): Promise<void> {
    for (let start = 0; start < counters.length; start += QUERY_BATCH) {
      const batch = counters.slice(start, start + QUERY_BATCH);
      const windowStart = new Date(batch[0]!.windowStart);
      const documents = await this.models.QuotaCounter.find({ accountId: { $in: batch.map((counter) => counter.accountId) }, windowStart })
        // One document per account and process: in one answer up to 20 processes (the default
        // first batch is 101 documents, and each further one a round trip).
        .batchSize(QUERY_BATCH * 20)
        .lean()
        .exec();
      const others = new Map<string, number>();
      const ours = new Set(batch.map((counter) => counter.id));
      for (const document of documents) {
        if (ours.has(document._id)) continue;
        const account = document.accountId.toHexString();
        others.set(account, (others.get(account) ?? 0) + document.count);
      }
      for (const counter of batch) counter.others = others.get(counter.accountId.toHexString()) ?? 0;
    }
  }

  private startTimer(): void {
    if (this.timer || this.closed) return;
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

/** A counter's key here; its document's id adds the process. */
function counterKey(accountId: Types.ObjectId, windowStart: number): string {
  return `${accountId.toHexString()}:${windowStart}`;
}

function state(allowed: boolean, used: number, limit: number, resetSeconds: number): QuotaState {
  return { allowed, limit, used, remaining: Math.max(0, limit - used), resetSeconds };
}
