// The gate both doors share: HTTP Basic through passport (auth/basicStrategy.ts), then the
// account's hourly quota. What it learns (the caller, its quota) goes into the call's state
// for the door, the operation and the request log.
import type { RequestHandler } from 'express';
import { httpBasicAuthentication } from '../auth/basicStrategy.js';
import type { CredentialVerifier } from '../auth/credentials.js';
import type { CallQuota } from '../domain/callQuota.js';
import { errors } from '../errors.js';
import { callState } from './callState.js';

export function callGate(verifier: CredentialVerifier, quota: CallQuota): RequestHandler[] {
  const countCall: RequestHandler = (req, res, next) => {
    const caller = req.user;
    if (!caller) return next(errors.invalidLogin()); // passport let nobody through: not reached
    quota
      .consume(caller.account._id, caller.account.apiCallsPerHour)
      .then((state) => {
        res.setHeader('X-RateLimit-Limit', String(state.limit));
        res.setHeader('X-RateLimit-Remaining', String(state.remaining));
        res.setHeader('X-RateLimit-Reset', String(state.resetSeconds));
        if (!state.allowed) return next(errors.quotaExceeded(state.limit, state.resetSeconds));
        const call = callState(res);
        call.caller = caller;
        call.quota = state;
        next();
      })
      .catch(next);
  };
  return [httpBasicAuthentication(verifier), countCall];
}
