// Password hashing. bcrypt reads only the first 72 bytes of its input, and a 64-character
// password can be 256 bytes of UTF-8: so each password is first hashed with SHA-256 (base64,
// 44 ASCII bytes, no NUL) and bcrypt hashes that. Every byte then counts, and two different
// passwords never verify for each other. Passwords are NFC-normalised first, so the same
// typed password matches whichever way a client composed its accents.
import bcrypt from 'bcrypt';
import { createHash, randomBytes } from 'node:crypto';

function prehash(password: string): string {
  return createHash('sha256').update(password.normalize('NFC'), 'utf8').digest('base64');
}

export class PasswordHasher {
  /** A hash of a random secret at the current cost: unknown users are checked against it. */
  private readonly dummyHash: string;

  constructor(readonly cost: number) {
    this.dummyHash = bcrypt.hashSync(randomBytes(16).toString('hex'), cost);
  }

  hash(password: string): Promise<string> {
    return bcrypt.hash(prehash(password), this.cost);
  }

  verify(password: string, hash: string): Promise<boolean> {
    return bcrypt.compare(prehash(password), hash);
  }

  /** Spends the time of a real check and fails: an unknown username must not answer faster. */
  async verifyNobody(password: string): Promise<false> {
    await bcrypt.compare(prehash(password), this.dummyHash);
    return false;
  }

  /** Whether a stored hash was made at another cost and should be redone at the next login. */
  needsRehash(hash: string): boolean {
    try {
      return bcrypt.getRounds(hash) !== this.cost;
    } catch {
      return true;
    }
  }
}
