// The account's audit log, for its managers.
import { z } from 'zod';
import { defineOperation } from './define.js';
import { apiUserId, auditEventList, page } from './schemas.js';
import { auditEventView } from './views.js';

export const getAuditEvents = defineOperation({
  name: 'GetAuditEvents',
  summary:
    "The account's audit log, newest first: who changed which API user, account switches, locks, allowlist refusals. With apiUserId, only the events by or about that user.",
  permission: 'manageAccount',
  rest: { method: 'GET', path: '/audit-events', successStatus: 200, sources: { select: 'query', skip: 'query', apiUserId: 'query' } },
  input: z.strictObject({ ...page, apiUserId: apiUserId.optional() }),
  result: auditEventList,
  // Ids are hex, stored in lower case, and taken in either case everywhere else (GetApiUserById).
  handle: async (context, input) =>
    (await context.services.auditTrail.list(context.caller.account._id, input, input.apiUserId?.toLowerCase())).map(auditEventView),
});
