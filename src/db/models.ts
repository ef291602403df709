// The database's collections. Every state change the API makes is one write to one document
// (FerretDB has no transactions, and real MongoDB must not need them), and derived state (a
// lock) is computed from stored facts instead of being stored twice.
//
// A stock FerretDB 1.x applies an update by reading the document and writing all of it back,
// with no condition: two concurrent updates of one document can lose one of them, and $inc is
// not atomic (the build script's third patch fixes it; see docs/operations.md, "FerretDB's
// updates"). So that the gateway is right on either, no document is updated by concurrent
// writers on a hot path: wrong passwords are
// rows inserted (inserts are atomic everywhere), last-used times live apart from the user
// document that management edits, and each gateway process keeps its own quota counter.
//
// Audit events follow the outbox pattern: a change and its event are one write (the event
// rides in the changed document's pendingAudit), then the event is copied to auditevents
// (idempotently, by its id) and taken out of the document. A crash in between leaves the event
// pending, and the next publication completes it: a change is never without its event.
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
  /** Audit events written in the same write as the change they record, until published. */
  pendingAudit: PendingAuditEvent[];
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
  // The next three are absent from users written before they existed (lean reads apply no defaults).
  /** Addresses and CIDR ranges it may authenticate from (checked, trimmed); empty or absent: any. */
  ipAllowlist?: string[];
  /**
   * The hash of the password the last reset replaced, kept working until
   * previousPasswordExpires (password rotation); null when there is none. Never shown.
   */
  previousPasswordHash?: string | null;
  previousPasswordExpires?: Date | null;
  /**
   * Creation or last password reset. Wrong passwords before it no longer count, and an
   * account disable after it locks the user.
   */
  unlockedAt: Date;
  created: Date;
  /** Set by a delete, in the same write as its audit event; the document goes once that is published. */
  deletedAt: Date | null;
  /** Audit events written in the same write as the change they record, until published. */
  pendingAudit: PendingAuditEvent[];
}

/** An audit event as the change that caused it carries it (its target is that document). */
export interface PendingAuditEvent {
  _id: string;
  at: Date;
  type: string;
  actorId: string | null;
  actorUsername: string | null;
  clientIp: string | null;
  details: string | null;
}

/** One entry of an account's append-only audit log. */
export interface AuditEventRecord extends PendingAuditEvent {
  accountId: Types.ObjectId;
  targetId: string | null;
  targetUsername: string | null;
}

/**
 * Which user a username names, keyed by the username: authentication finds a user by two
 * lookups of _id, the one query FerretDB's SQLite backend answers from an index (any other
 * filter is a scan of the whole collection there, ~0.5 s at 10,000 users). Written before the
 * user (an insert that fails on a taken username), removed after it; a row whose user is gone
 * names nobody.
 */
export interface UsernameRecord {
  _id: string;
  userId: Types.ObjectId;
}

/** One wrong password: the user is locked (FailedLogins) at LOCKOUT_THRESHOLD of them since its unlock. */
export interface LoginFailureRecord {
  _id: Types.ObjectId;
  userId: Types.ObjectId;
  at: Date;
  /** The clock minute of `at` (domain/clockMinutes.ts): how every process finds the newest rows. */
  minute: string;
  /**
   * The user's unlock time the password was checked under: a row of another one (checked
   * against the password a reset replaced) counts for nothing. Rows of earlier versions have none.
   */
  unlockedAt?: Date;
}

/** When an API user last authenticated, written by the gateways only (never by management). */
export interface ApiUserActivityRecord {
  _id: Types.ObjectId;
  /**
   * The latest success known to forgive the wrong passwords before it: written only once the
   * process that admitted it has seen every wrong password that arrived before it, and found
   * that they had not locked the user already (auth/ownSuccesses.ts). Rows of earlier versions
   * have every success here.
   */
  lastUsed?: Date;
  /**
   * When `lastUsed` was last written (by the writer's clock), and that time's clock minute
   * (domain/clockMinutes.ts): how every process's poll finds the users forgiven since its last
   * one, whatever the number of users. Rows of earlier versions have neither.
   */
  forgivenAt?: Date;
  forgivenMinute?: string;
  /** The latest success, forgiving or not: what `LastUsed` shows (with `lastUsed`, when later). */
  lastCall?: Date;
}

/**
 * A change that authentication must hear of (a user created, changed, reset, deleted; an
 * account disabled or enabled), written when the change's audit event is published, so after
 * the change itself. Every gateway process reads the new rows once per interval, instead of
 * re-reading every user it knows (see auth/authStateCache.ts). Rows are kept for minutes only.
 */
export interface AuthChangeRecord {
  _id: Types.ObjectId;
  at: Date;
  accountId: Types.ObjectId;
  /** The user changed; null when the change is the account's. */
  userId: Types.ObjectId | null;
  username: string | null;
}

/** One gateway process's count of one account's calls in one clock hour (UTC). */
export interface QuotaCounterRecord {
  /** `<accountId>:<window start in ms>:<process id>`: each process writes only its own. */
  _id: string;
  accountId: Types.ObjectId;
  windowStart: Date;
  count: number;
}

/** The fields of an audit event, pending in the changed document or published in the log. */
const pendingAuditFields = {
  _id: { type: String, required: true },
  at: { type: Date, required: true },
  type: { type: String, required: true },
  actorId: { type: String, default: null },
  actorUsername: { type: String, default: null },
  clientIp: { type: String, default: null },
  details: { type: String, default: null },
} as const;

