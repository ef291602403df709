// A cache of successful password checks only, so that a caller sending the right password
// with every call pays for bcrypt once, not on every request (in the manner of
// Elasticsearch's realm cache and RabbitMQ's auth backend cache; refusals are never cached).
//
// The key is an HMAC-SHA256, under a random key of this process, of the username, the
// password presented and the stored bcrypt hash (as CouchDB keys its cache by the stored
// salt): a password reset changes the stored hash and so misses at once, a wrong password can
// never hit, and the cache holds nothing from which a password could be recovered.
import { createHmac, randomBytes } from 'node:crypto';
import { LRUCache } from 'lru-cache';

export class VerifiedCredentialCache {
  private readonly secret = randomBytes(32);
  private readonly entries: LRUCache<string, true> | undefined;

  constructor(ttlMs: number, maxEntries: number) {
    this.entries = ttlMs > 0 && maxEntries > 0 ? new LRUCache<string, true>({ max: maxEntries, ttl: ttlMs, ttlAutopurge: false }) : undefined;
  }

  has(username: string, password: string, storedHash: string): boolean {
    return this.entries?.get(this.key(username, password, storedHash)) === true;
  }

  remember(username: string, password: string, storedHash: string): void {
    this.entries?.set(this.key(username, password, storedHash), true);
  }

  get size(): number {
    return this.entries?.size ?? 0;
  }

  private key(username: string, password: string, storedHash: string): string {
    // Lengths first, so that no two different triples can be written alike.
    return createHmac('sha256', this.secret)
      .update(`${username.length}:${password.length}:${storedHash.length}:`)
      .update(username)
      .update(password)
      .update(storedHash)
      .digest('base64');
  }
}
