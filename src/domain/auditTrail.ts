// Each account's append-only audit log, for the people who run its integrations: who created,
// changed, enabled, disabled, reset, unlocked or deleted which API user, when the account was
// disabled or enabled, and when a user was locked by wrong passwords. Never a password; failed
// logins are counted on the user, not logged one by one (an attacker must not flood the log).
//
// A change and its event are written together (the outbox pattern, see db/models.ts); publish()
// copies pending events into the log and takes them out of their document, and finishes a
// delete once its event is out. recover() does the same for whatever a crash left pending.
import { randomBytes } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { Types, type Model } from 'mongoose';
import { isDuplicateKey } from '../db/connection.js';
import type { AccountRecord, ApiUserRecord, AuditEventRecord, Models, PendingAuditEvent } from '../db/models.js';
import { announceAuthChange } from './authChanges.js';
import { clockHourStart } from './clockHours.js';
import { PerKeyQueue } from './perKeyQueue.js';

export type AuditEventType =
  | 'AccountCreated'
  | 'AccountDisabled'
  | 'AccountEnabled'
  | 'ApiUserCreated'
  | 'ApiUserUpdated'
  | 'ApiUserEnabled'
  | 'ApiUserDisabled'
  | 'ApiUserPasswordReset'
  | 'ApiUserUnlocked'
  | 'ApiUserLocked'
  | 'ApiUserRefusedByAllowlist'
  | 'ApiUserDeleted';

/** Who made a change: an API user calling from an address, or the command line. */
export interface Actor {
  id: string | null;
  username: string | null;
  clientIp: string | null;
}

export const COMMAND_LINE: Actor = { id: null, username: '(command line)', clientIp: null };

/** How often leftovers of interrupted changes are looked for. */
const RECOVERY_INTERVAL_MS = 30_000;
/**
 * When a publication that failed is tried again, once, before the recovery's next round: until
 * it is out, the other processes may not have heard of the change (a disable, a reset).
 */
const RETRY_PUBLICATION_MS = 1_000;
/** Allowlist refusals this process has logged already (user, address, hour), so as not to write each again. */
const LOGGED_REFUSALS_KEPT = 10_000;
/**
 * Addresses whose allowlist refusals one process logs for one user in one clock hour; calls
 * from further ones get one event for all of them. Whoever can send from many addresses (an
 * IPv6 prefix holds billions) must not be able to flood an account's log, nor cost a write a call.
 */
export const REFUSED_ADDRESSES_LOGGED = 20;
const LOGGED_LOCKS_KEPT = 10_000;

/**
 * A publication whose change every process has been told of, but whose events could not be
 * copied into the log yet: they stay in the changed document, for the retry and the recovery.
 * The change it follows stands, and may be answered as made.
 */
export class EventsNotCopiedError extends Error {
  constructor(readonly reason: unknown) {
    super('the events of a change could not be copied into the audit log yet', { cause: reason });
    this.name = 'EventsNotCopiedError';
  }
}

/** A publication's failure that leaves the change told of everywhere, its events to follow: not the caller's to hear of. */
export function onlyUncopiedEvents(error: unknown): void {
  if (!(error instanceof EventsNotCopiedError)) throw error;
}

export class AuditTrail {
  /**
   * Each API user's change and its publication, one at a time per user (a stock FerretDB can
   * lose one of two concurrent writes of a document: see perKeyQueue.ts). ApiUsers runs its changes
   * through it, the recovery its publications; publishUsers itself does not (it runs inside).
   */
  readonly userWrites = new PerKeyQueue();
  private timer: NodeJS.Timeout | undefined;
  private readonly retries = new Set<NodeJS.Timeout>();
  private onRecoveryError: (error: unknown) => void = () => {};
  private readonly loggedRefusals = new LRUCache<string, true>({ max: LOGGED_REFUSALS_KEPT });
  /** How many addresses' refusals this process has logged, by user and clock hour. */
  private readonly refusedAddresses = new LRUCache<string, number>({ max: LOGGED_REFUSALS_KEPT });
  /** Locks this process has written or found written, so as to look for each once. */
  private readonly loggedLocks = new LRUCache<string, true>({ max: LOGGED_LOCKS_KEPT });

