// Operations any API user may call: who am I calling as, and what time is it there.
import { defineOperation } from './define.js';
import { apiAccount, noInput, serverTime } from './schemas.js';
import { apiAccountView } from './views.js';

export const getServerTime = defineOperation({
  name: 'GetServerTime',
  summary: "The server's current time (UTC).",
  permission: 'anyApiUser',
  rest: { method: 'GET', path: '/server-time', successStatus: 200, sources: {} },
  input: noInput,
  result: serverTime,
  handle: async () => new Date().toISOString(),
});

export const getCurrentAccountInfo = defineOperation({
  name: 'GetCurrentAccountInfo',
  summary: "The caller's account: name, main email, API endpoint, calls used and left this hour, locale.",
  permission: 'anyApiUser',
  rest: { method: 'GET', path: '/account-info', successStatus: 200, sources: {} },
  input: noInput,
  result: apiAccount,
  handle: async (context) => apiAccountView(context.caller.account, context.quota, context.publicBaseUrl),
});
