// The WS-Security 1.0 header (OASIS WSS SOAP Message Security 1.0, UsernameToken Profile 1.0)
// as this service understands it: one wsse:Security block addressed to it, holding one
// wsse:UsernameToken with a PasswordText password, and optionally a wsu:Timestamp. What it
// reads is handed to the UsernameToken strategy (auth/usernameTokenStrategy.ts), which checks
// it with the same verifier as HTTP Basic. Anything else yields no credentials, and the call the
// usual 401: nothing here tells the caller why.
import type { XmlElement } from './envelopeReader.js';

export const WSSE_NS = 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd';
export const WSU_NS = 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd';
const PASSWORD_TEXT = 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordText';

/** The username and the PasswordText password of a UsernameToken, exactly as sent. */
export interface UsernameToken {
  username: string;
  password: string;
}

export function isSecurityHeader(block: XmlElement): boolean {
  return block.namespace === WSSE_NS && block.name === 'Security';
}

/**
 * The UsernameToken of the Security block among the header blocks addressed to this service
 * (see headerBlocks.ts), or null when there is none that can be checked:
 * - no Security block, or more than one (WSS 1.0 6.1: at most one per actor);
 * - in it, anything but one UsernameToken and at most one Timestamp: several tokens, or a
 *   signature, key or assertion this service would otherwise appear to have checked;
 * - a token without exactly one Username and one Password, or an empty username (as HTTP
 *   Basic's ':password' is);
 * - a Password whose Type is not PasswordText (absent means PasswordText, UsernameToken Profile
 *   1.0 4.1). PasswordDigest among them: the digest is SHA-1 over nonce, time and the clear
 *   password, and the server keeps only bcrypt hashes, so it cannot be computed here.
 * An empty Password is a password (the empty string), checked and counted as HTTP Basic's
 * 'username:' is. The Timestamp is allowed and not enforced: unsigned, it is whatever the
 * sender wrote, so it guards against nothing (the token's wsu:Created and wsse:Nonce alike).
 */
export function usernameTokenIn(blocks: readonly XmlElement[]): UsernameToken | null {
  const security = blocks.filter(isSecurityHeader);
  if (security.length !== 1 || security[0] === undefined) return null;
  const parts = security[0].children;
  const tokens = parts.filter((part) => part.namespace === WSSE_NS && part.name === 'UsernameToken');
  const timestamps = parts.filter((part) => part.namespace === WSU_NS && part.name === 'Timestamp');
  if (tokens.length !== 1 || tokens[0] === undefined || timestamps.length > 1 || parts.length !== 1 + timestamps.length) return null;
  const fields = tokens[0].children;
  const username = onlyText(fields, 'Username');
  const password = fields.filter((field) => field.namespace === WSSE_NS && field.name === 'Password');
  if (!username || password.length !== 1 || password[0] === undefined || password[0].children.length > 0) return null;
  const type = password[0].attributes.get('{}Type');
  // xs:anyURI: surrounding whitespace is not part of the value.
  if (type !== undefined && type.trim() !== PASSWORD_TEXT) return null;
  return { username, password: password[0].text };
}

/** The text of the one wsse element so named, or null when there is not exactly one holding text only. */
function onlyText(fields: readonly XmlElement[], name: string): string | null {
  const found = fields.filter((field) => field.namespace === WSSE_NS && field.name === name);
  if (found.length !== 1 || found[0] === undefined || found[0].children.length > 0) return null;
  return found[0].text;
}
