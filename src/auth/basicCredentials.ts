// HTTP Basic credentials per RFC 7617: the user-id up to the first ':', the rest is the
// password (which may hold ':' itself), in UTF-8. A malformed header holds no credentials, and
// is answered with the same 401 challenge as a wrong password.
import { isUtf8 } from 'node:buffer';

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
  const bytes = Buffer.from(match[1], 'base64');
  // Not UTF-8 (RFC 7617's only charset): decoded, each bad byte would become U+FFFD, and
  // different byte strings the same password.
  if (!isUtf8(bytes)) return null;
  const decoded = bytes.toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0) return null;
  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}
