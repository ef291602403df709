// Accounts (tenants). Created and switched on or off only from the command line.
import type { Types } from 'mongoose';
import type { AccountRecord, ApiUserRecord, Models } from '../db/models.js';
import type { ApiUsers } from './apiUsers.js';
import { COMMAND_LINE, onlyUncopiedEvents, type Actor, type AuditTrail } from './auditTrail.js';
import { generatePassword } from './generatedSecrets.js';
import { parseObjectId } from './ids.js';

export interface NewAccount {
  name: string;
  mainEmail: string;
  apiCallsPerHour?: number | undefined;
}

export interface CreatedAccount {
  account: AccountRecord;
  owner: ApiUserRecord;
  /** The owner's generated password: shown once, stored only as a hash. */
  password: string;
}

export class Accounts {
  constructor(
    private readonly models: Models,
    private readonly apiUsers: ApiUsers,
    private readonly auditTrail: AuditTrail,
    /** Told of every disable and enable, so that what authentication caches is dropped. */
    private readonly accountChanged: (accountId: Types.ObjectId) => void = () => {},
  ) {}

  /** `id`, when given, is the account's: a second creation with it fails as a duplicate key. */
  async create(input: NewAccount, actor: Actor = COMMAND_LINE, id?: Types.ObjectId): Promise<CreatedAccount> {
    const created = await this.models.Account.create({
      ...(id === undefined ? {} : { _id: id }),
      name: input.name,
      mainEmail: input.mainEmail,
      apiCallsPerHour: input.apiCallsPerHour ?? 2000,
      disabled: false,
      usersLockedAt: null,
      created: new Date(),
      pendingAudit: [this.auditTrail.event('AccountCreated', actor, `name=${JSON.stringify(input.name)}`)],
    });
    const account = { ...created.toObject<AccountRecord>(), pendingAudit: [] };
    // The username is not known yet (create() makes it and checks the policy against it again).
    const password = generatePassword({ username: '', companyName: account.name });
    let owner: ApiUserRecord;
    try {
      owner = await this.apiUsers.create(account, { description: 'Account owner', password }, actor, { isOwner: true });
    } catch (error) {
      // An account without its owner could never be managed (nothing adds an owner later), and
      // a start that finds an account creates no Demo one: it goes again, its event unpublished.
      await this.models.Account.deleteOne({ _id: created._id }).exec().catch(() => {});
      throw error;
    }
    // Should this fail, the recovery publishes the event (it rides in the account's document);
    // the caller is told of the account it has, and of the password shown only now.
    await this.auditTrail.publishAccount(created._id).catch(() => {});
    return { account, owner, password };
  }

  findById(id: Types.ObjectId): Promise<AccountRecord | null> {
    return this.models.Account.findById(id).lean<AccountRecord>().exec();
  }

  list(): Promise<AccountRecord[]> {
    return this.models.Account.find().sort({ created: 1, _id: 1 }).lean<AccountRecord[]>().exec();
  }

  count(): Promise<number> {
    return this.models.Account.countDocuments().exec();
  }

  /** Disables the account and, in the same write, locks every one of its users (AccountDisabled). */
  disable(id: string, actor: Actor = COMMAND_LINE): Promise<AccountRecord | null> {
    return this.change(id, { disabled: true, usersLockedAt: new Date() }, 'AccountDisabled', actor);
  }

  /** Enables the account; its users stay locked until a password reset. */
  enable(id: string, actor: Actor = COMMAND_LINE): Promise<AccountRecord | null> {
    return this.change(id, { disabled: false }, 'AccountEnabled', actor);
  }

  private async change(
    id: string,
    set: Partial<AccountRecord>,
    type: 'AccountDisabled' | 'AccountEnabled',
    actor: Actor,
  ): Promise<AccountRecord | null> {
    const _id = parseObjectId(id);
    if (!_id) return null;
    const account = await this.models.Account.findByIdAndUpdate(
      _id,
      { $set: set, $push: { pendingAudit: this.auditTrail.event(type, actor) } },
      { returnDocument: 'after' },
    )
      .lean<AccountRecord>()
      .exec();
    if (!account) return null;
    this.accountChanged(_id);
    // Made: should only copying its events fail, the audit trail tries again (see ApiUsers.publish).
    await this.auditTrail.publishAccount(_id).catch(onlyUncopiedEvents);
    return { ...account, pendingAudit: [] };
  }
}
