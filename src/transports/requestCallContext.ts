// The CallContext (operations/context.ts) of one request, whichever door it came through.
// A class, not an object literal: a literal with getters is built in V8's dictionary mode,
// through its slow path, on every call.
import type { Request } from 'express';
import type { Caller } from '../auth/credentials.js';
import type { Actor } from '../domain/auditTrail.js';
import type { QuotaState } from '../domain/callQuota.js';
import type { CallContext } from '../operations/context.js';
import { publicBaseUrl } from './publicUrl.js';

export class RequestCallContext implements CallContext {
  constructor(
    private readonly req: Request,
    readonly caller: Caller,
    readonly quota: QuotaState,
    readonly services: CallContext['services'],
    readonly lockoutThreshold: number,
    private readonly configuredPublicUrl: string | undefined,
  ) {}

  /** Worked out only by the operations that need it (most calls write no audit event). */
  get actor(): Actor {
    return { id: this.caller.user._id.toHexString(), username: this.caller.user.username, clientIp: this.req.ip ?? null };
  }

  get publicBaseUrl(): string {
    return publicBaseUrl(this.req, this.configuredPublicUrl);
  }
}
