// Managing the API users of an account. Every change is one write whose filter carries the
// rule it enforces (tenancy, owner protection) and which carries its own audit event; the event
// is then published before the change is acknowledged.
import { Types } from 'mongoose';
import { errors } from '../errors.js';
import { isDuplicateKey } from '../db/connection.js';
import type { AccountRecord, ApiUserRecord, Models, PendingAuditEvent } from '../db/models.js';
import { onlyUncopiedEvents, type Actor, type AuditTrail } from './auditTrail.js';
import { generateUsername } from './generatedSecrets.js';
import { parseObjectId as parseId } from './ids.js';
import { normaliseAllowlist } from './ipAllowlist.js';
import { lockReasonOf } from './lockState.js';
import type { LoginActivity } from './loginActivity.js';
import { passwordPolicyFailures } from './passwordPolicy.js';
import { ENDED_GRACE, rotationFields } from './passwordRotation.js';
import type { PasswordHasher } from './passwords.js';

export interface NewApiUser {
  description?: string | undefined;
  password: string;
  enabled?: boolean | undefined;
  canManageAccount?: boolean | undefined;
  ipAllowlist?: string[] | undefined;
}

export interface ApiUserChanges {
  description?: string | undefined;
  enabled?: boolean | undefined;
  canManageAccount?: boolean | undefined;
  ipAllowlist?: string[] | undefined;
}

type AccountRef = Pick<AccountRecord, '_id' | 'name' | 'usersLockedAt'>;

/** Users being deleted are gone for every purpose but finishing their delete. */
export const LIVE_USERS = { deletedAt: null };

/** An id no user has: an unknown username is looked up as this user, with the same queries. */
const NO_USER_ID = new Types.ObjectId('000000000000000000000000');

/**
 * The live user a username names, by two lookups of _id whether it exists or not (so that the
 * time taken does not tell which; see UsernameRecord for why not a query on username).
 */
export async function findLiveUser(models: Models, username: string): Promise<ApiUserRecord | null> {
  const entry = await models.Username.findById(username).lean().exec();
  const user = await models.ApiUser.findById(entry?.userId ?? NO_USER_ID).lean<ApiUserRecord>().exec();
  return user && user.deletedAt === null && user.username === username ? user : null;
}

export interface ApiUsersOptions {
  /** Where indexUsernames() reads whole collections (see Database.scans); the models otherwise. */
  scans?: Models;
  usernameDomain: string;
  lockoutThreshold: number;
  /** Told of every change, so that what authentication caches of these users is dropped. */
  usersChanged?: (userIds: readonly Types.ObjectId[]) => void;
}

export class ApiUsers {
  private readonly usersChanged: (userIds: readonly Types.ObjectId[]) => void;

  constructor(
    private readonly models: Models,
    private readonly hasher: PasswordHasher,
    private readonly loginActivity: LoginActivity,
    private readonly auditTrail: AuditTrail,
    private readonly options: ApiUsersOptions,
  ) {
    this.usersChanged = options.usersChanged ?? (() => {});
  }

  list(accountId: Types.ObjectId, page: { select: number; skip: number }): Promise<ApiUserRecord[]> {
    return this.listQuery(accountId, page).exec();
  }

  /** The query list() runs, unsent (so that `npm run bench:scale` can explain this very one). */
  listQuery(accountId: Types.ObjectId, page: { select: number; skip: number }) {
    return this.models.ApiUser.find({ accountId, ...LIVE_USERS })
      .sort({ created: 1, _id: 1 })
      .skip(page.skip)
      .limit(page.select)
      .lean<ApiUserRecord[]>();
  }

  async get(accountId: Types.ObjectId, id: string): Promise<ApiUserRecord> {
    const _id = parseId(id);
    // By _id alone, the account and liveness checked here: an index lookup on FerretDB too.
    const user = _id && (await this.models.ApiUser.findById(_id).lean<ApiUserRecord>().exec());
    if (!user || !user.accountId.equals(accountId) || user.deletedAt !== null) throw errors.apiUserNotFound();
    return user;
  }

  findByUsername(username: string): Promise<ApiUserRecord | null> {
    return findLiveUser(this.models, username);
  }

