// A cache of successful password checks only, so that a caller sending the right password
// with every call pays for bcrypt once, not on every request (in the manner of
// Elasticsearch's realm cache and RabbitMQ's auth backend cache; refusals are never cached).
//
// Entries are kept by username and hold the stored bcrypt hash they verified against (as
// CouchDB keys its cache by the stored salt): a password reset changes the hash and so misses
// at once. A username holds up to two, one per hash: during a password rotation's grace both
// the new and the replaced password verify, from different machines. Each holds a
// SHA-256 MAC, under a random key of this process, of the username, the password that
// verified and the hash, so the cache holds nothing from which a password could be recovered.
//
// Exactly one password (up to Unicode normalisation, which the hasher applies too) verifies
// against a given hash. So once the right one is known here, any other presented for the same
// username and hash is known to be wrong without bcrypt: the verifier then spends the time of
// a compare, not the CPU (see CredentialVerifier).
import { hash, randomBytes, timingSafeEqual } from 'node:crypto';
import { LRUCache } from 'lru-cache';

export type CachedVerdict = 'right' | 'wrong' | 'unknown';

/** The current hash and the one a rotation keeps working. */
const HASHES_PER_USERNAME = 2;

export class VerifiedCredentialCache {
  /** The MAC's key: 256 random bits per process. */
  private readonly macKey = randomBytes(32).toString('base64');
  /** By username: the hashes passwords verified against, newest first, with the MAC of each password. */
  private readonly entries: LRUCache<string, VerifiedEntry[]> | undefined;

  constructor(ttlMs: number, maxEntries: number) {
    this.entries = ttlMs > 0 && maxEntries > 0 ? new LRUCache<string, VerifiedEntry[]>({ max: maxEntries, ttl: ttlMs }) : undefined;
  }

  check(username: string, password: string, storedHash: string): CachedVerdict {
    const known = this.entries?.get(username)?.find((entry) => entry.storedHash === storedHash);
    if (!known) return 'unknown';
    return timingSafeEqual(known.mac, this.passwordMac(username, password, storedHash)) ? 'right' : 'wrong';
  }

  /** Whether some password verified for this username here (so that any other is decided without a compare). */
  knows(username: string): boolean {
    return (this.entries?.peek(username)?.length ?? 0) > 0;
  }

  remember(username: string, password: string, storedHash: string): void {
    if (!this.entries) return;
    const others = (this.entries.peek(username) ?? []).filter((entry) => entry.storedHash !== storedHash);
    const entry = { storedHash, mac: this.passwordMac(username, password, storedHash) };
    this.entries.set(username, [entry, ...others].slice(0, HASHES_PER_USERNAME));
  }

  get size(): number {
    return this.entries?.size ?? 0;
  }

  /** Each part length-prefixed, so that no two different triples read alike (one update: it is on every call). */
  passwordMac(username: string, password: string, storedHash: string): Buffer {
    const normalised = password.normalize('NFC');
    const message = `${Buffer.byteLength(username)}:${Buffer.byteLength(normalised)}:${username}${normalised}${storedHash}`;
    // One SHA-256 over key and message, not HMAC: these MACs never leave the process, so no one
    // can extend one (length extension is what HMAC's second hash guards against).
    return hash('sha256', `${this.macKey}${message}`, 'buffer');
  }
}

interface VerifiedEntry {
  storedHash: string;
  mac: Buffer;
}