  constructor(
    private readonly models: Models,
    /** Told of users whose delete publication finished (their records can go). */
    private readonly usersDeleted: (userIds: readonly Types.ObjectId[]) => Promise<void> = async () => {},
    /** Where recover() looks for leftovers: a read of whole collections on FerretDB (see Database.scans). */
    private readonly scans: Models = models,
  ) {}

  /** An event to write together with the change it records. */
  event(type: AuditEventType, actor: Actor, details: string | null = null): PendingAuditEvent {
    return {
      _id: `${new Types.ObjectId().toHexString()}${randomBytes(2).toString('hex')}`,
      at: new Date(),
      type,
      actorId: actor.id,
      actorUsername: actor.username,
      clientIp: actor.clientIp,
      details,
    };
  }

  /**
   * Publishes the pending events of these users (and finishes their deletes). Should it fail,
   * it is tried again a second later (once: then the recovery's rounds), one at a time per user.
   */
  publishUsers(userIds: readonly Types.ObjectId[]): Promise<void> {
    const keys = userIds.map((userId) => userId.toHexString());
    return this.publishOrRetry(
      () => this.publishUsersNow(userIds),
      () => this.userWrites.run(keys, () => this.publishUsersNow(userIds)),
    );
  }

  publishAccount(accountId: Types.ObjectId): Promise<void> {
    const publication = () => this.publishAccountNow(accountId);
    return this.publishOrRetry(publication, publication);
  }

  /** Runs a publication; should it fail, `retry` is tried a second later (see retrySoon), and the failure passed on. */
  private async publishOrRetry(publication: () => Promise<void>, retry: () => Promise<void>): Promise<void> {
    try {
      await publication();
    } catch (error) {
      this.retrySoon(retry);
      throw error;
    }
  }

  private async publishUsersNow(userIds: readonly Types.ObjectId[]): Promise<void> {
    const users = await this.models.ApiUser.find({ _id: { $in: userIds } }).lean<ApiUserRecord[]>().exec();
    await this.publishAll(users);
  }

  private async publishAccountNow(accountId: Types.ObjectId): Promise<void> {
    const account = await this.models.Account.findById(accountId).lean<AccountRecord>().exec();
    if (account) await this.publish(this.models.Account, account, account._id, null);
  }

  private retrySoon(publication: () => Promise<void>): void {
    if (!this.timer) return; // not running, or stopping: the next start's recovery publishes it
    const retry = setTimeout(() => {
      this.retries.delete(retry);
      void publication().catch((error: unknown) => this.onRecoveryError(error));
    }, RETRY_PUBLICATION_MS);
    retry.unref();
    this.retries.add(retry);
  }

  /**
   * A lock's event. No single write carries it: a lock is derived from the wrong passwords'
   * rows, so every process that counts a run to the threshold writes it (the one whose refusal
   * completed it, and those that learnt of it from the others' rows), and one is kept:
   * - an event of the user after `runStart` is this same lock, from whichever start another
   *   process counted the run (a success it had not written yet moves the start);
   * - the id is the user, its unlock and how many locks it had since, so that processes writing
   *   the same lock at once collide on one id. (A user has a second lock in one unlock only when
   *   a process admitted its right password before hearing of the first, within AUTH_STATE_TTL_MS.)
   */
  async recordLock(user: ApiUserRecord, runStart: Date, lockedAt: Date, lockoutThreshold: number): Promise<void> {
    const seen = `${user._id.toHexString()}-${runStart.getTime()}`;
    if (this.loggedLocks.has(seen)) return;
    // Taken at once, so that concurrent calls (the requests of a just-locked user) look once;
    // given back should this fail, for the next to try.
    this.loggedLocks.set(seen, true);
    try {
      await this.writeLock(user, runStart, lockedAt, lockoutThreshold);
    } catch (error) {
      this.loggedLocks.delete(seen);
      throw error;
    }
  }

