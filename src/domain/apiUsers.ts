// Managing the API users of an account. Every change is one write whose filter carries the
// rule it enforces (tenancy, owner protection) and which carries its own audit event; the event
// is then published before the change is acknowledged.
import type { Types } from 'mongoose';
import { errors } from '../errors.js';
import { isDuplicateKey } from '../db/connection.js';
import type { AccountRecord, ApiUserRecord, Models, PendingAuditEvent } from '../db/models.js';
import type { Actor, AuditTrail } from './auditTrail.js';
import { generateUsername } from './generatedSecrets.js';
import { parseObjectId as parseId } from './ids.js';
import { lockReasonOf } from './lockState.js';
import type { LoginActivity } from './loginActivity.js';
import { passwordPolicyFailures } from './passwordPolicy.js';
import type { PasswordHasher } from './passwords.js';

export interface NewApiUser {
  description?: string | undefined;
  password: string;
  enabled?: boolean | undefined;
  canManageAccount?: boolean | undefined;
}

export interface ApiUserChanges {
  description?: string | undefined;
  enabled?: boolean | undefined;
  canManageAccount?: boolean | undefined;
}

type AccountRef = Pick<AccountRecord, '_id' | 'name' | 'usersLockedAt'>;

/** Users being deleted are gone for every purpose but finishing their delete. */
export const LIVE_USERS = { deletedAt: null };

