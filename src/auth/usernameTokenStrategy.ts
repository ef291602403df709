// A WS-Security 1.0 UsernameToken (PasswordText) as a passport strategy, beside HTTP Basic's
// (basicStrategy.ts): the same verify function, CredentialVerifier.verify(username, password,
// clientIp), so lockout, allowlist, the refusal's timing and the caches are the same whichever
// way the password came. The strategy does not read XML: the SOAP door has read the envelope
// by then and hands over what its header holds (tokenOf), so auth/ knows nothing of SOAP.
import type { Request, RequestHandler } from 'express';
import passport, { Passport, type StrategyCreated } from 'passport';
import { BASIC_CHALLENGE } from '../errors.js';
import { verifyWith, type VerifyFromAddress } from './basicStrategy.js';
import type { CredentialVerifier } from './credentials.js';

/** A UsernameToken's username and PasswordText password, exactly as sent. */
export interface UsernameTokenCredentials {
  username: string;
  password: string;
}

/**
 * What a request's SOAP header holds: the token's credentials, or null when it holds no token
 * that can be checked (none; a PasswordDigest, which bcrypt hashes cannot check; no password;
 * several tokens). A null is refused before the verifier: no user is named that could be
 * checked, so nothing counts toward a lockout, as with a malformed Basic header.
 */
export type UsernameTokenOf = (req: Request) => UsernameTokenCredentials | null;

export const USERNAME_TOKEN_STRATEGY = 'wsse-username-token';

export class UsernameTokenStrategy extends passport.Strategy {
  override readonly name = USERNAME_TOKEN_STRATEGY;

  constructor(
    readonly tokenOf: UsernameTokenOf,
    readonly verifyCredentials: VerifyFromAddress,
  ) {
    super();
  }

  override authenticate(this: StrategyCreated<UsernameTokenStrategy>, req: Request): void {
    // The contract: when both are sent, HTTP Basic is used, and a failed Basic is not retried
    // with the token. Checked here too, so that no wiring of strategies can fall back.
    if (req.headers.authorization !== undefined) return this.fail(BASIC_CHALLENGE);
    const token = this.tokenOf(req);
    // The challenge stays HTTP Basic's, as the contract's 401 says, whichever credential failed.
    if (!token) return this.fail(BASIC_CHALLENGE);
    this.verifyCredentials(token.username, token.password, req.ip, (error, caller) => {
      if (error) return this.error(error);
      if (!caller) return this.fail(BASIC_CHALLENGE);
      this.success(caller);
    });
  }
}

/**
 * The middleware that authenticates a SOAP call by the UsernameToken in its header: passport,
 * without sessions, with that one strategy; refusals and errors passed on as
 * httpBasicAuthentication passes them.
 */
export function usernameTokenAuthentication(verifier: CredentialVerifier, tokenOf: UsernameTokenOf): RequestHandler {
  const authenticator = new Passport();
  authenticator.use(
    new UsernameTokenStrategy(tokenOf, verifyWith(verifier)),
  );
  return authenticator.authenticate(USERNAME_TOKEN_STRATEGY, { session: false, failWithError: true, authInfo: false }) as RequestHandler;
}
