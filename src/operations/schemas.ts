// The contract's data shapes, in REST names. The SOAP door and the WSDL check read the same
// schemas (through their JSON Schema): an object's `xmlType` is its complexType in the WSDL,
// an array's `xmlItem` is the element each item is wrapped in, and SOAP element names are the
// REST names in PascalCase (the operation's own parameters keep their REST names).
import { z } from 'zod';
import { allowlistProblem, MAX_ALLOWLIST_ENTRIES } from '../domain/ipAllowlist.js';

/** XML 1.0 can carry only these characters; anything else could never reach a SOAP client. */
const NOT_XML_TEXT = /[^\u0009\u000A\u000D\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;

const text = () =>
  z.string({ error: (issue) => (issue.input === undefined ? 'is required' : 'must be a string') }).refine(
    (value) => !NOT_XML_TEXT.test(value),
    'must not contain control characters or unpaired surrogates',
  );

const flag = () => z.boolean({ error: (issue) => (issue.input === undefined ? 'is required' : 'must be true or false') });

const wholeNumber = (min: number, max: number) =>
  z.int({ error: (issue) => (issue.input === undefined ? 'is required' : 'must be a whole number') })
    .min(min, `must be at least ${min}`)
    .max(max, `must be at most ${max}`);

export const INT32_MAX = 2_147_483_647;

export const apiUserId = text().max(100, 'must be at most 100 characters long');
export const description = text().max(200, 'must be at most 200 characters long');
/** The policy (length included) is checked by the domain, to report every failing rule at once. */
export const password = text().max(1024, 'must be at most 1024 characters long');

export const apiUserIds = z
  .array(apiUserId, { error: (issue) => (issue.input === undefined ? 'is required' : 'must be a list of ids') })
  .min(1, 'must hold at least one id')
  .max(1000, 'must hold at most 1000 ids')
  .meta({ xmlType: 'ArrayOfString', xmlItem: 'string' });

/** Checked here entry by entry (the first bad one named); stored trimmed, without repeats. */
export const ipAllowlist = z
  .array(text().max(100, 'must be at most 100 characters long'), {
    error: (issue) => (issue.input === undefined ? 'is required' : 'must be a list of addresses and CIDR ranges'),
  })
  .max(MAX_ALLOWLIST_ENTRIES, `must hold at most ${MAX_ALLOWLIST_ENTRIES} entries`)
  .superRefine((entries, ctx) => {
    const problem = allowlistProblem(entries);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  })
  .meta({ xmlType: 'ArrayOfString', xmlItem: 'string' });

/** Hours the replaced password keeps working after a reset: up to a week, as Stripe's rolled keys. */
export const keepPreviousForHours = wholeNumber(0, 168).default(0);

export const page = {
  select: wholeNumber(1, 1000).default(1000),
  skip: wholeNumber(0, INT32_MAX).default(0),
};

export const newApiUser = z
  .strictObject({
    description: description.optional(),
    password,
    enabled: flag().optional(),
    canManageAccount: flag().optional(),
    ipAllowlist: ipAllowlist.optional(),
  })
  .meta({ xmlType: 'NewApiUser' });

export const apiUserChanges = z
  .strictObject({
    description: description.optional(),
    enabled: flag().optional(),
    canManageAccount: flag().optional(),
    ipAllowlist: ipAllowlist.optional(),
  })
  .refine((changes) => Object.keys(changes).length > 0, 'must change at least one of description, enabled, canManageAccount, ipAllowlist')
  // The refinement has no JSON Schema form of its own: minProperties says it to OpenAPI's readers.
  .meta({ xmlType: 'ApiUserChanges', minProperties: 1 });

const dateTime = () => z.iso.datetime();

export const apiUser = z
  .strictObject({
    id: z.string(),
    username: z.string(),
    description: z.string(),
    enabled: z.boolean(),
    locked: z.boolean(),
    lockReason: z.enum(['FailedLogins', 'AccountDisabled']).nullable(),
    canManageAccount: z.boolean(),
    isOwner: z.boolean(),
    created: dateTime(),
    lastUsed: dateTime().nullable(),
    /** Wrong passwords since the last success or unlock (LOCKOUT_THRESHOLD of them lock). */
    failedLoginCount: z.int(),
    lastFailedLogin: dateTime().nullable(),
    /** Empty: any address. */
    ipAllowlist: z.array(z.string()).meta({ xmlType: 'ArrayOfString', xmlItem: 'string' }),
    /** While in the future, the password the last reset replaced still works. */
    previousPasswordExpires: dateTime().nullable(),
  })
  .meta({ xmlType: 'ApiUser' });

export const apiUserList = z.array(apiUser).meta({ xmlType: 'ArrayOfApiUser', xmlItem: 'ApiUser' });

export const apiAccountProperty = z
  .strictObject({
    name: z.string(),
    type: z.enum(['String', 'Int', 'Boolean']),
    value: z.string(),
  })
  .meta({ xmlType: 'ApiAccountProperty' });

export const apiAccount = z
  .strictObject({
    id: z.string(),
    properties: z.array(apiAccountProperty).meta({ xmlType: 'ArrayOfApiAccountProperty', xmlItem: 'ApiAccountProperty' }),
  })
  .meta({ xmlType: 'ApiAccount' });

export const deleteResult = z.strictObject({ deletedCount: z.int() }).meta({ xmlType: 'DeleteResult' });

export const serverTime = dateTime();

export const auditEvent = z
  .strictObject({
    id: z.string(),
    time: dateTime(),
    type: z.string(),
    actorId: z.string().nullable(),
    actorUsername: z.string().nullable(),
    targetId: z.string().nullable(),
    targetUsername: z.string().nullable(),
    clientIp: z.string().nullable(),
    details: z.string().nullable(),
  })
  .meta({ xmlType: 'ApiAuditEvent' });

export const auditEventList = z.array(auditEvent).meta({ xmlType: 'ArrayOfApiAuditEvent', xmlItem: 'ApiAuditEvent' });

export const noInput = z.strictObject({});
