// Managing the API users of an account. Every change is one atomic write whose filter carries
// the rule it enforces (tenancy, owner protection), so no check can be raced past.
import type { Types } from 'mongoose';
import { errors } from '../errors.js';
import { isDuplicateKey } from '../db/connection.js';
import type { AccountRecord, ApiUserRecord, Models } from '../db/models.js';
import { generateUsername } from './generatedSecrets.js';
import { parseObjectId as parseId } from './ids.js';
import { passwordPolicyFailures } from './passwordPolicy.js';
import type { LoginActivity } from './loginActivity.js';
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

type AccountRef = Pick<AccountRecord, '_id' | 'name'>;

export class ApiUsers {
  constructor(
    private readonly models: Models,
    private readonly hasher: PasswordHasher,
    private readonly loginActivity: LoginActivity,
    private readonly usernameDomain: string,
    /** Told of every change, so that what authentication caches of these users is dropped. */
    private readonly usersChanged: (userIds: readonly Types.ObjectId[]) => void = () => {},
  ) {}

  list(accountId: Types.ObjectId, page: { select: number; skip: number }): Promise<ApiUserRecord[]> {
    return this.models.ApiUser.find({ accountId })
      .sort({ created: 1, _id: 1 })
      .skip(page.skip)
      .limit(page.select)
      .lean<ApiUserRecord[]>()
      .exec();
  }

  async get(accountId: Types.ObjectId, id: string): Promise<ApiUserRecord> {
    const _id = parseId(id);
    const user = _id && (await this.models.ApiUser.findOne({ _id, accountId }).lean<ApiUserRecord>().exec());
    if (!user) throw errors.apiUserNotFound();
    return user;
  }

  findByUsername(username: string): Promise<ApiUserRecord | null> {
    return this.models.ApiUser.findOne({ username }).lean<ApiUserRecord>().exec();
  }

  async create(account: AccountRef, input: NewApiUser, options: { isOwner?: boolean } = {}): Promise<ApiUserRecord> {
    // A clash of 48 random bits is all but impossible; a few tries make it impossible in practice.
    for (let attempt = 0; ; attempt++) {
      const username = generateUsername(this.usernameDomain);
      this.checkPassword(input.password, username, account.name);
      const now = new Date();
      try {
        const created = await this.models.ApiUser.create({
          accountId: account._id,
          username,
          description: input.description ?? '',
          passwordHash: await this.hasher.hash(input.password),
          enabled: input.enabled ?? true,
          canManageAccount: options.isOwner ? true : (input.canManageAccount ?? false),
          isOwner: options.isOwner ?? false,
          unlockedAt: now,
          created: now,
        });
        return created.toObject<ApiUserRecord>();
      } catch (error) {
        if (!isDuplicateKey(error) || attempt >= 4) throw error;
      }
    }
  }

  async update(accountId: Types.ObjectId, id: string, changes: ApiUserChanges): Promise<ApiUserRecord> {
    const _id = parseId(id);
    if (!_id) throw errors.apiUserNotFound();
    const set: Partial<ApiUserRecord> = {};
    if (changes.description !== undefined) set.description = changes.description;
    if (changes.enabled !== undefined) set.enabled = changes.enabled;
    if (changes.canManageAccount !== undefined) set.canManageAccount = changes.canManageAccount;
    const touchesOwnerRights = changes.enabled === false || changes.canManageAccount === false;
    const filter = touchesOwnerRights ? { _id, accountId, isOwner: false } : { _id, accountId };
    const updated = await this.models.ApiUser.findOneAndUpdate(filter, { $set: set }, { returnDocument: 'after' })
      .lean<ApiUserRecord>()
      .exec();
    if (updated) {
      this.usersChanged([_id]);
      return updated;
    }
    await this.get(accountId, id); // 404 when it does not exist; otherwise it is the owner:
    throw errors.operationNotAllowed(
      "The account owner cannot be disabled or lose the 'Can manage account' permission.",
    );
  }

  /** Sets a new (or the same) password and unlocks the user, whatever locked it. */
  async resetPassword(account: AccountRef, id: string, password: string): Promise<ApiUserRecord> {
    const user = await this.get(account._id, id);
    return this.setPassword(user, account, password);
  }

  async setPassword(user: ApiUserRecord, account: AccountRef, password: string): Promise<ApiUserRecord> {
    this.checkPassword(password, user.username, account.name);
    const passwordHash = await this.hasher.hash(password);
    const updated = await this.models.ApiUser.findOneAndUpdate(
      { _id: user._id, accountId: account._id },
      // One write: the new unlock time also retires every earlier wrong password.
      { $set: { passwordHash, unlockedAt: new Date() } },
      { returnDocument: 'after' },
    )
      .lean<ApiUserRecord>()
      .exec();
    if (!updated) throw errors.apiUserNotFound();
    this.usersChanged([user._id]);
    return updated;
  }

  async delete(accountId: Types.ObjectId, id: string): Promise<void> {
    const _id = parseId(id);
    if (!_id) throw errors.apiUserNotFound();
    const { deletedCount } = await this.models.ApiUser.deleteOne({ _id, accountId, isOwner: false }).exec();
    if (deletedCount === 1) {
      this.usersChanged([_id]);
      return this.loginActivity.forget([_id]);
    }
    await this.get(accountId, id);
    throw errors.operationNotAllowed('The account owner cannot be deleted.');
  }

  /** Deletes every listed user of the account; ids that name none are skipped and not counted. */
  async deleteMany(accountId: Types.ObjectId, ids: readonly string[]): Promise<number> {
    const objectIds = ids.map(parseId).filter((id): id is Types.ObjectId => id !== null);
    if (objectIds.length === 0) return 0;
    // All or nothing for the owner: a list naming it deletes no one, rather than some.
    const owner = await this.models.ApiUser.exists({ _id: { $in: objectIds }, accountId, isOwner: true }).exec();
    if (owner) throw errors.operationNotAllowed('The account owner cannot be deleted; no API user was deleted.');
    const { deletedCount } = await this.models.ApiUser.deleteMany({
      _id: { $in: objectIds },
      accountId,
      isOwner: false,
    }).exec();
    this.usersChanged(objectIds);
    await this.loginActivity.forget(objectIds);
    return deletedCount;
  }

  private checkPassword(password: string, username: string, companyName: string): void {
    const failures = passwordPolicyFailures(password, { username, companyName });
    if (failures.length > 0) throw errors.weakPassword(failures);
  }
}
