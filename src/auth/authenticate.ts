// The gate both doors share: HTTP Basic through passport, then the account's hourly quota.
// Every authentication failure is the same 401, whatever its reason.
import { Passport } from 'passport';
import type { RequestHandler } from 'express';
import { errors } from '../errors.js';
import type { CallQuota } from '../domain/callQuota.js';
import { callState } from '../transports/callState.js';
import { Rfc7617BasicStrategy } from './basicStrategy.js';
import type { Caller, CredentialVerifier } from './credentials.js';

export function authenticateCalls(verifier: CredentialVerifier, quota: CallQuota): RequestHandler {
  // A passport of its own, so that two gateways in one process never share strategies.
  const passport = new Passport();
  passport.use(
    'basic',
    new Rfc7617BasicStrategy((_req, username, password, done) => {
      verifier.verify(username, password).then(
        (caller) => done(null, caller ?? false),
        (error: unknown) => done(error),
      );
    }),
  );
  const authenticate = (req: Parameters<RequestHandler>[0], res: Parameters<RequestHandler>[1]) =>
    new Promise<Caller | null>((resolve, reject) => {
      passport.authenticate('basic', { session: false }, (error: unknown, user: Caller | false) => {
        if (error) reject(error);
        else resolve(user || null);
      })(req, res, reject);
    });

  return (req, res, next) => {
    authenticate(req, res)
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
