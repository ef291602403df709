// Records as the contract shows them. The password hash and the lockout bookkeeping never
// appear here, so no response can carry them.
import type { z } from 'zod';
import type { AccountRecord, ApiUserRecord, AuditEventRecord } from '../db/models.js';
import { lockReasonOf } from '../domain/lockState.js';
import { previousPasswordExpiry } from '../domain/passwordRotation.js';
import type { QuotaState } from '../domain/callQuota.js';
import type { LoginActivitySummary } from '../domain/loginActivity.js';
import type { apiAccount, apiUser, auditEvent } from './schemas.js';

export function apiUserView(
  user: ApiUserRecord,
  account: AccountRecord,
  activity: LoginActivitySummary,
  lockoutThreshold: number,
): z.input<typeof apiUser> {
  const lockReason = lockReasonOf(user, account, activity.failedLoginCount, lockoutThreshold);
  return {
    id: user._id.toHexString(),
    username: user.username,
    description: user.description,
    enabled: user.enabled,
    locked: lockReason !== null,
    lockReason,
    canManageAccount: user.canManageAccount,
    isOwner: user.isOwner,
    created: user.created.toISOString(),
    lastUsed: activity.lastUsed ? activity.lastUsed.toISOString() : null,
    failedLoginCount: activity.failedLoginCount,
    lastFailedLogin: activity.lastFailedLogin ? activity.lastFailedLogin.toISOString() : null,
    ipAllowlist: user.ipAllowlist ?? [],
    previousPasswordExpires: previousPasswordExpiry(user, new Date())?.toISOString() ?? null,
  };
}

export function apiAccountView(account: AccountRecord, quota: QuotaState, publicBaseUrl: string): z.input<typeof apiAccount> {
  return {
    id: account._id.toHexString(),
    properties: [
      { name: 'Name', type: 'String', value: account.name },
      { name: 'MainEmail', type: 'String', value: account.mainEmail },
      { name: 'ApiEndpoint', type: 'String', value: publicBaseUrl },
      { name: 'ApiCallsInLastHour', type: 'Int', value: String(quota.used) },
      { name: 'ApiCallsRemaining', type: 'Int', value: String(quota.remaining) },
      { name: 'APILocale', type: 'String', value: account.locale },
    ],
  };
}

export function auditEventView(event: AuditEventRecord): z.input<typeof auditEvent> {
  return {
    id: event._id,
    time: event.at.toISOString(),
    type: event.type,
    actorId: event.actorId,
    actorUsername: event.actorUsername,
    targetId: event.targetId,
    targetUsername: event.targetUsername,
    clientIp: event.clientIp,
    details: event.details,
  };
}
