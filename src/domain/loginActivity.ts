// What authentication leaves behind, and the lockout count derived from it.
//
// Each wrong password is one inserted row: concurrent failures in any number of processes all
// count (an insert is atomic on MongoDB and FerretDB alike, where an update is not on a stock
// FerretDB). A success that forgave wrong passwords is a time: the user's `lastUsed`. The
// wrong passwords that count are those after both the user's last unlock (creation or
// password reset) and that time, so a success "resets the count" by being a moment, not by
// deleting anything, and calls racing each other cannot undo it. Which successes forgive, and
// when one is written, is auth/ownSuccesses.ts. Rows a success has made irrelevant are removed
// afterwards, so the collection stays small.
import { Types } from 'mongoose';
import { boundedBulkWrite } from '../db/boundedBulkWrite.js';
import type { ApiUserRecord, LoginFailureRecord, Models } from '../db/models.js';
import { announceAuthChange } from './authChanges.js';
import { clockMinute, clockMinutesBetween } from './clockMinutes.js';
import type { LastUsedRecorder } from './lastUsedRecorder.js';

export interface LoginActivitySummary {
  /** Wrong passwords since the user's last unlock and its last forgiving success. */
  failedLoginCount: number;
  /** The latest wrong password still on record. */
  lastFailedLogin: Date | null;
  lastUsed: Date | null;
}

type UserRef = Pick<ApiUserRecord, '_id' | 'unlockedAt'>;

/**
 * One wrong password as authentication counts it: when it arrived, and the id of its row, given
 * before the row is written. Each process counts its own at once and learns the others' from
 * their rows; by the id, every one is counted once wherever it is seen, even when two arrive in
 * the same millisecond (as a time alone, one of them would be taken for the other).
 */
export interface WrongPassword {
  id: string;
  at: Date;
  /** The user's unlock time it was checked under (null: not known, from an earlier version's row). */
  unlockedAt: Date | null;
}

/** A wrong password that arrived at `at`, checked under the user's `unlockedAt`, with the id its row will have. */
export function newWrongPassword(at: Date, unlockedAt: Date): WrongPassword {
  return { id: new Types.ObjectId().toHexString(), at, unlockedAt };
}

/**
 * When a wrong password counts as made: when it arrived, unless it was checked long after that
 * (a compare's turn, slow reads), then when it was checked. A success let in meanwhile by
 * another process may be settled before this one's row would land (auth/ownSuccesses.ts), and
 * must not forgive it.
 */
export function wrongPasswordTime(arrived: Date, now = new Date()): Date {
  return now.getTime() - arrived.getTime() > LATE_FAILURE_ROW_MS / 2 ? now : arrived;
}

/**
 * Whether a wrong password is one against the user's current password: it came after its unlock
 * and was checked under it. One checked by a process that had not heard of a password reset yet
 * (against the password the reset replaced: most likely the new one, sent at once) counts for
 * nothing, or the reset that unlocks a user would lock it again.
 */
export function againstCurrentPassword(wrongPassword: CheckedWrongPassword, user: UserRef): boolean {
  if (wrongPassword.at <= user.unlockedAt) return false;
  return !wrongPassword.unlockedAt || wrongPassword.unlockedAt.getTime() === user.unlockedAt.getTime();
}

/** What a wrong password's count needs of it: a WrongPassword, or a row as stored. */
type CheckedWrongPassword = Pick<WrongPassword, 'at'> & { unlockedAt?: Date | null };

/** The wrong passwords that count against the user now (against its current password, since its last success), in their order. */
export function countedAgainst<T extends CheckedWrongPassword>(wrongPasswords: readonly T[], user: UserRef, lastSuccess: Date | null): T[] {
  const from = since(user, lastSuccess);
  return wrongPasswords.filter((wrongPassword) => wrongPassword.at > from && againstCurrentPassword(wrongPassword, user));
}

/** How many of the wrong passwords count against the user now (see countedAgainst). */
export function countingAgainst(wrongPasswords: readonly CheckedWrongPassword[], user: UserRef, lastSuccess: Date | null): number {
  return countedAgainst(wrongPasswords, user, lastSuccess).length;
}