  private async writeLock(user: ApiUserRecord, runStart: Date, lockedAt: Date, lockoutThreshold: number): Promise<void> {
    const sinceUnlock = await this.models.AuditEvent.find(
      { accountId: user.accountId, targetId: user._id.toHexString(), type: 'ApiUserLocked', at: { $gt: user.unlockedAt } },
      { at: 1 },
    )
      .lean()
      .exec();
    if (!sinceUnlock.some((event) => event.at > runStart)) {
      const event = this.event('ApiUserLocked', { id: null, username: null, clientIp: null }, lockDetails(user, runStart, lockoutThreshold));
      const id = `lock-${user._id.toHexString()}-${user.unlockedAt.getTime()}-${sinceUnlock.length + 1}`;
      await this.insert([{ ...event, ...aboutUser(user), _id: id, at: lockedAt }]);
    }
  }

  /**
   * A call refused because its address is outside the user's allowlist: at most one event per
   * user, address and clock hour (UTC), however many calls come and whichever gateway process
   * refuses them. The event's id names the three, so that a second insert of it is a no-op.
   * Past REFUSED_ADDRESSES_LOGGED addresses in the hour, one event (with no address) stands for
   * the calls from all the others.
   */
  async recordAllowlistRefusal(user: ApiUserRecord, clientIp: string | null, at: Date): Promise<void> {
    const address = clientIp ?? 'unknown';
    const userHour = `${user._id.toHexString()}-${clockHourStart(at.getTime())}`;
    const id = `allowlist-${userHour}-${address}`;
    if (this.loggedRefusals.has(id)) return;
    const logged = this.refusedAddresses.get(userHour) ?? 0;
    if (logged >= REFUSED_ADDRESSES_LOGGED) {
      const othersId = `allowlist-${userHour}-others`;
      if (this.loggedRefusals.has(othersId)) return;
      const details = `calls from more than ${REFUSED_ADDRESSES_LOGGED} addresses this hour, which are not in the IP allowlist (the others not logged one by one)`;
      await this.insertRefusalOnce(othersId, user, this.event('ApiUserRefusedByAllowlist', { id: null, username: null, clientIp: null }, details));
      return;
    }
    // Counted at once too, so that concurrent refusals from new addresses stop at the cap.
    this.refusedAddresses.set(userHour, logged + 1);
    const event = this.event('ApiUserRefusedByAllowlist', { id: null, username: null, clientIp }, `a call from ${address}, which is not in the IP allowlist`);
    await this.insertRefusalOnce(id, user, event).catch((error: unknown) => {
      this.refusedAddresses.set(userHour, Math.max(0, (this.refusedAddresses.get(userHour) ?? 1) - 1));
      throw error;
    });
  }

  /**
   * A refusal's event under its id, once in this process: the id is taken at once, before the
   * insert, so that concurrent refusals write it once, and given back should the insert fail,
   * for the next to try.
   */
  private async insertRefusalOnce(id: string, user: ApiUserRecord, event: PendingAuditEvent): Promise<void> {
    this.loggedRefusals.set(id, true);
    try {
      await this.insert([{ ...event, ...aboutUser(user), _id: id }]);
    } catch (error) {
      this.loggedRefusals.delete(id);
      throw error;
    }
  }

  /** The account's events, newest first; with a user's id, those by it or about it only. */
  list(accountId: Types.ObjectId, page: { select: number; skip: number }, apiUserId?: string): Promise<AuditEventRecord[]> {
    return this.listQuery(accountId, page, apiUserId).exec();
  }

  /** The query list() runs, unsent (so that `npm run bench:scale` can explain this very one). */
  listQuery(accountId: Types.ObjectId, page: { select: number; skip: number }, apiUserId?: string) {
    const filter = apiUserId === undefined ? { accountId } : { accountId, $or: [{ targetId: apiUserId }, { actorId: apiUserId }] };
    return this.models.AuditEvent.find(filter).sort({ at: -1, _id: -1 }).skip(page.skip).limit(page.select).lean<AuditEventRecord[]>();
  }

