// The credential cache's HMAC-SHA256, made of two one-shot hashes, is HMAC-SHA256: the same
// bytes as Node's createHmac for any key it makes and any message.
import { expect } from 'chai';
import fc from 'fast-check';
import { createHmac } from 'node:crypto';
import { hmacSha256, randomHmacKey } from '../src/auth/hmacSha256.js';

describe('HMAC-SHA256 over one-shot hashes', () => {
  it('equals createHmac for random keys and any Unicode message, call after call', () => {
    for (let keys = 0; keys < 20; keys++) {
      const key = randomHmacKey();
      const mac = hmacSha256(key);
      fc.assert(
        fc.property(fc.string({ unit: 'binary', maxLength: 300 }), (message) => {
          expect(mac(message).equals(createHmac('sha256', key).update(message, 'utf8').digest())).to.equal(true);
        }),
        { numRuns: 200 },
      );
    }
  });

  it('makes keys of one block, every byte below 0x80, and refuses any other', () => {
    const key = randomHmacKey();
    expect(key.length).to.equal(64);
    expect(key.every((byte) => byte < 0x80)).to.equal(true);
    expect(() => hmacSha256(Buffer.alloc(32))).to.throw();
    expect(() => hmacSha256(Buffer.alloc(64, 0x80))).to.throw();
  });
});
