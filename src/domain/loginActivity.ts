// What authentication leaves behind: wrong passwords (one inserted row each, so that
// concurrent failures in any number of processes all count: an insert is atomic on MongoDB
// and FerretDB alike, where an update is not on FerretDB) and the time of the last success.
import type { Types } from 'mongoose';
import type { ApiUserRecord, Models } from '../db/models.js';
import type { LastUsedRecorder } from './lastUsedRecorder.js';

export interface LoginActivitySummary {
  /** Wrong passwords since the user's last unlock (and since its last success). */
  failedLoginCount: number;
  lastFailedLogin: Date | null;
  lastUsed: Date | null;
}

type UserRef = Pick<ApiUserRecord, '_id' | 'unlockedAt'>;

export class LoginActivity {
  constructor(
    private readonly models: Models,
    private readonly lastUsed: LastUsedRecorder,
  ) {}

  /** Wrong passwords that count against the user now. */
  failureCount(user: UserRef): Promise<number> {
    return this.models.LoginFailure.countDocuments({ userId: user._id, at: { $gt: user.unlockedAt } }).exec();
  }

  async recordFailure(userId: Types.ObjectId, at = new Date()): Promise<void> {
    await this.models.LoginFailure.create({ userId, at });
  }

  /** A success ends the run of wrong passwords: those seen up to `upTo` no longer count. */
  async clearFailures(userId: Types.ObjectId, upTo: Date): Promise<void> {
    await this.models.LoginFailure.deleteMany({ userId, at: { $lte: upTo } }).exec();
  }

  recordSuccess(userId: Types.ObjectId, at = new Date()): Promise<void> {
    return this.lastUsed.record(userId, at);
  }

  /** Everything recorded of these users, for showing them. */
  async summaries(users: readonly UserRef[]): Promise<Map<string, LoginActivitySummary>> {
    const ids = users.map((user) => user._id);
    const [failures, activity] = await Promise.all([
      this.models.LoginFailure.find({ userId: { $in: ids } }).lean().exec(),
      this.models.ApiUserActivity.find({ _id: { $in: ids } }).lean().exec(),
    ]);
    const result = new Map<string, LoginActivitySummary>();
    for (const user of users) {
      const counted = failures.filter((failure) => failure.userId.equals(user._id) && failure.at > user.unlockedAt);
      const lastFailure = counted.reduce<Date | null>((latest, failure) => (!latest || failure.at > latest ? failure.at : latest), null);
      result.set(user._id.toHexString(), {
        failedLoginCount: counted.length,
        lastFailedLogin: lastFailure,
        lastUsed: latest(activity.find((record) => record._id.equals(user._id))?.lastUsed, this.lastUsed.pendingFor(user._id)),
      });
    }
    return result;
  }

  /** Drops what was recorded of deleted users. */
  async forget(userIds: readonly Types.ObjectId[]): Promise<void> {
    this.lastUsed.forget(userIds);
    await Promise.all([
      this.models.LoginFailure.deleteMany({ userId: { $in: userIds } }).exec(),
      this.models.ApiUserActivity.deleteMany({ _id: { $in: userIds } }).exec(),
    ]);
  }
}

function latest(stored: Date | undefined, pending: Date | undefined): Date | null {
  if (!stored) return pending ?? null;
  return pending && pending > stored ? pending : stored;
}