  /**
   * Adds the username rows users written before them lack (at startup; a no-op once done). One
   * read of each collection, whatever the number of users.
   */
  async indexUsernames(): Promise<number> {
    const scans = this.options.scans ?? this.models;
    const [users, indexed] = await Promise.all([scans.ApiUser.find({}, { username: 1 }).lean().exec(), scans.Username.find({}, { _id: 1 }).lean().exec()]);
    const known = new Set(indexed.map((entry) => entry._id));
    const missing = users.filter((user) => !known.has(user.username)).map((user) => ({ _id: user.username, userId: user._id }));
    if (missing.length === 0) return 0;
    try {
      await this.models.Username.insertMany(missing, { ordered: false });
    } catch (error) {
      if (!isDuplicateKey(error)) throw error; // another process did it first
    }
    return missing.length;
  }

  async create(account: AccountRef, input: NewApiUser, actor: Actor, options: { isOwner?: boolean } = {}): Promise<ApiUserRecord> {
    // A clash of 48 random bits is all but impossible; a few tries make it impossible in practice.
    for (let attempt = 0; ; attempt++) {
      const username = generateUsername(this.options.usernameDomain);
      this.checkPassword(input.password, username, account.name);
      const now = new Date();
      const enabled = input.enabled ?? true;
      const canManageAccount = options.isOwner ? true : (input.canManageAccount ?? false);
      const ipAllowlist = normaliseAllowlist(input.ipAllowlist ?? []);
      const _id = new Types.ObjectId();
      let created;
      try {
        // The username is taken by this insert (a clash is a duplicate key, and another try).
        await this.models.Username.create({ _id: username, userId: _id });
        const passwordHash = await this.hasher.hash(input.password);
        created = await this.models.ApiUser.create({
          _id,
          accountId: account._id,
          username,
          description: input.description ?? '',
          passwordHash,
          enabled,
          canManageAccount,
          isOwner: options.isOwner ?? false,
          ipAllowlist,
          ...ENDED_GRACE,
          unlockedAt: now,
          created: now,
          deletedAt: null,
          pendingAudit: [
            this.auditTrail.event(
              'ApiUserCreated',
              actor,
              describe({
                description: input.description ?? '',
                enabled,
                canManageAccount,
                isOwner: options.isOwner ?? false,
                ...(ipAllowlist.length > 0 ? { ipAllowlist } : {}),
              }),
            ),
          ],
        });
      } catch (error) {
        // A username row without its user names nobody; removed so that it is not left behind,
        // unless the user's insert may have landed after all (a timeout says nothing of that):
        // without its row the user could never log in.
        const userThere = await this.models.ApiUser.exists({ _id }).then(Boolean, () => true);
        if (!userThere) await this.models.Username.deleteOne({ _id: username, userId: _id }).exec().catch(() => {});
        if (!isDuplicateKey(error) || attempt >= 4) throw error;
        continue;
      }
      // The user is created, its event with it: the caller is told of the user it has, not of
      // an error it would answer with a second user. No other process knows the new user, so
      // none needs telling; its event follows (see publish).
      const userId = created._id;
      await this.oneAtATime([userId], () => this.auditTrail.publishUsers([userId])).catch(() => {});
      return { ...created.toObject<ApiUserRecord>(), pendingAudit: [] };
    }
  }

  async update(accountId: Types.ObjectId, id: string, changes: ApiUserChanges, actor: Actor): Promise<ApiUserRecord> {
    const _id = parseId(id);
    if (!_id) throw errors.apiUserNotFound();
    return this.oneAtATime([_id], () => this.applyUpdate(accountId, _id, id, changes, actor));
  }

