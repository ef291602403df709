// When each API user last authenticated, written in batches: a success costs no database
// round trip, and the times reach the database every flushIntervalMs (and at shutdown).
// flushIntervalMs = 0 writes on every success.
import type { Types } from 'mongoose';
import { boundedBulkWrite } from '../db/boundedBulkWrite.js';
import type { Models } from '../db/models.js';

export class LastUsedRecorder {
  private pending = new Map<string, { userId: Types.ObjectId; at: Date }>();
  /** The batch being written: still the news until the database has it. */
  private writing = new Map<string, { userId: Types.ObjectId; at: Date }>();
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;

  constructor(
    private readonly models: Models,
    private readonly flushIntervalMs: number,
  ) {}

  async record(userId: Types.ObjectId, at = new Date()): Promise<void> {
    if (this.flushIntervalMs === 0) return this.write([{ userId, at }]);
    this.pending.set(userId.toHexString(), { userId, at });
    if (!this.timer) {
      this.timer = setInterval(() => {
        this.flush().catch(() => {
          /* the database is away: the times stay pending for the next flush */
        });
      }, this.flushIntervalMs);
      this.timer.unref();
    }
  }

  /** The last use recorded here and not yet written, if any (so that reads see it at once). */
  pendingFor(userId: Types.ObjectId): Date | undefined {
    const key = userId.toHexString();
    return this.pending.get(key)?.at ?? this.writing.get(key)?.at;
  }

  /** Deleted users: nothing more is written for them. */
  forget(userIds: readonly Types.ObjectId[]): void {
    for (const userId of userIds) {
      this.pending.delete(userId.toHexString());
      this.writing.delete(userId.toHexString());
    }
  }

  async flush(): Promise<void> {
    if (this.flushing) await this.flushing;
    if (this.pending.size === 0) return;
    const batch = [...this.pending.values()];
    this.writing = this.pending;
    this.pending = new Map();
    this.flushing = this.write(batch)
      .catch((error: unknown) => {
        for (const entry of batch) {
          const key = entry.userId.toHexString();
          const newer = this.pending.get(key);
          if (!newer || newer.at < entry.at) this.pending.set(key, entry);
        }
        throw error;
      })
      .finally(() => {
        this.writing = new Map();
        this.flushing = undefined;
      });
    await this.flushing;
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.flush();
  }

  private async write(batch: ReadonlyArray<{ userId: Types.ObjectId; at: Date }>): Promise<void> {
    await boundedBulkWrite(
      this.models.ApiUserActivity,
      batch.map(({ userId, at }) => ({
        updateOne: { filter: { _id: userId }, update: { $max: { lastUsed: at } }, upsert: true },
      })),
    );
  }
}
