// The database's three collections. Every state change the API makes is one atomic write to
// one document (FerretDB has no transactions, and real MongoDB must not need them), so
// derived state (a lock) is computed from stored facts instead of being stored twice.
import { Schema, type Connection, type Model, type Types } from 'mongoose';

export interface AccountRecord {
  _id: Types.ObjectId;
  name: string;
  mainEmail: string;
  disabled: boolean;
  apiCallsPerHour: number;
  locale: string;
  /** Set on every disable: users not unlocked since this moment count as locked (AccountDisabled). */
  usersLockedAt: Date | null;
  created: Date;
}

export interface ApiUserRecord {
  _id: Types.ObjectId;
  accountId: Types.ObjectId;
  username: string;
  description: string;
  passwordHash: string;
  enabled: boolean;
  canManageAccount: boolean;
  isOwner: boolean;
  /** Consecutive wrong passwords; at the lockout threshold the user is locked (FailedLogins). */
  failedLoginCount: number;
  lastFailedLogin: Date | null;
  /** Creation or last password reset: an account disable after this moment locks the user. */
  unlockedAt: Date;
  created: Date;
  lastUsed: Date | null;
}

export interface QuotaWindowRecord {
  /** `<accountId>:<window start in ms>`: one counter per account per clock hour. */
  _id: string;
  accountId: Types.ObjectId;
  windowStart: Date;
  count: number;
}

const accountSchema = new Schema<AccountRecord>(
  {
    name: { type: String, required: true },
    mainEmail: { type: String, required: true },
    disabled: { type: Boolean, required: true, default: false },
    apiCallsPerHour: { type: Number, required: true, default: 2000 },
    locale: { type: String, required: true, default: 'en-GB' },
    usersLockedAt: { type: Date, default: null },
    created: { type: Date, required: true, default: () => new Date() },
  },
  { collection: 'accounts', versionKey: false, strict: 'throw' },
);

const apiUserSchema = new Schema<ApiUserRecord>(
  {
    accountId: { type: Schema.Types.ObjectId, required: true },
    username: { type: String, required: true },
    description: { type: String, default: '' },
    passwordHash: { type: String, required: true },
    enabled: { type: Boolean, required: true, default: true },
    canManageAccount: { type: Boolean, required: true, default: false },
    isOwner: { type: Boolean, required: true, default: false },
    failedLoginCount: { type: Number, required: true, default: 0 },
    lastFailedLogin: { type: Date, default: null },
    unlockedAt: { type: Date, required: true, default: () => new Date() },
    created: { type: Date, required: true, default: () => new Date() },
    lastUsed: { type: Date, default: null },
  },
  { collection: 'apiusers', versionKey: false, strict: 'throw' },
);
apiUserSchema.index({ username: 1 }, { unique: true });
// Listing is per account, oldest first; _id breaks ties between users created in the same ms.
apiUserSchema.index({ accountId: 1, created: 1, _id: 1 });

const quotaWindowSchema = new Schema<QuotaWindowRecord>(
  {
    _id: { type: String, required: true },
    accountId: { type: Schema.Types.ObjectId, required: true },
    windowStart: { type: Date, required: true },
    count: { type: Number, required: true, default: 0 },
  },
  { collection: 'quotawindows', versionKey: false, strict: 'throw' },
);
quotaWindowSchema.index({ windowStart: 1 });

export interface Models {
  Account: Model<AccountRecord>;
  ApiUser: Model<ApiUserRecord>;
  QuotaWindow: Model<QuotaWindowRecord>;
}

/** Binds the models to one connection, so that two gateways in one process stay apart. */
export function bindModels(connection: Connection): Models {
  return {
    Account: connection.model<AccountRecord>('Account', accountSchema),
    ApiUser: connection.model<ApiUserRecord>('ApiUser', apiUserSchema),
    QuotaWindow: connection.model<QuotaWindowRecord>('QuotaWindow', quotaWindowSchema),
  };
}
