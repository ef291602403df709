// HMAC-SHA256 (RFC 2104) as two one-shot hashes, for the credential cache's MAC on every call.
// crypto.createHmac builds a stream object and a native handle on each use, and under load
// that cost more than the hashing. With a key of exactly one SHA-256 block (64 bytes) the key
// needs no hashing first, and with every key byte below 0x80 the inner padded key is ASCII,
// so the inner hash takes it and the message as one string.
import { hash, randomBytes } from 'node:crypto';

const BLOCK_BYTES = 64;
const DIGEST_BYTES = 32;

/** A random key of one block, 7 random bits per byte (448 in all, more than SHA-256 keeps). */
export function randomHmacKey(): Buffer {
  return Buffer.from(randomBytes(BLOCK_BYTES).map((byte) => byte & 0x7f));
}

/** HMAC-SHA256 under `key` (as randomHmacKey makes them) of a message's UTF-8 bytes. */
export function hmacSha256(key: Buffer): (message: string) => Buffer {
  if (key.length !== BLOCK_BYTES || key.some((byte) => byte >= 0x80)) throw new Error('the key must be 64 bytes, each below 0x80');
  const innerPad = Buffer.from(key.map((byte) => byte ^ 0x36)).toString('latin1');
  // The outer hash's input: the outer padded key, then the inner digest, written in on each
  // call (calls never overlap: each runs to its end synchronously).
  const outerInput = Buffer.alloc(BLOCK_BYTES + DIGEST_BYTES);
  key.forEach((byte, index) => (outerInput[index] = byte ^ 0x5c));
  return (message) => {
    hash('sha256', innerPad + message, 'buffer').copy(outerInput, BLOCK_BYTES);
    return hash('sha256', outerInput, 'buffer');
  };
}
