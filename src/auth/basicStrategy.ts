// HTTP Basic per RFC 7617, on passport-http's BasicStrategy. Its own parser splits the
// decoded credentials at every ':' and keeps only the part before the second one, so a
// password containing ':' could never match; it also answers 400 to some malformed headers.
// This subclass parses the header itself (user-id up to the first ':', the rest is the
// password) and turns every malformed header into the same 401 challenge as a wrong password.
import { BasicStrategy } from 'passport-http';
import type { Request } from 'express';
import { BASIC_CHALLENGE } from '../errors.js';

export interface BasicCredentials {
  username: string;
  password: string;
}

/** Longest Authorization header worth decoding; anything longer is refused unread. */
const MAX_AUTHORIZATION_LENGTH = 4096;
const BASIC_HEADER = /^Basic +([A-Za-z0-9+/]+={0,2}) *$/i;

/** The credentials in an Authorization header, or null when it holds no well-formed Basic ones. */
export function parseBasicAuthorization(header: string | undefined): BasicCredentials | null {
  if (!header || header.length > MAX_AUTHORIZATION_LENGTH) return null;
  const match = BASIC_HEADER.exec(header);
  if (!match?.[1] || match[1].length % 4 === 1) return null;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0) return null;
  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

type Verify = (
  req: Request,
  username: string,
  password: string,
  done: (error: unknown, user?: Express.User | false) => void,
) => void;

// The fields passport-http's constructor sets and its prototype methods use.
interface BasicStrategyInternals {
  _verify: Verify;
  fail(challenge: string): void;
  error(error: unknown): void;
  success(user: Express.User): void;
}

export class Rfc7617BasicStrategy extends BasicStrategy {
  constructor(verify: Verify) {
    super({ realm: 'dualgate', passReqToCallback: true }, verify);
  }

  override authenticate(req: Request): void {
    const self = this as unknown as BasicStrategyInternals;
    const credentials = parseBasicAuthorization(req.headers.authorization);
    if (!credentials) return self.fail(BASIC_CHALLENGE);
    self._verify(req, credentials.username, credentials.password, (error, user) => {
      if (error) return self.error(error);
      if (!user) return self.fail(BASIC_CHALLENGE);
      self.success(user);
    });
  }
}