const pendingAuditSchema = new Schema<PendingAuditEvent>(pendingAuditFields, { versionKey: false });

const accountSchema = new Schema<AccountRecord>(
  {
    name: { type: String, required: true },
    mainEmail: { type: String, required: true },
    disabled: { type: Boolean, required: true, default: false },
    apiCallsPerHour: { type: Number, required: true, default: 2000 },
    locale: { type: String, required: true, default: 'en-GB' },
    usersLockedAt: { type: Date, default: null },
    created: { type: Date, required: true, default: () => new Date() },
    pendingAudit: { type: [pendingAuditSchema], default: [] },
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
    ipAllowlist: { type: [String], default: [] },
    previousPasswordHash: { type: String, default: null },
    previousPasswordExpires: { type: Date, default: null },
    unlockedAt: { type: Date, required: true, default: () => new Date() },
    created: { type: Date, required: true, default: () => new Date() },
    deletedAt: { type: Date, default: null },
    pendingAudit: { type: [pendingAuditSchema], default: [] },
  },
  { collection: 'apiusers', versionKey: false, strict: 'throw' },
);
apiUserSchema.index({ username: 1 }, { unique: true });
// Listing is per account, oldest first; _id breaks ties between users created in the same ms.
apiUserSchema.index({ accountId: 1, created: 1, _id: 1 });

const auditEventSchema = new Schema<AuditEventRecord>(
  {
    ...pendingAuditFields,
    accountId: { type: Schema.Types.ObjectId, required: true },
    targetId: { type: String, default: null },
    targetUsername: { type: String, default: null },
  },
  { collection: 'auditevents', versionKey: false, strict: 'throw' },
);
// Newest first, per account; and per user, by it or about it (GetAuditEvents' apiUserId).
auditEventSchema.index({ accountId: 1, at: -1, _id: -1 });
auditEventSchema.index({ accountId: 1, targetId: 1, at: -1, _id: -1 });
auditEventSchema.index({ accountId: 1, actorId: 1, at: -1, _id: -1 });

const loginFailureSchema = new Schema<LoginFailureRecord>(
  {
    userId: { type: Schema.Types.ObjectId, required: true },
    at: { type: Date, required: true },
    minute: { type: String, required: true },
    unlockedAt: { type: Date },
  },
  { collection: 'loginfailures', versionKey: false, strict: 'throw' },
);
loginFailureSchema.index({ userId: 1, at: 1 });
// Every process reads the wrong passwords of the last moments, whoever's they are: by their
// minutes, an equality FerretDB answers from this index too (a range on `at` it answers by
// reading every row, in proportion to the users who ever got a password wrong).
loginFailureSchema.index({ minute: 1, at: 1 });

const usernameSchema = new Schema<UsernameRecord>(
  {
    _id: { type: String, required: true },
    userId: { type: Schema.Types.ObjectId, required: true },
  },
  { collection: 'usernames', versionKey: false, strict: 'throw' },
);

const authChangeSchema = new Schema<AuthChangeRecord>(
  {
    at: { type: Date, required: true },
    accountId: { type: Schema.Types.ObjectId, required: true },
    userId: { type: Schema.Types.ObjectId, default: null },
    username: { type: String, default: null },
  },
  { collection: 'authchanges', versionKey: false, strict: 'throw' },
);
authChangeSchema.index({ at: 1 });

const apiUserActivitySchema = new Schema<ApiUserActivityRecord>(
  {
    _id: { type: Schema.Types.ObjectId, required: true },
    lastUsed: { type: Date },
    forgivenAt: { type: Date },
    forgivenMinute: { type: String },
    lastCall: { type: Date },
  },
  { collection: 'apiuseractivity', versionKey: false, strict: 'throw' },
);
// The polls ask for the minutes since their last one, as for wrong passwords (loginFailureSchema).
apiUserActivitySchema.index({ forgivenMinute: 1, forgivenAt: 1 });

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
  AuditEvent: Model<AuditEventRecord>;
  LoginFailure: Model<LoginFailureRecord>;
  ApiUserActivity: Model<ApiUserActivityRecord>;
  QuotaCounter: Model<QuotaCounterRecord>;
  AuthChange: Model<AuthChangeRecord>;
  Username: Model<UsernameRecord>;
}

/** Binds the models to one connection, so that two gateways in one process stay apart. */
export function bindModels(connection: Connection): Models {
  return {
    Account: connection.model<AccountRecord>('Account', accountSchema),
    ApiUser: connection.model<ApiUserRecord>('ApiUser', apiUserSchema),
    AuditEvent: connection.model<AuditEventRecord>('AuditEvent', auditEventSchema),
    LoginFailure: connection.model<LoginFailureRecord>('LoginFailure', loginFailureSchema),
    ApiUserActivity: connection.model<ApiUserActivityRecord>('ApiUserActivity', apiUserActivitySchema),
    QuotaCounter: connection.model<QuotaCounterRecord>('QuotaCounter', quotaCounterSchema),
    AuthChange: connection.model<AuthChangeRecord>('AuthChange', authChangeSchema),
    Username: connection.model<UsernameRecord>('Username', usernameSchema),
  };
}
