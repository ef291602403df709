// bcrypt on worker threads of their own, niced (BCRYPT_NICE, default 19), instead of libuv's
// thread pool at the priority of the whole process.
//
// Why: a cold storm keeps every core busy with compares (that is the point of running them at
// the ceiling), and at equal priority the calls of integrations already verified would get
// only their share of the cores: measured on 2 cores, a warm integration fell to 0.4 of its
// rate beside 1,000 newcomers. At a lower priority the compares take what the warm calls leave,
// so those keep their rate and the storm is still served at whatever CPU remains. Nice 19
// rather than 10: a thread at 10 still gets a tenth of a core it shares with a busy serving
// thread (CFS weights 110 against 1024), at 19 a seventieth (15): in interleaved runs that warm
// integration kept 0.68 and 0.71 of its rate at 19 against 0.64 and 0.62 at 10, while a storm
// alone, which has the cores to itself but for the serving work, was served as fast. The pool
// never holds more jobs than it has workers: the CompareQueue in front of it decides who waits.
import { Worker } from 'node:worker_threads';

/** What a worker (workers/bcryptWorker.mjs) is sent and answers: one job at a time. */
type BcryptJob = { kind: 'compare'; data: string; hash: string } | { kind: 'hash'; data: string; cost: number };
type BcryptAnswer = { result: string | boolean; ms: number } | { error: string };

/** A job's result and how long the work itself took in its thread. */
export interface Timed<T> {
  value: T;
  ms: number;
}

/** From src/domain/ and from dist/domain/ alike. */
const WORKER_FILE = new URL('../../workers/bcryptWorker.mjs', import.meta.url);

interface Pending {
  resolve(answer: Timed<string | boolean>): void;
  reject(error: Error): void;
}

export class BcryptPool {
  private readonly idle: Worker[] = [];
  /** The job each busy worker is doing (a worker does one at a time). */
  private readonly working = new Map<Worker, Pending>();
  /** Workers alive (idle or busy): one that ends is replaced by the next job that needs it. */
  private started = 0;

  constructor(
    private readonly size: number,
    private readonly nice: number,
    /** The worker's script; tests give one that can be made to fail. */
    private readonly workerFile: URL = WORKER_FILE,
  ) {}

  compare(data: string, hash: string): Promise<Timed<boolean>> {
    return this.run({ kind: 'compare', data, hash }) as Promise<Timed<boolean>>;
  }

  hash(data: string, cost: number): Promise<Timed<string>> {
    return this.run({ kind: 'hash', data, cost }) as Promise<Timed<string>>;
  }

  /** Ends the idle workers (idle ones do not keep the process alive meanwhile). */
  async close(): Promise<void> {
    await Promise.all(this.idle.splice(0).map((worker) => worker.terminate()));
  }

  private run(job: BcryptJob): Promise<Timed<string | boolean>> {
    const worker = this.idle.pop() ?? this.startWorker();
    // Held while it works, so that a process waiting for its answer is not ended under it.
    worker.ref();
    return new Promise<Timed<string | boolean>>((resolve, reject) => {
      this.working.set(worker, { resolve, reject });
      worker.postMessage(job);
    });
  }

  /** Workers start on first use: a process that never checks a password starts none. */
  private startWorker(): Worker {
    if (this.started >= this.size) throw new Error('more bcrypt jobs than workers: the compare queue should have held this one');
    this.started += 1;
    const worker = new Worker(this.workerFile, { workerData: { nice: this.nice } });
    let failure: Error | undefined;
    worker.on('message', (answer: BcryptAnswer) => {
      const pending = this.working.get(worker);
      this.working.delete(worker);
      worker.unref();
      this.idle.push(worker);
      if ('error' in answer) pending?.reject(new Error(answer.error));
      else pending?.resolve({ value: answer.result, ms: answer.ms });
    });
    worker.on('error', (error) => (failure = error));
    // A worker that ends (an uncaught error, a native fault, out of memory) is never given a
    // job again: a job posted to it would wait for ever, and hold its queue slot with it. Only
    // its own job fails; the next job that finds no idle worker starts a new one.
    worker.on('exit', (code) => {
      this.started -= 1;
      const index = this.idle.indexOf(worker);
      if (index >= 0) this.idle.splice(index, 1);
      const pending = this.working.get(worker);
      this.working.delete(worker);
      pending?.reject(failure ?? new Error(`a bcrypt worker ended (exit code ${code}) during its job`));
    });
    // An idle worker does not keep the process alive (run() holds it while it works); unref
    // comes after the listeners, since adding a 'message' listener refs the worker again.
    worker.unref();
    return worker;
  }
}
