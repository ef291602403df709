// The gate both doors share: the caller's credentials through passport (HTTP Basic,
// auth/basicStrategy.ts; for SOAP also a WS-Security UsernameToken, auth/usernameTokenStrategy.ts),
// then the account's hourly quota. What it learns (the caller, its quota) goes into the call's
// state for the door, the operation and the request log.
import type { RequestHandler } from 'express';
import { httpBasicAuthentication } from '../auth/basicStrategy.js';
import type { CredentialVerifier } from '../auth/credentials.js';
import { usernameTokenAuthentication, type UsernameTokenOf } from '../auth/usernameTokenStrategy.js';
import type { CallQuota } from '../domain/callQuota.js';
import { errors } from '../errors.js';
import { callState } from './callState.js';

export function callGate(verifier: CredentialVerifier, quota: CallQuota): RequestHandler[] {
  return [httpBasicAuthentication(verifier), countCall(quota)];
}

/** The same gate for a SOAP call whose credentials are the UsernameToken in its header. */
export function usernameTokenGate(verifier: CredentialVerifier, quota: CallQuota, tokenOf: UsernameTokenOf): RequestHandler[] {
  return [usernameTokenAuthentication(verifier, tokenOf), countCall(quota)];
}

function countCall(quota: CallQuota): RequestHandler {
  return (req, res, next) => {
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
}
