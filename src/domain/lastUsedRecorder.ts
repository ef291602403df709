// When each API user last authenticated (`lastCall`, what `LastUsed` shows), written in
// batches: a success costs no database round trip, and the times reach the database every
// flushIntervalMs (and at shutdown). flushIntervalMs = 0 writes on every success. These times
// forgive no wrong password: a success that does is written apart, once settled
// (auth/ownSuccesses.ts).
//
// A user calling all the time has its time written once per RESOLUTION_MS, not once per
// flush: the writes would otherwise grow with the number of active users (10,000 users, a
// third of a thousand commands a second) for a figure people read to the minute. The process
// that served the call shows the exact time at once (pendingFor).
//
// A user's first time from this process is inserted, exactly (a row another process or an
// earlier run wrote makes it an update like the others). The times of users with a row go as
// one `updateMany` per group of uses less than GROUP_SPAN_MS apart, at the group's earliest
// time: a burst of 10,000 new users is 40 inserts, a minute of them calling 40-some updates,
// where one upsert each took 313 bulk commands of 32 (FerretDB's bound, see boundedBulkWrite)
// and on FerretDB a query each. A time so written is at most GROUP_SPAN_MS before the user's
// own, well within the RESOLUTION_MS a stored time may lag anyway. Groups too small to save a
// command are written exactly, one upsert each.
import type { Types } from 'mongoose';
import { boundedBulkWrite, MAX_UPDATES_PER_COMMAND } from '../db/boundedBulkWrite.js';
import { isDuplicateKey } from '../db/connection.js';
import type { Models } from '../db/models.js';

/** How stale a stored last-use time may be while the user keeps calling. */
export const RESOLUTION_MS = 60_000;

/**
 * The most times one flush writes. A burst of thousands of new users
 * (after a deploy) is first written in that many seconds, and then comes due again all at
 * once a RESOLUTION_MS later: on FerretDB, where an upsert costs some 2 ms, 10,000 at once
 * kept the database busy for 20 s and calls waiting on it timed out. The rest waits for the
 * next flush, first pending first, so that the write rate of a process stays bounded: past
 * 60 × this many active users a minute, a user's time is written less often than
 * RESOLUTION_MS.
 */
export const MAX_WRITES_PER_FLUSH = 250;

/** How far apart the uses one `updateMany` writes may be: by so much a written time may be early. */
export const GROUP_SPAN_MS = 1000;

export interface PendingUse {
  userId: Types.ObjectId;
  at: Date;
}

export class LastUsedRecorder {
  private pending = new Map<string, PendingUse>();
  /** When each user's time was last written from here (bounded: cleared when large). */
  private readonly writtenAt = new Map<string, number>();
  /** The batch being written: still the news until the database has it. */
  private writing = new Map<string, PendingUse>();
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  private closed = false;

  constructor(
    private readonly models: Models,
    private readonly flushIntervalMs: number,
  ) {}

  async record(userId: Types.ObjectId, at = new Date()): Promise<void> {
    if (this.flushIntervalMs === 0) return this.write([{ userId, at }]);
    // Closed (a call still under way at shutdown): no timer would ever write it, so now, if the
    // database is still there.
    if (this.closed) return this.write([{ userId, at }]).catch(() => {});
    const key = userId.toHexString();
    // The latest time wins, whichever call records first: one that took a slow path (a compare
    // checked again after a change) records an earlier time after a later call did.
    const known = this.pending.get(key);
    this.pending.set(key, { userId, at: known && known.at > at ? known.at : at });
    if (!this.timer) {
      this.timer = setInterval(() => {
        // A flush still under way (a slow or absent database) gets no tick queued behind it,
        // which would then run back to back with it: the next tick is soon enough.
        if (this.flushing) return;
        this.flush().catch(() => {
          /* the database is away: the times stay pending for the next flush */
        });
      }, this.flushIntervalMs);
      this.timer.unref();
    }
  }

  /**
   * The last use recorded here and not yet written, if any (so that reads see it at once): the
   * later of the one waiting and the one being written (a call that took a slow path may record
   * an earlier time while a later one is being written).
   */
  pendingFor(userId: Types.ObjectId): Date | undefined {
    const key = userId.toHexString();
    const waiting = this.pending.get(key)?.at;
    const beingWritten = this.writing.get(key)?.at;
    return waiting && beingWritten ? (waiting > beingWritten ? waiting : beingWritten) : (waiting ?? beingWritten);
  }

  /** Deleted users: nothing more is written for them. */
  forget(userIds: readonly Types.ObjectId[]): void {
    for (const userId of userIds) {
      this.pending.delete(userId.toHexString());
      this.writing.delete(userId.toHexString());
      this.writtenAt.delete(userId.toHexString());
    }
  }

