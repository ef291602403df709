// The gate both doors share: HTTP Basic (RFC 7617), then the account's hourly quota.
// Every authentication failure is the same 401, whatever its reason.
import type { RequestHandler } from 'express';
import { errors } from '../errors.js';
import type { CallQuota } from '../domain/callQuota.js';
import { callState } from '../transports/callState.js';
import { parseBasicAuthorization } from './basicCredentials.js';
import type { CredentialVerifier } from './credentials.js';

export function authenticateCalls(verifier: CredentialVerifier, quota: CallQuota): RequestHandler {
  return (req, res, next) => {
    const credentials = parseBasicAuthorization(req.headers.authorization);
    if (!credentials) return next(errors.invalidLogin());
    verifier
      .verify(credentials.username, credentials.password)
      .then(async (caller) => {
        if (!caller) return next(errors.invalidLogin());
        const state = await quota.consume(caller.account._id, caller.account.apiCallsPerHour);
        res.setHeader('X-RateLimit-Limit', String(state.limit));
        res.setHeader('X-RateLimit-Remaining', String(state.remaining));
        res.setHeader('X-RateLimit-Reset', String(state.resetSeconds));
        if (!state.allowed) return next(errors.quotaExceeded(state.limit, state.resetSeconds));
        Object.assign(callState(res), { caller, quota: state });
        next();
      })
      .catch(next);
  };
}
