// Password hashing. bcrypt reads only the first 72 bytes of its input, and a 64-character
// password can be 256 bytes of UTF-8: so each password is first hashed with SHA-256 (base64,
// 44 ASCII bytes, no NUL) and bcrypt hashes that. Every byte then counts, and two different
// passwords never verify for each other. Passwords are NFC-normalised first, so the same
// typed password matches whichever way a client composed its accents.
import bcrypt from 'bcrypt';
import { createHash, randomBytes, randomInt } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';

/** How many recent compare durations are kept to imitate one. */
const DURATION_SAMPLES = 64;

function prehash(password: string): string {
  return createHash('sha256').update(password.normalize('NFC'), 'utf8').digest('base64');
}

export class PasswordHasher {
  /** A hash of a random secret at the current cost: unknown users are checked against it. */
  private readonly dummyHash: string;
  /** How long recent compares took (ms), queueing included: what a refusal must look like. */
  private readonly durations: number[] = [];

  constructor(readonly cost: number) {
    this.dummyHash = bcrypt.hashSync(randomBytes(16).toString('hex'), cost);
    const started = performance.now();
    bcrypt.compareSync(randomBytes(16).toString('hex'), this.dummyHash);
    this.durations.push(performance.now() - started);
  }

  hash(password: string): Promise<string> {
    return bcrypt.hash(prehash(password), this.cost);
  }

  verify(password: string, hash: string): Promise<boolean> {
    return this.timed(bcrypt.compare(prehash(password), hash));
  }

  /** Spends the time of a real check and fails: an unknown username must not answer faster. */
  async verifyNobody(password: string): Promise<false> {
    await this.timed(bcrypt.compare(prehash(password), this.dummyHash));
    return false;
  }

  /**
   * Takes as long as a compare does (the median of the recent ones, give or take 5%, as real
   * compares vary), without its CPU: for a password already known to be wrong, whose refusal
   * must not answer faster. The median, so that one compare slowed by a burst does not make
   * every refusal after it that slow.
   */
  async waitLikeACompare(): Promise<void> {
    const sorted = [...this.durations].sort((a, b) => a - b);
    const median = sorted[Math.floor((sorted.length - 1) / 2)] ?? 0;
    await sleep(median * (0.95 + randomInt(1000) / 10_000));
  }

  private async timed(compare: Promise<boolean>): Promise<boolean> {
    const started = performance.now();
    const result = await compare;
    if (this.durations.length >= DURATION_SAMPLES) this.durations.shift();
    this.durations.push(performance.now() - started);
    return result;
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
