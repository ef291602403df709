// Managing the API users of the caller's account (owner or 'Can manage account' only).
import { z } from 'zod';
import type { CallContext } from './context.js';
import { defineOperation } from './define.js';
import { apiUser, apiUserChanges, apiUserId, apiUserIds, apiUserList, deleteResult, keepPreviousForHours, newApiUser, page, password } from './schemas.js';
import { apiUserView } from './views.js';
import type { ApiUserRecord } from '../db/models.js';

/** Users as the contract shows them, with what authentication recorded of them. */
async function present(context: CallContext, users: readonly ApiUserRecord[]) {
  const activity = await context.services.loginActivity.summaries(users);
  return users.map((user) =>
    apiUserView(user, context.caller.account, activity.get(user._id.toHexString())!, context.lockoutThreshold),
  );
}

async function presentOne(context: CallContext, user: ApiUserRecord) {
  const [view] = await present(context, [user]);
  return view!;
}

export const getApiUsers = defineOperation({
  name: 'GetApiUsers',
  summary: "The account's API users, oldest first, `select` at a time after skipping `skip`.",
  permission: 'manageAccount',
  rest: { method: 'GET', path: '/api-users', successStatus: 200, sources: { select: 'query', skip: 'query' } },
  input: z.strictObject(page),
  result: apiUserList,
  handle: async (context, input) => present(context, await context.services.apiUsers.list(context.caller.account._id, input)),
});

export const getApiUserById = defineOperation({
  name: 'GetApiUserById',
  summary: 'One API user of the account.',
  permission: 'manageAccount',
  rest: { method: 'GET', path: '/api-users/:id', successStatus: 200, sources: { id: 'path' } },
  input: z.strictObject({ id: apiUserId }),
  result: apiUser,
  handle: async (context, input) =>
    presentOne(context, await context.services.apiUsers.get(context.caller.account._id, input.id)),
});

export const createApiUser = defineOperation({
  name: 'CreateApiUser',
  summary: 'Creates an API user with a generated username and the given password.',
  permission: 'manageAccount',
  rest: { method: 'POST', path: '/api-users', successStatus: 201, sources: { apiUser: 'body' } },
  input: z.strictObject({ apiUser: newApiUser }),
  result: apiUser,
  handle: async (context, input) =>
    presentOne(context, await context.services.apiUsers.create(context.caller.account, input.apiUser, context.actor)),
});

export const updateApiUser = defineOperation({
  name: 'UpdateApiUser',
  summary: "Changes an API user's description, Enabled switch, 'Can manage account' permission or IP allowlist. A disable ends a password rotation's grace.",
  permission: 'manageAccount',
  rest: { method: 'PUT', path: '/api-users/:id', successStatus: 200, sources: { id: 'path', apiUser: 'body' } },
  input: z.strictObject({ id: apiUserId, apiUser: apiUserChanges }),
  result: apiUser,
  handle: async (context, input) =>
    presentOne(context, await context.services.apiUsers.update(context.caller.account._id, input.id, input.apiUser, context.actor)),
});

export const resetApiUserPassword = defineOperation({
  name: 'ResetApiUserPassword',
  summary:
    "Sets an API user's password (a new one or the same) and unlocks it. With keepPreviousForHours > 0 the replaced password keeps working that long beside the new one; an older one stops at once.",
  permission: 'manageAccount',
  rest: {
    method: 'PUT',
    path: '/api-users/:id/password',
    successStatus: 200,
    sources: { id: 'path', password: 'bodyField', keepPreviousForHours: 'bodyField' },
  },
  input: z.strictObject({ id: apiUserId, password, keepPreviousForHours }),
  result: apiUser,
  handle: async (context, input) =>
    presentOne(
      context,
      await context.services.apiUsers.resetPassword(context.caller.account, input.id, input.password, context.actor, input.keepPreviousForHours),
    ),
});

export const deleteApiUser = defineOperation({
  name: 'DeleteApiUser',
  summary: 'Deletes an API user (never the owner).',
  permission: 'manageAccount',
  rest: { method: 'DELETE', path: '/api-users/:id', successStatus: 204, sources: { id: 'path' } },
  input: z.strictObject({ id: apiUserId }),
  result: null,
  handle: async (context, input) => {
    await context.services.apiUsers.delete(context.caller.account._id, input.id, context.actor);
  },
});

export const deleteApiUsers = defineOperation({
  name: 'DeleteApiUsers',
  summary: 'Deletes several API users at once; ids naming none are skipped. A list naming the owner deletes no one.',
  permission: 'manageAccount',
  rest: { method: 'POST', path: '/api-users/delete', successStatus: 200, sources: { ids: 'bodyField' } },
  input: z.strictObject({ ids: apiUserIds }),
  result: deleteResult,
  handle: async (context, input) => ({
    deletedCount: await context.services.apiUsers.deleteMany(context.caller.account._id, input.ids, context.actor),
  }),
});