export function wrongPasswordOf(row: Pick<LoginFailureRecord, '_id' | 'at' | 'unlockedAt'>): WrongPassword {
  return { id: row._id.toHexString(), at: row.at, unlockedAt: row.unlockedAt ?? null };
}

/**
 * A wrong password whose row lands later than this after it arrived (a slow read before it, a
 * long wait for a compare, a slow insert) is announced as a change of the user besides: the
 * polls find new rows by their time, looking back twice as far (auth/authStateCache.ts), and
 * would miss it; a change makes every process read the user again, which finds every row.
 */
export const LATE_FAILURE_ROW_MS = 5_000;

/** From when wrong passwords count against a user, as this process's authentication knows it (null: it does not know the user). */
export type CountFromHere = (userId: Types.ObjectId) => Date | null;

export class LoginActivity {
  constructor(
    private readonly models: Models,
    private readonly lastUsed: LastUsedRecorder,
    /** For showing users: this process's successes not settled yet count as they do for its authentication. */
    private readonly countFromHere: CountFromHere = () => null,
  ) {}

  /** The user's latest success known to forgive the wrong passwords before it, as written (see the top of this file). */
  async lastSuccess(userId: Types.ObjectId): Promise<Date | null> {
    const stored = await this.models.ApiUserActivity.findById(userId, { lastUsed: 1 }).lean().exec();
    return stored?.lastUsed ?? null;
  }

  /** The same for several users at once, in one query (for the auth state's poll). */
  async lastSuccesses(userIds: readonly Types.ObjectId[]): Promise<Map<string, Date | null>> {
    const stored = await this.models.ApiUserActivity.find({ _id: { $in: userIds } }, { lastUsed: 1 }).lean().exec();
    const byId = new Map(stored.map((record) => [record._id.toHexString(), record.lastUsed ?? null]));
    return new Map(userIds.map((userId) => [userId.toHexString(), byId.get(userId.toHexString()) ?? null]));
  }

  /**
   * The forgiving successes written from `from` on, by anyone (for the auth state's poll): by
   * their clock minutes, an index lookup whatever the number of users, up to a writer's clock
   * `aheadMs` ahead of ours.
   */
  async forgivenSince(from: Date, aheadMs: number): Promise<Array<{ userId: Types.ObjectId; lastUsed: Date }>> {
    const minutes = clockMinutesBetween(from.getTime(), Date.now() + aheadMs);
    const rows = await this.models.ApiUserActivity.find({ forgivenMinute: { $in: minutes }, forgivenAt: { $gte: from } }, { lastUsed: 1 }).lean().exec();
    return rows.flatMap((row) => (row.lastUsed ? [{ userId: row._id, lastUsed: row.lastUsed }] : []));
  }

  /**
   * The user's newest wrong passwords against its current password (see
   * againstCurrentPassword), newest first, at most `cap` of them (the lockout threshold: more
   * tell nothing more), up to `upTo` if given. Those after its last success count against it
   * (see `since`).
   */
  async recentFailures(user: UserRef, cap: number, upTo?: Date): Promise<WrongPassword[]> {
    // `null` in $in matches the rows of earlier versions too, which have no unlock time.
    const at = upTo ? { $gt: user.unlockedAt, $lte: upTo } : { $gt: user.unlockedAt };
    const filter = { userId: user._id, at, unlockedAt: { $in: [user.unlockedAt, null] } };
    const newest = await this.models.LoginFailure.find(filter, { at: 1, unlockedAt: 1 }).sort({ at: -1 }).limit(cap).lean().exec();
    return newest.map(wrongPasswordOf);
  }

