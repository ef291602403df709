// The bcrypt work of this process, run a few at a time in the order it arrived.
//
// A compare at cost 12 is ~165 ms of a core: a burst of integrations never seen before (every
// deploy brings one) asks for far more than the cores can give. Left to libuv's thread pool,
// all of them would start at once, share the cores, and each finish only when nearly all have:
// the first user would wait as long as the last. Here at most `slots` run at once (one per
// core), the others wait in arrival order, so users are served at the compare rate from the
// first second. A caller who would wait longer than `maxWaitMs` is told at once to come back
// (503 with Retry-After) instead of piling up behind a queue it cannot get through in time.
// Callers whose password is already verified never come here (see CredentialVerifier).
//
// While the serving thread is busy (ServingLoad), jobs start at a pace instead, one every
// `gapMs` at most: the compares then take a bounded share of a core, and the calls of verified
// integrations, which are what keeps that thread busy, the rest. A cold storm alone leaves the
// serving thread mostly waiting, so it is served at the full compare rate.
import { errors, type ApiError } from '../errors.js';
import type { ServingLoad } from './servingLoad.js';

/** How many recent compare times (the work itself, without the wait) the estimate uses. */
const SERVICE_SAMPLES = 32;

interface Waiting {
  start(): void;
  /** Whether it keeps to the pace while the serving thread is busy (compares; not hashes). */
  paced: boolean;
}

export interface CompareQueueObserver {
  /** A job turned away because the queue could not serve it within the bound. */
  shed?(): void;
  /** A job done, and how long its work took (its wait not included). */
  served?(serviceMs: number): void;
}

/** The pace of jobs while the serving thread is busy: one start every `gapMs` at most. */
export interface BusyPacing {
  load: ServingLoad;
  gapMs: number;
}

export class CompareQueue {
  private running = 0;
  private readonly waiting: Waiting[] = [];
  private head = 0;
  private readonly serviceTimes: number[] = [];
  private lastStartMs = Number.NEGATIVE_INFINITY;
  private paceTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly slots: number,
    private readonly maxWaitMs: number,
    /** What one job takes before any has been timed (the hasher measures one at start). */
    initialServiceMs: number,
    private readonly observer: CompareQueueObserver = {},
    private readonly pacing: BusyPacing | null = null,
  ) {
    if (!Number.isInteger(slots) || slots < 1) throw new Error('a compare queue needs at least one slot');
    this.serviceTimes.push(initialServiceMs);
  }

  /** Jobs waiting for a slot. */
  get length(): number {
    return this.waiting.length - this.head;
  }

  /**
   * How long a job arriving now would wait for its slot: by the recent service times, or by the
   * pace of the jobs ahead of it (and its own, if it keeps to it).
   */
  private expectedWaitMs(paced: boolean): number {
    const forSlot = this.running < this.slots ? 0 : Math.ceil((this.length + 1) / this.slots) * this.meanServiceMs();
    const pacedStarts = this.length + (paced ? 1 : 0);
    const forPace = this.pacing?.load.busy() && pacedStarts > 0 ? this.paceDelayMs() + (pacedStarts - 1) * this.pacing.gapMs : 0;
    return Math.max(forSlot, forPace);
  }

  /** How long until the pace lets the next job start (0: now). */
  private paceDelayMs(): number {
    if (!this.pacing?.load.busy()) return 0;
    return Math.max(0, this.lastStartMs + this.pacing.gapMs - performance.now());
  }

  /** The 503 a job arriving now would get, or null when it would be queued. */
  refusal(paced = true): ApiError | null {
    const waitMs = this.expectedWaitMs(paced);
    return waitMs > this.maxWaitMs ? errors.unavailable(Math.max(1, Math.ceil(waitMs / 1000))) : null;
  }

  /**
   * Runs the job when a slot is free; rejects with a 503 at once when that would be too late.
   * `serviceMsOf` tells how long the work itself took, when the job knows better than the time
   * from its start to its end (a worker thread that had to start first). An unpaced job (a
   * hash: a management call, rare and waited for by a person) does not keep to the pace itself.
   */
  run<T>(job: () => Promise<T>, serviceMsOf?: (value: T) => number, { paced = true }: { paced?: boolean } = {}): Promise<T> {
    const refusal = this.refusal(paced);
    if (refusal) {
      this.observer.shed?.();
      return Promise.reject(refusal);
    }
    return new Promise<T>((resolve, reject) => {
      const start = () => {
        this.running += 1;
        const started = performance.now();
        this.lastStartMs = started;
        let serviceMs: number | undefined;
        job()
          .then((value) => {
            serviceMs = serviceMsOf?.(value);
            resolve(value);
          }, reject)
          .finally(() => {
            serviceMs ??= performance.now() - started;
            this.recordService(serviceMs);
            this.observer.served?.(serviceMs);
            this.running -= 1;
            this.next();
          });
      };
      this.waiting.push({ start, paced });
      this.next();
    });
  }

  /** Starts waiting jobs while slots are free and the pace allows; else comes back when it will. */
  private next(): void {
    while (this.running < this.slots && this.length > 0) {
      const delayMs = this.waiting[this.head]!.paced ? this.paceDelayMs() : 0;
      if (delayMs > 0) {
        this.paceTimer ??= setTimeout(() => {
          this.paceTimer = null;
          this.next();
        }, delayMs);
        return;
      }
      const job = this.waiting[this.head]!;
      this.head += 1;
      // The array is compacted once its consumed head outweighs what still waits.
      if (this.head > 1024 && this.head * 2 > this.waiting.length) {
        this.waiting.splice(0, this.head);
        this.head = 0;
      }
      job.start();
    }
  }

  private recordService(ms: number): void {
    if (this.serviceTimes.length >= SERVICE_SAMPLES) this.serviceTimes.shift();
    this.serviceTimes.push(ms);
  }

  private meanServiceMs(): number {
    return this.serviceTimes.reduce((sum, ms) => sum + ms, 0) / this.serviceTimes.length;
  }
}