  /** Finishes what crashed processes left half-published; then keeps looking now and then. */
  async recover(): Promise<void> {
    const [users, accounts] = await Promise.all([
      this.scans.ApiUser.find({ $or: [{ 'pendingAudit.0': { $exists: true } }, { deletedAt: { $ne: null } }] }).lean<ApiUserRecord[]>().exec(),
      this.scans.Account.find({ 'pendingAudit.0': { $exists: true } }).lean<AccountRecord[]>().exec(),
    ]);
    // Each user read again once its turn comes: a change made meanwhile may have published it.
    await Promise.all(users.map((user) => this.userWrites.run([user._id.toHexString()], () => this.publishUsersNow([user._id]))));
    for (const account of accounts) await this.publish(this.models.Account, account, account._id, null);
  }

  /** Runs recover() every RECOVERY_INTERVAL_MS, and the retries of failed publications. */
  startRecovery(onError: (error: unknown) => void): void {
    this.onRecoveryError = onError;
    this.timer ??= setInterval(() => void this.recover().catch(onError), RECOVERY_INTERVAL_MS);
    this.timer.unref();
  }

  stopRecovery(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    for (const retry of this.retries) clearTimeout(retry);
    this.retries.clear();
  }

  private async publishAll(users: readonly ApiUserRecord[]): Promise<void> {
    await Promise.all(users.map((user) => this.publish(this.models.ApiUser, user, user.accountId, user)));
    const deleted = users.filter((user) => user.deletedAt !== null);
    if (deleted.length === 0) return;
    const ids = deleted.map((user) => user._id);
    // Only once its events are out; a user whose events failed to publish stays for the next try.
    const { deletedCount } = await this.models.ApiUser.deleteMany({ _id: { $in: ids }, deletedAt: { $ne: null }, 'pendingAudit.0': { $exists: false } }).exec();
    if (deletedCount === 0) return;
    await this.models.Username.deleteMany({ _id: { $in: deleted.map((user) => user.username) }, userId: { $in: ids } }).exec();
    await this.usersDeleted(ids);
  }

  private async publish<T extends { _id: Types.ObjectId; pendingAudit: PendingAuditEvent[] }>(
    model: Model<T>,
    document: T,
    accountId: Types.ObjectId,
    target: ApiUserRecord | null,
  ): Promise<void> {
    const pending = document.pendingAudit ?? [];
    if (pending.length === 0) return;
    // Told first, right after the change it follows (and again by a retried publication): the
    // gateways forget what they knew of the user or account and read it anew. Should the
    // events' insert fail, the change (a disable, a reset) is heard of everywhere all the same
    // (EventsNotCopiedError); should the telling fail, the caller must hear of it.
    await announceAuthChange(this.models, { accountId, user: target });
    try {
      await this.insert(
        pending.map((event) => ({
          ...event,
          // updateMany writes one event into many users: each publishes its own copy.
          _id: target ? `${event._id}-${target._id.toHexString()}` : event._id,
          accountId,
          targetId: target ? target._id.toHexString() : null,
          targetUsername: target ? target.username : null,
        })),
      );
      // $pullAll by the exact events read: FerretDB ignores $pull with a condition.
      await model.updateOne({ _id: document._id } as never, { $pullAll: { pendingAudit: pending } } as never).exec();
    } catch (error) {
      throw new EventsNotCopiedError(error);
    }
  }

  /** Inserts that may have happened already (a retried publication) are no error. */
  private async insert(events: AuditEventRecord[]): Promise<void> {
    try {
      await this.models.AuditEvent.insertMany(events, { ordered: false });
    } catch (error) {
      if (!isDuplicateKey(error)) throw error;
    }
  }
}

/** The fields of an event that no change of the user carries (see recordLock), naming the user. */
function aboutUser(user: Pick<ApiUserRecord, '_id' | 'accountId' | 'username'>): Pick<AuditEventRecord, 'accountId' | 'targetId' | 'targetUsername'> {
  return { accountId: user.accountId, targetId: user._id.toHexString(), targetUsername: user.username };
}

/** What a lock's event says: how many wrong passwords, after what. */
function lockDetails(user: Pick<ApiUserRecord, 'unlockedAt'>, runStart: Date, lockoutThreshold: number): string {
  const after = runStart.getTime() === user.unlockedAt.getTime() ? 'its password was set' : 'its last successful call';
  return `${lockoutThreshold} wrong passwords in a row after ${after} (${runStart.toISOString()})`;
}