  private async applyUpdate(accountId: Types.ObjectId, _id: Types.ObjectId, id: string, changes: ApiUserChanges, actor: Actor): Promise<ApiUserRecord> {
    const given = changes.ipAllowlist === undefined ? changes : { ...changes, ipAllowlist: normaliseAllowlist(changes.ipAllowlist) };
    const set: Partial<ApiUserRecord> = {};
    if (given.description !== undefined) set.description = given.description;
    if (given.enabled !== undefined) set.enabled = given.enabled;
    if (given.canManageAccount !== undefined) set.canManageAccount = given.canManageAccount;
    if (given.ipAllowlist !== undefined) set.ipAllowlist = given.ipAllowlist;
    // A disable ends a rotation's grace: the replaced password does not come back on re-enable.
    if (given.enabled === false) Object.assign(set, ENDED_GRACE);
    const events: PendingAuditEvent[] = [];
    if (given.enabled === true) events.push(this.auditTrail.event('ApiUserEnabled', actor));
    if (given.enabled === false) events.push(this.auditTrail.event('ApiUserDisabled', actor));
    const { enabled: _enabled, ...otherChanges } = given;
    if (Object.keys(otherChanges).length > 0) events.push(this.auditTrail.event('ApiUserUpdated', actor, describe(otherChanges)));
    const touchesOwnerRights = given.enabled === false || given.canManageAccount === false;
    const filter = { _id, accountId, ...LIVE_USERS, ...(touchesOwnerRights ? { isOwner: false } : {}) };
    const updated = await this.models.ApiUser.findOneAndUpdate(filter, { $set: set, $push: { pendingAudit: { $each: events } } }, { returnDocument: 'after' })
      .lean<ApiUserRecord>()
      .exec();
    if (updated) return this.published(updated);
    await this.get(accountId, id); // 404 when it does not exist; otherwise it is the owner:
    throw errors.operationNotAllowed("The account owner cannot be disabled or lose the 'Can manage account' permission.");
  }

  /**
   * Sets a new (or the same) password and unlocks the user, whatever locked it. With
   * `keepPreviousForHours` > 0 the password it replaces keeps working that long (rotation);
   * either way an older replaced password stops working at once.
   */
  async resetPassword(account: AccountRef, id: string, password: string, actor: Actor, keepPreviousForHours = 0): Promise<ApiUserRecord> {
    const user = await this.get(account._id, id);
    return this.setPassword(user, account, password, actor, keepPreviousForHours);
  }

  async setPassword(user: ApiUserRecord, account: AccountRef, password: string, actor: Actor, keepPreviousForHours = 0): Promise<ApiUserRecord> {
    this.checkPassword(password, user.username, account.name);
    const passwordHash = await this.hasher.hash(password);
    return this.oneAtATime([user._id], () => this.storePassword(user, account, passwordHash, actor, keepPreviousForHours));
  }

  private async storePassword(user: ApiUserRecord, account: AccountRef, passwordHash: string, actor: Actor, keepPreviousForHours: number): Promise<ApiUserRecord> {
    // The hash kept must be the one this write replaces: with a concurrent reset in between,
    // the write misses (its filter names the hash read) and is made again on a fresh read.
    for (let current = user, attempt = 0; ; attempt++) {
      const updated = await this.replacePassword(current, account, passwordHash, actor, keepPreviousForHours);
      if (updated) return this.published(updated);
      const reread = await this.get(account._id, user._id.toHexString()); // 404 when it went meanwhile
      if (attempt >= 4) throw new Error(`The password of API user ${user._id.toHexString()} kept changing during its reset.`);
      current = reread;
    }
  }

  private async replacePassword(
    user: ApiUserRecord,
    account: AccountRef,
    passwordHash: string,
    actor: Actor,
    keepPreviousForHours: number,
  ): Promise<ApiUserRecord | null> {
    const now = new Date();
    const activity = (await this.loginActivity.summaries([user])).get(user._id.toHexString());
    const lockReason = lockReasonOf(user, account, activity?.failedLoginCount ?? 0, this.options.lockoutThreshold);
    const rotation = rotationFields(user.passwordHash, keepPreviousForHours, now);
    const kept = rotation.previousPasswordExpires ? `the replaced password keeps working until ${rotation.previousPasswordExpires.toISOString()}` : null;
    const events = [this.auditTrail.event('ApiUserPasswordReset', actor, kept)];
    if (lockReason) events.push(this.auditTrail.event('ApiUserUnlocked', actor, `was locked: ${lockReason}`));
    return this.models.ApiUser.findOneAndUpdate(
      { _id: user._id, accountId: account._id, passwordHash: user.passwordHash, ...LIVE_USERS },
      // One write: the new unlock time also retires every earlier wrong password.
      { $set: { passwordHash, unlockedAt: now, ...rotation }, $push: { pendingAudit: { $each: events } } },
      { returnDocument: 'after' },
    )
      .lean<ApiUserRecord>()
      .exec();
  }

