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

/** What a worker (workers/bcryptWorker.mjs) is sent and answers. */
type BcryptJob = { id: number; kind: 'compare'; data: string; hash: string } | { id: number; kind: 'hash'; data: string; cost: number };
type BcryptAnswer = { id: number; result: string | boolean; ms: number } | { id: number; error: string };

/** A job's result and how long the work itself took in its thread. */
export interface Timed<T> {
  value: T;
  ms: number;
}

/** From src/domain/ and from dist/domain/ alike. */
const WORKER_FILE = new URL('../../workers/bcryptWorker.mjs', import.meta.url);

type JobInput = Omit<Extract<BcryptJob, { kind: 'compare' }>, 'id'> | Omit<Extract<BcryptJob, { kind: 'hash' }>, 'id'>;

interface Pending {
  resolve(answer: Timed<string | boolean>): void;
  reject(error: Error): void;
}

export class BcryptPool {
  private readonly idle: Worker[] = [];
  private readonly pending = new Map<number, Pending>();
  private started = 0;
  private nextId = 0;

  constructor(
    private readonly size: number,
    private readonly nice: number,
  ) {}

  compare(data: string, hash: string): Promise<Timed<boolean>> {
    return this.run({ kind: 'compare', data, hash }) as Promise<Timed<boolean>>;
  }

  hash(data: string, cost: number): Promise<Timed<string>> {
    return this.run({ kind: 'hash', data, cost }) as Promise<Timed<string>>;
  }

  /** Ends the workers (idle ones do not keep the process alive meanwhile). */
  async close(): Promise<void> {
    const workers = this.idle.splice(0);
    this.started -= workers.length;
    await Promise.all(workers.map((worker) => worker.terminate()));
  }

  private run(input: JobInput): Promise<Timed<string | boolean>> {
    const worker = this.idle.pop() ?? this.startWorker();
    const id = this.nextId++;
    // Held while it works, so that a process waiting for its answer is not ended under it.
    worker.ref();
    return new Promise<Timed<string | boolean>>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      worker.postMessage({ ...input, id } as BcryptJob);
    }).finally(() => {
      worker.unref();
      this.idle.push(worker);
    });
  }

  /** Workers start on first use: a process that never checks a password starts none. */
  private startWorker(): Worker {
    if (this.started >= this.size) throw new Error('more bcrypt jobs than workers: the compare queue should have held this one');
    this.started += 1;
    const worker = new Worker(WORKER_FILE, { workerData: { nice: this.nice } });
    worker.on('message', (answer: BcryptAnswer) => {
      const pending = this.pending.get(answer.id);
      this.pending.delete(answer.id);
      if ('error' in answer) pending?.reject(new Error(answer.error));
      else pending?.resolve({ value: answer.result, ms: answer.ms });
    });
    worker.on('error', (error) => {
      for (const [id, pending] of this.pending) {
        this.pending.delete(id);
        pending.reject(error);
      }
    });
    // An idle worker does not keep the process alive (run() holds it while it works); unref
    // comes after the listeners, since adding a 'message' listener refs the worker again.
    worker.unref();
    return worker;
  }
}