  /**
   * One row per wrong password, under the id it was counted by, inserted through the driver:
   * every field is typed already, and a mongoose document (built, cast, validated, saved) cost
   * more CPU than the insert itself.
   */
  async recordFailure(user: Pick<ApiUserRecord, '_id' | 'accountId' | 'username'>, { id, at, unlockedAt }: WrongPassword): Promise<void> {
    const row = { _id: new Types.ObjectId(id), userId: user._id, at, minute: clockMinute(at.getTime()), ...(unlockedAt ? { unlockedAt } : {}) };
    await this.models.LoginFailure.collection.insertOne(row);
    if (Date.now() - at.getTime() > LATE_FAILURE_ROW_MS) await announceAuthChange(this.models, { accountId: user.accountId, user });
  }

  /** Records a success, for showing (`LastUsed`): it forgives nothing by itself (see forgive). */
  async recordSuccess(user: UserRef, at: Date): Promise<void> {
    await this.lastUsed.record(user._id, at);
  }

  /**
   * Writes successes settled as forgiving the wrong passwords before them (see
   * auth/ownSuccesses.ts), in boundedBulkWrite's commands, all stamped with one time of
   * writing; then removes the failure rows they made irrelevant (in the background: best
   * effort, the next forgiveness removes them too). A forgiveness is written only once a wrong
   * password was forgiven, so this costs nothing otherwise.
   */
  async forgive(forgiven: ReadonlyArray<{ user: UserRef; at: Date }>): Promise<void> {
    const written = new Date();
    const told = { forgivenAt: written, forgivenMinute: clockMinute(written.getTime()) };
    await boundedBulkWrite(
      this.models.ApiUserActivity,
      forgiven.map(({ user, at }) => ({ updateOne: { filter: { _id: user._id }, update: { $max: { lastUsed: at }, $set: told }, upsert: true } })),
    );
    void this.removeForgiven(forgiven);
  }

  /** One user after the other, as boundedBulkWrite's commands go: side by side they would hold FerretDB's connections together. */
  private async removeForgiven(forgiven: ReadonlyArray<{ user: UserRef; at: Date }>): Promise<void> {
    for (const { user, at } of forgiven) {
      try {
        // The latest row is kept, so that the last failed login stays on record.
        const newest = await this.models.LoginFailure.findOne({ userId: user._id }, { at: 1 }, { sort: { at: -1 } }).lean().exec();
        if (newest) await this.models.LoginFailure.deleteMany({ userId: user._id, at: { $lt: newest.at, $lte: at } }).exec();
      } catch {
        /* best effort: the user's next forgiveness removes them */
      }
    }
  }

  /** Everything recorded of these users, for showing them. */
  async summaries(users: readonly UserRef[]): Promise<Map<string, LoginActivitySummary>> {
    const ids = users.map((user) => user._id);
    const pendingBefore = new Map(users.map((user) => [user._id.toHexString(), this.lastUsed.pendingFor(user._id)]));
    const [failures, activity] = await Promise.all([
      this.models.LoginFailure.find({ userId: { $in: ids } }).lean().exec(),
      this.models.ApiUserActivity.find({ _id: { $in: ids } }).lean().exec(),
    ]);
    const result = new Map<string, LoginActivitySummary>();
    for (const user of users) {
      const stored = activity.find((record) => record._id.equals(user._id));
      const shown = latest(latest(stored?.lastCall, stored?.lastUsed ?? undefined), pendingBefore.get(user._id.toHexString()));
      const lastUsed = latest(shown, this.lastUsed.pendingFor(user._id));
      const own = failures.filter((failure) => failure.userId.equals(user._id));
      result.set(user._id.toHexString(), {
        failedLoginCount: countingAgainst(own, user, latest(stored?.lastUsed, this.countFromHere(user._id) ?? undefined)),
        lastFailedLogin: own.reduce<Date | null>((newest, failure) => (!newest || failure.at > newest ? failure.at : newest), null),
        lastUsed,
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

/** From when wrong passwords count: the later of the last unlock and the last success. */
export function since(user: UserRef, lastSuccess: Date | null): Date {
  return lastSuccess && lastSuccess > user.unlockedAt ? lastSuccess : user.unlockedAt;
}

function latest(stored: Date | undefined | null, pending: Date | undefined): Date | null {
  if (!stored) return pending ?? null;
  return pending && pending > stored ? pending : stored;
}
