// The database's collections. Every state change the API makes is one write to one document
// (FerretDB has no transactions, and real MongoDB must not need them), and derived state (a
// lock) is computed from stored facts instead of being stored twice.
//
// FerretDB 1.x applies an update by reading the document and writing all of it back, with no
// condition: two concurrent updates of one document can lose one of them, and $inc is not
// atomic. So no document is updated by concurrent writers on a hot path: wrong passwords are
// rows inserted (inserts are atomic everywhere), last-used times live apart from the user
// document that management edits, and each gateway process keeps its own quota counter.
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
  /**
   * Creation or last password reset. Wrong passwords before it no longer count, and an
   * account disable after it locks the user.
   */
  unlockedAt: Date;
  created: Date;
}

/** One wrong password: the user is locked (FailedLogins) at LOCKOUT_THRESHOLD of them since its unlock. */
export interface LoginFailureRecord {
  _id: Types.ObjectId;
  userId: Types.ObjectId;
  at: Date;
}

/** When an API user last authenticated, written by the gateways only (never by management). */
export interface ApiUserActivityRecord {
  _id: Types.ObjectId;
  lastUsed: Date;
}

/** One gateway process's count of one account's calls in one clock hour (UTC). */
export interface QuotaCounterRecord {
  /** `<accountId>:<window start in ms>:<process id>`: each process writes only its own. */
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
    unlockedAt: { type: Date, required: true, default: () => new Date() },
    created: { type: Date, required: true, default: () => new Date() },
  },
  { collection: 'apiusers', versionKey: false, strict: 'throw' },
);
apiUserSchema.index({ username: 1 }, { unique: true });
// Listing is per account, oldest first; _id breaks ties between users created in the same ms.
apiUserSchema.index({ accountId: 1, created: 1, _id: 1 });

const loginFailureSchema = new Schema<LoginFailureRecord>(
  {
    userId: { type: Schema.Types.ObjectId, required: true },
    at: { type: Date, required: true },
  },
  { collection: 'loginfailures', versionKey: false, strict: 'throw' },
);
loginFailureSchema.index({ userId: 1, at: 1 });

const apiUserActivitySchema = new Schema<ApiUserActivityRecord>(
  {
    _id: { type: Schema.Types.ObjectId, required: true },
    lastUsed: { type: Date, required: true },
  },
  { collection: 'apiuseractivity', versionKey: false, strict: 'throw' },
);

const quotaCounterSchema = new Schema<QuotaCounterRecord>(
  {
    _id: { type: String, required: true },
    accountId: { type: Schema.Types.ObjectId, required: true },
    windowStart: { type: Date, required: true },
    count: { type: Number, required: true, default: 0 },
  },
  { collection: 'quotacounters', versionKey: false, strict: 'throw' },
);
quotaCounterSchema.index({ accountId: 1, windowStart: 1 });
quotaCounterSchema.index({ windowStart: 1 });

export interface Models {
  Account: Model<AccountRecord>;
  ApiUser: Model<ApiUserRecord>;
  LoginFailure: Model<LoginFailureRecord>;
  ApiUserActivity: Model<ApiUserActivityRecord>;
  QuotaCounter: Model<QuotaCounterRecord>;
}

/** Binds the models to one connection, so that two gateways in one process stay apart. */
export function bindModels(connection: Connection): Models {
  return {
    Account: connection.model<AccountRecord>('Account', accountSchema),
    ApiUser: connection.model<ApiUserRecord>('ApiUser', apiUserSchema),
    LoginFailure: connection.model<LoginFailureRecord>('LoginFailure', loginFailureSchema),
    ApiUserActivity: connection.model<ApiUserActivityRecord>('ApiUserActivity', apiUserActivitySchema),
    QuotaCounter: connection.model<QuotaCounterRecord>('QuotaCounter', quotaCounterSchema),
  };
}
