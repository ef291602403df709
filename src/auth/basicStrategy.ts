// HTTP Basic as a passport strategy: passport-http's BasicStrategy with RFC 7617's reading of
// the header. passport-http splits the decoded credentials at every ':' and keeps the first
// two parts, so a password holding ':' would be cut short; RFC 7617 splits at the first ':'
// only (parseBasicAuthorization). Everything else is the strategy's usual contract: the verify
// function is handed username and password, and its answer is a success (the Caller, which
// passport puts at req.user), a failure (the challenge), or an error (passed on as it is).
import type { Request, RequestHandler } from 'express';
import { Passport, type StrategyCreated } from 'passport';
import { BasicStrategy } from 'passport-http';
import { BASIC_CHALLENGE } from '../errors.js';
import { parseBasicAuthorization } from './basicCredentials.js';
import type { Caller, CredentialVerifier } from './credentials.js';

declare global {
  namespace Express {
    /** What passport puts at req.user once HTTP Basic succeeded: the verified caller. */
    interface User extends Caller {}
  }
}

/** Checks credentials sent from an address (the allowlist needs it); passport's callback style. */
export type VerifyFromAddress = (
  username: string,
  password: string,
  clientIp: string | undefined,
  done: (error: unknown, caller?: Caller | false) => void,
) => void;

/** The verifier as a strategy's verify function: a caller, false for a refusal, or the error. */
export function verifyWith(verifier: CredentialVerifier): VerifyFromAddress {
  return (username, password, clientIp, done) => {
    verifier.verify(username, password, clientIp).then((caller) => done(null, caller ?? false), done);
  };
}

export class Rfc7617BasicStrategy extends BasicStrategy {
  constructor(readonly verifyCredentials: VerifyFromAddress) {
    // passport-http's own verify call is never made (authenticate is replaced): its callback is a stand-in.
    super((_username, _password, done) => done(null, false));
  }

  override authenticate(this: StrategyCreated<Rfc7617BasicStrategy>, req: Request): void {
    const credentials = parseBasicAuthorization(req.headers.authorization);
    // A malformed header is refused like wrong credentials (passport-http answers some with 400).
    if (!credentials) return this.fail(BASIC_CHALLENGE);
    this.verifyCredentials(credentials.username, credentials.password, req.ip, (error, caller) => {
      if (error) return this.error(error);
      if (!caller) return this.fail(BASIC_CHALLENGE);
      this.success(caller);
    });
  }
}

/**
 * The middleware that authenticates a call: passport, without sessions, with the one strategy.
 * A refusal is passed on as passport's AuthenticationError (see toApiError); an error of the
 * verifier (a 503 when the database is gone) as it is.
 */
export function httpBasicAuthentication(verifier: CredentialVerifier): RequestHandler {
  const passport = new Passport();
  passport.use(
    new Rfc7617BasicStrategy(verifyWith(verifier)),
  );
  return passport.authenticate('basic', { session: false, failWithError: true, authInfo: false }) as RequestHandler;
}