  async delete(accountId: Types.ObjectId, id: string, actor: Actor): Promise<void> {
    const _id = parseId(id);
    if (!_id) throw errors.apiUserNotFound();
    return this.oneAtATime([_id], () => this.markDeleted(accountId, _id, id, actor));
  }

  private async markDeleted(accountId: Types.ObjectId, _id: Types.ObjectId, id: string, actor: Actor): Promise<void> {
    const { modifiedCount } = await this.models.ApiUser.updateOne(
      { _id, accountId, isOwner: false, ...LIVE_USERS },
      { $set: { deletedAt: new Date() }, $push: { pendingAudit: this.auditTrail.event('ApiUserDeleted', actor) } },
    ).exec();
    if (modifiedCount === 1) {
      this.usersChanged([_id]);
      return this.publish([_id]);
    }
    await this.get(accountId, id);
    throw errors.operationNotAllowed('The account owner cannot be deleted.');
  }

  /** Deletes every listed user of the account; ids that name none are skipped and not counted. */
  async deleteMany(accountId: Types.ObjectId, ids: readonly string[], actor: Actor): Promise<number> {
    const objectIds = ids.map(parseId).filter((id): id is Types.ObjectId => id !== null);
    if (objectIds.length === 0) return 0;
    return this.oneAtATime(objectIds, () => this.markManyDeleted(accountId, objectIds, actor));
  }

  private async markManyDeleted(accountId: Types.ObjectId, objectIds: Types.ObjectId[], actor: Actor): Promise<number> {
    // All or nothing for the owner: a list naming it deletes no one, rather than some.
    const owner = await this.models.ApiUser.exists({ _id: { $in: objectIds }, accountId, isOwner: true }).exec();
    if (owner) throw errors.operationNotAllowed('The account owner cannot be deleted; no API user was deleted.');
    const { modifiedCount } = await this.models.ApiUser.updateMany(
      { _id: { $in: objectIds }, accountId, isOwner: false, ...LIVE_USERS },
      { $set: { deletedAt: new Date() }, $push: { pendingAudit: this.auditTrail.event('ApiUserDeleted', actor) } },
    ).exec();
    this.usersChanged(objectIds);
    await this.publish(objectIds);
    return modifiedCount;
  }

  /** A change of these users and its publication, after any other of theirs made here (see AuditTrail.userWrites). */
  private oneAtATime<T>(userIds: readonly Types.ObjectId[], change: () => Promise<T>): Promise<T> {
    return this.auditTrail.userWrites.run(userIds.map((userId) => userId.toHexString()), change);
  }

  private async published(user: ApiUserRecord): Promise<ApiUserRecord> {
    this.usersChanged([user._id]);
    await this.publish([user._id]);
    return { ...user, pendingAudit: [] };
  }

  /**
   * Publishes the changed users' events. The change is made, and its events ride in the users'
   * documents: should copying them fail once every process has been told of the change, the
   * audit trail tries again a second later and then in its recovery, and the caller is answered
   * with the change it made. Should the telling fail, the caller gets the error (a 503): its
   * change stands, but other processes may go on admitting a user it disabled until the retry;
   * the same call again is harmless, and tells them.
   */
  private publish(userIds: readonly Types.ObjectId[]): Promise<void> {
    return this.auditTrail.publishUsers(userIds).catch(onlyUncopiedEvents);
  }

  private checkPassword(password: string, username: string, companyName: string): void {
    const failures = passwordPolicyFailures(password, { username, companyName });
    if (failures.length > 0) throw errors.weakPassword(failures);
  }
}

/** What an event's details say of the fields set: `description="CRM", canManageAccount=true`. */
function describe(fields: Record<string, unknown>): string {
  return Object.entries(fields)
    .filter(([, value]) => value !== undefined)
    .map(([field, value]) => `${field}=${JSON.stringify(value)}`)
    .join(', ');
}