  /** Writes what is due (everything when `all`, as at shutdown). */
  async flush(all = false): Promise<void> {
    // One flush at a time: two that waited for the same one would otherwise both go on, and
    // the second's batch would replace the first's as what is being written (see pendingFor).
    while (this.flushing) await this.flushing.catch(() => undefined);
    if (this.pending.size === 0) return;
    const now = Date.now();
    const due = new Map<string, PendingUse>();
    // Pending uses are kept in the order they became pending: the first ones due go first.
    let room = MAX_WRITES_PER_FLUSH;
    for (const [key, use] of this.pending) {
      if (all) due.set(key, use);
      else if (room > 0 && now - (this.writtenAt.get(key) ?? 0) >= RESOLUTION_MS) {
        due.set(key, use);
        room -= 1;
      }
    }
    if (due.size === 0) return;
    for (const key of due.keys()) this.pending.delete(key);
    const batch = [...due.values()];
    this.writing = due;
    this.flushing = this.write(batch)
      .catch((error: unknown) => {
        for (const entry of batch) {
          const key = entry.userId.toHexString();
          const newer = this.pending.get(key);
          if (!newer || newer.at < entry.at) this.pending.set(key, entry);
        }
        throw error;
      })
      .then(() => {
        if (this.writtenAt.size > 200_000) this.writtenAt.clear();
        for (const entry of batch) this.writtenAt.set(entry.userId.toHexString(), now);
      })
      .finally(() => {
        this.writing = new Map();
        this.flushing = undefined;
      });
    await this.flushing;
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.flush(true);
  }

  private async write(batch: ReadonlyArray<PendingUse>): Promise<void> {
    const withRows: PendingUse[] = [];
    const firstHere: PendingUse[] = [];
    for (const use of batch) (this.writtenAt.has(use.userId.toHexString()) ? withRows : firstHere).push(use);
    withRows.push(...(await this.insertFirst(firstHere)));
    const { grouped, exact } = planWrites(withRows);
    // One command after the other, like boundedBulkWrite's: side by side they would hold
    // FerretDB's connections together again.
    for (const group of grouped) {
      await this.models.ApiUserActivity.updateMany({ _id: { $in: group.userIds } }, { $max: { lastCall: group.at } }).exec();
    }
    await boundedBulkWrite(
      this.models.ApiUserActivity,
      exact.map(({ userId, at }) => ({
        updateOne: { filter: { _id: userId }, update: { $max: { lastCall: at } }, upsert: true },
      })),
    );
  }

  /**
   * Inserts the rows of users first written from here, MAX_WRITES_PER_FLUSH a command, and
   * returns the uses of those that had one already: their times are still to be written.
   */
  private async insertFirst(uses: readonly PendingUse[]): Promise<PendingUse[]> {
    const hadRows: PendingUse[] = [];
    for (let start = 0; start < uses.length; start += MAX_WRITES_PER_FLUSH) {
      const chunk = uses.slice(start, start + MAX_WRITES_PER_FLUSH);
      try {
        // Through the driver, as LoginActivity.recordFailure: the fields are typed already.
        await this.models.ApiUserActivity.collection.insertMany(
          chunk.map(({ userId, at }) => ({ _id: userId, lastCall: at })),
          { ordered: false },
        );
      } catch (error) {
        if (!isDuplicateKey(error)) throw error;
        // Each duplicate is a write error naming its document; without them, all may be.
        const writeErrors = (error as { writeErrors?: Array<{ index: number }> }).writeErrors;
        hadRows.push(...(writeErrors ? writeErrors.map((writeError) => chunk[writeError.index]!) : chunk));
      }
    }
    return hadRows;
  }
}

/** Uses written together, at the earliest of their times. */
export interface WriteGroup {
  at: Date;
  userIds: Types.ObjectId[];
}

/** Which uses of users with a row go grouped (see the top of this file), and which exactly. */
export function planWrites(uses: ReadonlyArray<PendingUse>): { grouped: WriteGroup[]; exact: PendingUse[] } {
  const exact: PendingUse[] = [];
  const candidates = [...uses].sort((x, y) => x.at.getTime() - y.at.getTime());
  const grouped: WriteGroup[] = [];
  for (let start = 0; start < candidates.length; ) {
    const first = candidates[start]!.at;
    let end = start;
    // At most MAX_WRITES_PER_FLUSH a command, also when everything goes at once (at shutdown).
    const limit = Math.min(candidates.length, start + MAX_WRITES_PER_FLUSH);
    while (end < limit && candidates[end]!.at.getTime() - first.getTime() < GROUP_SPAN_MS) end += 1;
    const members = candidates.slice(start, end);
    // A group smaller than one bulk command saves none: exact costs nothing more.
    if (members.length >= MAX_UPDATES_PER_COMMAND) grouped.push({ at: first, userIds: members.map((use) => use.userId) });
    else exact.push(...members);
    start = end;
  }
  return { grouped, exact };
}
