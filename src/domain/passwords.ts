// Password hashing. bcrypt reads only the first 72 bytes of its input, and a 64-character
// password can be 256 bytes of UTF-8: so each password is first hashed with SHA-256 (base64,
// 44 ASCII bytes, no NUL) and bcrypt hashes that. Every byte then counts, and two different
// passwords never verify for each other. Passwords are NFC-normalised first, so the same
// typed password matches whichever way a client composed its accents.
import bcrypt from 'bcrypt';
import { createHash, randomBytes, randomInt } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ApiError } from '../errors.js';
import { DEFAULT_MAX_QUEUE_WAIT_MS, DEFAULT_NICE, MAX_COST, MIN_COST } from './bcryptDefaults.js';
import { BcryptPool, type Timed } from './bcryptPool.js';
import { CompareQueue, type CompareQueueObserver } from './compareQueue.js';

/** How many recent compare durations are kept to imitate one. */
const DURATION_SAMPLES = 64;
/** Room, in a refusal's time, for the reads of a cold auth state (a few round trips). */
const REFUSAL_ALLOWANCE_MS = 20;

const workMs = (job: Timed<unknown>) => job.ms;
const valueOf = <T>(job: Timed<T>) => job.value;

function prehash(password: string): string {
  return createHash('sha256').update(password.normalize('NFC'), 'utf8').digest('base64');
}

export interface HasherOptions {
  /** bcrypt jobs run at once (BCRYPT_POOL_SIZE): one per core by default. */
  slots?: number;
  /** The longest a job may expect to wait for its turn before it is refused with a 503. */
  maxQueueWaitMs?: number;
  /** The nice value of the bcrypt threads (BCRYPT_NICE): above the serving thread's, so lower priority. */
  nice?: number;
  observer?: CompareQueueObserver;
}

export class PasswordHasher {
  /** A hash of a random secret at the current cost: unknown users are checked against it. */
  private readonly dummyHash: string;
  /** How long recent compares took (ms), queueing included: what a refusal must look like. */
  private readonly durations: number[] = [];
  private readonly queue: CompareQueue;
  private readonly pool: BcryptPool;

  constructor(
    readonly cost: number,
    options: HasherOptions = {},
  ) {
    this.dummyHash = bcrypt.hashSync(randomBytes(16).toString('hex'), cost);
    const started = performance.now();
    bcrypt.compareSync(randomBytes(16).toString('hex'), this.dummyHash);
    const compareMs = performance.now() - started;
    this.durations.push(compareMs);
    const slots = options.slots || availableParallelism();
    this.pool = new BcryptPool(slots, options.nice ?? DEFAULT_NICE);
    this.queue = new CompareQueue(
      slots,
      options.maxQueueWaitMs ?? DEFAULT_MAX_QUEUE_WAIT_MS,
      compareMs,
      options.observer,
    );
  }

  /**
   * Whether a compare asked for now would be refused (503). A refusal decided without a compare
   * (a wrong password for a user whose right one is known) is refused so too, so that while the
   * queue sheds, such users look like every other one who needs a compare.
   */
  overloaded(): boolean {
    return this.queue.wouldRefuse();
  }

  /** The 503 such a compare gets, with the queue's Retry-After. */
  refusal(): ApiError {
    return this.queue.refusal();
  }

  /** Ends the bcrypt threads (at shutdown). */
  close(): Promise<void> {
    return this.pool.close();
  }

  /** bcrypt jobs waiting for a slot. */
  get queueLength(): number {
    return this.queue.length;
  }

  hash(password: string): Promise<string> {
    return this.queue.run(() => this.pool.hash(prehash(password), this.cost), workMs).then(valueOf);
  }

  /** `arrivedMs` (performance.now()): when the caller arrived, its place in the queue. */
  verify(password: string, hash: string, arrivedMs?: number): Promise<boolean> {
    return this.timed(() => this.pool.compare(prehash(password), hash), this.workOf(hash), arrivedMs);
  }

  /** Spends the time of a real check and fails: an unknown username must not answer faster. */
  async verifyNobody(password: string, arrivedMs?: number): Promise<false> {
    await this.timed(() => this.pool.compare(prehash(password), this.dummyHash), 1, arrivedMs);
    return false;
  }

  /**
   * How long a refusal takes from the moment a call arrived: the median of recent compares
   * (give or take 5%, as real compares vary) plus room for the database reads of a cold cache.
   * Every refusal is held to it, whichever path it took, so that no path is faster: not a
   * wrong password refused from the cache without a compare, not a locked user whose right
   * password was cached, not a cached state against a cold one. The median, so that one
   * compare slowed by a burst does not make every refusal after it that slow.
   */
  refusalDuration(): number {
    const sorted = [...this.durations].sort((a, b) => a - b);
    const median = sorted[Math.floor((sorted.length - 1) / 2)] ?? 0;
    return median * (0.95 + randomInt(1000) / 10_000) + REFUSAL_ALLOWANCE_MS;
  }

  /** Waits until a refusal of a call that arrived at `arrivedMs` (performance.now()) may go. */
  async holdRefusal(arrivedMs: number): Promise<void> {
    const remaining = arrivedMs + this.refusalDuration() - performance.now();
    if (remaining > 0) await sleep(remaining);
  }

  /** A compare through the queue, timed from when it was asked for (its wait included). */
  private async timed(compare: () => Promise<Timed<boolean>>, work = 1, arrivedMs?: number): Promise<boolean> {
    const started = performance.now();
    const result = (await this.queue.run(compare, workMs, work, arrivedMs ?? started)).value;
    if (this.durations.length >= DURATION_SAMPLES) this.durations.shift();
    this.durations.push(performance.now() - started);
    return result;
  }

  /**
   * A compare against this hash next to one at the current cost: bcrypt's work doubles with each
   * step of cost, and a hash keeps the cost it was made at (BCRYPT_COST may have changed since).
   */
  private workOf(hash: string): number {
    let rounds: number;
    try {
      rounds = bcrypt.getRounds(hash);
    } catch {
      return 1;
    }
    // Within bcrypt's costs (4–31): a malformed hash must not weigh as nothing or as everything.
    if (!Number.isFinite(rounds)) return 1;
    return 2 ** (Math.min(Math.max(rounds, MIN_COST), MAX_COST) - this.cost);
  }
}