export interface ApiUsersOptions {
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
    return this.models.ApiUser.find({ accountId, ...LIVE_USERS })
      .sort({ created: 1, _id: 1 })
      .skip(page.skip)
      .limit(page.select)
      .lean<ApiUserRecord[]>()
      .exec();
  }

  async get(accountId: Types.ObjectId, id: string): Promise<ApiUserRecord> {
    const _id = parseId(id);
    const user = _id && (await this.models.ApiUser.findOne({ _id, accountId, ...LIVE_USERS }).lean<ApiUserRecord>().exec());
    if (!user) throw errors.apiUserNotFound();
    return user;
  }

  findByUsername(username: string): Promise<ApiUserRecord | null> {
    return this.models.ApiUser.findOne({ username, ...LIVE_USERS }).lean<ApiUserRecord>().exec();
  }

  async create(account: AccountRef, input: NewApiUser, actor: Actor, options: { isOwner?: boolean } = {}): Promise<ApiUserRecord> {
    // A clash of 48 random bits is all but impossible; a few tries make it impossible in practice.
    for (let attempt = 0; ; attempt++) {
      const username = generateUsername(this.options.usernameDomain);
      this.checkPassword(input.password, username, account.name);
      const now = new Date();
      const enabled = input.enabled ?? true;
      const canManageAccount = options.isOwner ? true : (input.canManageAccount ?? false);
      try {
        const created = await this.models.ApiUser.create({
          accountId: account._id,
          username,
          description: input.description ?? '',
          passwordHash: await this.hasher.hash(input.password),
          enabled,
          canManageAccount,
          isOwner: options.isOwner ?? false,
          unlockedAt: now,
          created: now,
          deletedAt: null,
          pendingAudit: [
            this.auditTrail.event(
              'ApiUserCreated',
              actor,
              describe({ description: input.description ?? '', enabled, canManageAccount, isOwner: options.isOwner ?? false }),
            ),
          ],
        });
        await this.auditTrail.publishUsers([created._id]);
        return { ...created.toObject<ApiUserRecord>(), pendingAudit: [] };
      } catch (error) {
        if (!isDuplicateKey(error) || attempt >= 4) throw error;
      }
    }
  }

  async update(accountId: Types.ObjectId, id: string, changes: ApiUserChanges, actor: Actor): Promise<ApiUserRecord> {
    const _id = parseId(id);
    if (!_id) throw errors.apiUserNotFound();
    const set: Partial<ApiUserRecord> = {};
    if (changes.description !== undefined) set.description = changes.description;
    if (changes.enabled !== undefined) set.enabled = changes.enabled;
    if (changes.canManageAccount !== undefined) set.canManageAccount = changes.canManageAccount;
    const events: PendingAuditEvent[] = [];
    if (changes.enabled === true) events.push(this.auditTrail.event('ApiUserEnabled', actor));
    if (changes.enabled === false) events.push(this.auditTrail.event('ApiUserDisabled', actor));
    const { enabled: _enabled, ...otherChanges } = changes;
    if (Object.keys(otherChanges).length > 0) events.push(this.auditTrail.event('ApiUserUpdated', actor, describe(otherChanges)));
    const touchesOwnerRights = changes.enabled === false || changes.canManageAccount === false;
    const filter = { _id, accountId, ...LIVE_USERS, ...(touchesOwnerRights ? { isOwner: false } : {}) };
    const updated = await this.models.ApiUser.findOneAndUpdate(filter, { $set: set, $push: { pendingAudit: { $each: events } } }, { returnDocument: 'after' })
      .lean<ApiUserRecord>()
      .exec();
    if (updated) return this.published(updated);
    await this.get(accountId, id); // 404 when it does not exist; otherwise it is the owner:
    throw errors.operationNotAllowed("The account owner cannot be disabled or lose the 'Can manage account' permission.");
  }

  /** Sets a new (or the same) password and unlocks the user, whatever locked it. */
  async resetPassword(account: AccountRef, id: string, password: string, actor: Actor): Promise<ApiUserRecord> {
    const user = await this.get(account._id, id);
    return this.setPassword(user, account, password, actor);
  }

  async setPassword(user: ApiUserRecord, account: AccountRef, password: string, actor: Actor): Promise<ApiUserRecord> {
    this.checkPassword(password, user.username, account.name);
    const passwordHash = await this.hasher.hash(password);
    const activity = (await this.loginActivity.summaries([user])).get(user._id.toHexString());
    const lockReason = lockReasonOf(user, account, activity?.failedLoginCount ?? 0, this.options.lockoutThreshold);
    const events = [this.auditTrail.event('ApiUserPasswordReset', actor)];
    if (lockReason) events.push(this.auditTrail.event('ApiUserUnlocked', actor, `was locked: ${lockReason}`));
    const updated = await this.models.ApiUser.findOneAndUpdate(
      { _id: user._id, accountId: account._id, ...LIVE_USERS },
      // One write: the new unlock time also retires every earlier wrong password.
      { $set: { passwordHash, unlockedAt: new Date() }, $push: { pendingAudit: { $each: events } } },
      { returnDocument: 'after' },
    )
      .lean<ApiUserRecord>()
      .exec();
    if (!updated) throw errors.apiUserNotFound();
    return this.published(updated);
  }

  async delete(accountId: Types.ObjectId, id: string, actor: Actor): Promise<void> {
    const _id = parseId(id);
    if (!_id) throw errors.apiUserNotFound();
    const { modifiedCount } = await this.models.ApiUser.updateOne(
      { _id, accountId, isOwner: false, ...LIVE_USERS },
      { $set: { deletedAt: new Date() }, $push: { pendingAudit: this.auditTrail.event('ApiUserDeleted', actor) } },
    ).exec();
    if (modifiedCount === 1) {
      this.usersChanged([_id]);
      return this.auditTrail.publishUsers([_id]);
    }
    await this.get(accountId, id);
    throw errors.operationNotAllowed('The account owner cannot be deleted.');
  }

  /** Deletes every listed user of the account; ids that name none are skipped and not counted. */
  async deleteMany(accountId: Types.ObjectId, ids: readonly string[], actor: Actor): Promise<number> {
    const objectIds = ids.map(parseId).filter((id): id is Types.ObjectId => id !== null);
    if (objectIds.length === 0) return 0;
    // All or nothing for the owner: a list naming it deletes no one, rather than some.
    const owner = await this.models.ApiUser.exists({ _id: { $in: objectIds }, accountId, isOwner: true }).exec();
    if (owner) throw errors.operationNotAllowed('The account owner cannot be deleted; no API user was deleted.');
    const { modifiedCount } = await this.models.ApiUser.updateMany(
      { _id: { $in: objectIds }, accountId, isOwner: false, ...LIVE_USERS },
      { $set: { deletedAt: new Date() }, $push: { pendingAudit: this.auditTrail.event('ApiUserDeleted', actor) } },
    ).exec();
    this.usersChanged(objectIds);
    await this.auditTrail.publishUsers(objectIds);
    return modifiedCount;
  }

  private async published(user: ApiUserRecord): Promise<ApiUserRecord> {
    this.usersChanged([user._id]);
    await this.auditTrail.publishUsers([user._id]);
    return { ...user, pendingAudit: [] };
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
