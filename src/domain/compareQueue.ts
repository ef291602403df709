// The bcrypt work of this process, run a few at a time in the order it arrived.
//
// A compare at cost 12 is ~165 ms of a core: a burst of integrations never seen before (every
// deploy brings one) asks for far more than the cores can give. Left to libuv's thread pool,
// all of them would start at once, share the cores, and each finish only when nearly all have:
// the first user would wait as long as the last. Here at most `slots` run at once (one per
// core), the others wait in the order their callers arrived (not the order their jobs got
// here), so users are served at the compare rate from the first second. A caller who would
// wait longer than `maxWaitMs` is told at once to come back (503 with Retry-After) instead of
// piling up behind a queue it cannot get through in time.
// Callers whose password is already verified never come here (see CredentialVerifier).
import { errors, type ApiError } from '../errors.js';

/** How many recent compare times (the work itself, without the wait) the estimate uses. */
const SERVICE_SAMPLES = 32;

interface Waiting {
  start(): void;
  work: number;
  /** When its caller arrived (performance.now()): the order the waiting are served in. */
  arrivedAt: number;
}

export interface CompareQueueObserver {
  /** A job turned away because the queue could not serve it within the bound. */
  shed?(): void;
  /** A job done, and how long its work took (its wait not included). */
  served?(serviceMs: number): void;
}

export class CompareQueue {
  private running = 0;
  private readonly waiting: Waiting[] = [];
  private head = 0;
  /** Recent times per unit of work (see run()). */
  private readonly serviceTimes: number[] = [];
  /** The work of the jobs waiting, and of those running. */
  private waitingWork = 0;
  private runningWork = 0;

  constructor(
    private readonly slots: number,
    private readonly maxWaitMs: number,
    /** What a job of one unit of work takes before any has been timed (the hasher measures one at start). */
    initialServiceMs: number,
    private readonly observer: CompareQueueObserver = {},
  ) {
    if (!Number.isInteger(slots) || slots < 1) throw new Error('a compare queue needs at least one slot');
    this.serviceTimes.push(initialServiceMs);
  }

  /** Jobs waiting for a slot. */
  get length(): number {
    return this.waiting.length - this.head;
  }

  /**
   * How long a job arriving now would wait for its slot: the rounds of `slots` jobs before its
   * turn, each as long as the jobs ahead take on average, by the recent times per unit of work
   * (not per job: after a storm of compares at cost 12, one of compares at cost 4 would
   * otherwise be estimated at 256 times what it takes, and refused).
   */
  private expectedWaitMs(): number {
    if (this.running < this.slots) return 0;
    const meanWork = (this.waitingWork + this.runningWork) / (this.length + this.running);
    return Math.ceil((this.length + 1) / this.slots) * meanWork * this.meanServiceMs();
  }

  /**
   * Whether a job arriving now would be refused. Asked on every call while a storm lasts (see
   * CredentialVerifier), so it builds nothing: an error object per call, with its stack, was a
   * tenth of the serving thread's time beside a storm.
   */
  wouldRefuse(): boolean {
    return this.expectedWaitMs() > this.maxWaitMs;
  }

  /** The 503 for a job refused now: come back once the queue is expected to have drained. */
  refusal(): ApiError {
    return errors.unavailable(Math.max(1, Math.ceil(this.expectedWaitMs() / 1000)));
  }

  /**
   * Runs the job when a slot is free; rejects with a 503 at once when that would be too late.
   * `serviceMsOf` tells how long the work itself took, when the job knows better than the time
   * from its start to its end (a worker thread that had to start first). `work` is how much
   * work it is next to the others (a bcrypt compare doubles with each step of cost).
   * `arrivedAt` (performance.now()) is when its caller arrived, which may be before the job
   * reaches the queue (its state read first): a caller whose read took longer does not lose
   * its place to one that came after it.
   */
  run<T>(job: () => Promise<T>, serviceMsOf?: (value: T) => number, work = 1, arrivedAt = performance.now()): Promise<T> {
    if (this.wouldRefuse()) {
      this.observer.shed?.();
      return Promise.reject(this.refusal());
    }
    return new Promise<T>((resolve, reject) => {
      const start = () => {
        this.running += 1;
        this.runningWork += work;
        const started = performance.now();
        let serviceMs: number | undefined;
        job()
          .then((value) => {
            serviceMs = serviceMsOf?.(value);
            resolve(value);
          }, reject)
          .finally(() => {
            serviceMs ??= performance.now() - started;
            this.recordService(serviceMs / work);
            this.observer.served?.(serviceMs);
            this.running -= 1;
            this.runningWork -= work;
            this.next();
          });
      };
      if (this.running < this.slots && this.length === 0) start();
      else {
        // Nearly always at the end; otherwise before those that arrived after it.
        let at = this.waiting.length;
        while (at > this.head && this.waiting[at - 1]!.arrivedAt > arrivedAt) at -= 1;
        this.waiting.splice(at, 0, { start, work, arrivedAt });
        this.waitingWork += work;
      }
    });
  }

  private next(): void {
    // Sums of powers of two stay exact; zeroed when idle all the same, so no error can last.
    if (this.running === 0 && this.length === 0) this.waitingWork = this.runningWork = 0;
    if (this.running >= this.slots || this.length === 0) return;
    const job = this.waiting[this.head]!;
    this.head += 1;
    this.waitingWork -= job.work;
    // The array is compacted once its consumed head outweighs what still waits.
    if (this.head > 1024 && this.head * 2 > this.waiting.length) {
      this.waiting.splice(0, this.head);
      this.head = 0;
    }
    job.start();
  }

  private recordService(ms: number): void {
    if (this.serviceTimes.length >= SERVICE_SAMPLES) this.serviceTimes.shift();
    this.serviceTimes.push(ms);
  }

  private meanServiceMs(): number {
    return this.serviceTimes.reduce((sum, ms) => sum + ms, 0) / this.serviceTimes.length;
  }
}
