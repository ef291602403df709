// The bcrypt queue on its own: order, bound on concurrency, and refusing what it cannot serve in time.
import { expect } from 'chai';
import { CompareQueue } from '../src/domain/compareQueue.js';
import { ApiError } from '../src/errors.js';

/** A job that ends when told to, recording when it started. */
function controlledJob(started: number[], id: number) {
  let finish!: () => void;
  const done = new Promise<void>((resolve) => (finish = resolve));
  return { job: () => (started.push(id), done.then(() => id)), finish: () => finish() };
}

describe('the bcrypt compare queue', () => {
  it('runs at most its slots at once, and the rest in the order they arrived', async () => {
    const queue = new CompareQueue(2, 60_000, 1);
    const started: number[] = [];
    const jobs = Array.from({ length: 6 }, (_, id) => controlledJob(started, id));
    const results = jobs.map((job) => queue.run(job.job));
    await Promise.resolve();
    expect(started).to.deep.equal([0, 1]);
    expect(queue.length).to.equal(4);
    jobs[1]!.finish();
    await results[1];
    await new Promise((resolve) => setImmediate(resolve));
    expect(started).to.deep.equal([0, 1, 2]);
    for (const job of jobs) job.finish();
    expect(await Promise.all(results)).to.deep.equal([0, 1, 2, 3, 4, 5]);
    expect(started).to.deep.equal([0, 1, 2, 3, 4, 5]);
    expect(queue.length).to.equal(0);
  });

  it('serves the waiting in the order their callers arrived, not the order their jobs reached it', async () => {
    const queue = new CompareQueue(1, 60_000, 1);
    const started: number[] = [];
    const busy = controlledJob(started, 0);
    const running = queue.run(busy.job, undefined, 1, 100);
    // Callers that arrived at 300, 200, 400 and 250 (a slow state read holds one back).
    const jobs = [
      [1, 300],
      [2, 200],
      [3, 400],
      [4, 250],
    ].map(([id, arrivedAt]) => {
      const job = controlledJob(started, id!);
      return { ...job, result: queue.run(job.job, undefined, 1, arrivedAt) };
    });
    busy.finish();
    await running;
    for (const job of jobs) job.finish();
    await Promise.all(jobs.map((job) => job.result));
    expect(started).to.deep.equal([0, 2, 4, 1, 3]);
  });

  it('refuses at once, with a 503 and Retry-After, a job that could not start within its bound', async () => {
    // One slot, jobs of 100 ms: the third in line would wait 200 ms, past a bound of 150.
    const queue = new CompareQueue(1, 150, 100);
    const started: number[] = [];
    const jobs = Array.from({ length: 2 }, (_, id) => controlledJob(started, id));
    expect(queue.wouldRefuse()).to.equal(false);
    const accepted = jobs.map((job) => queue.run(job.job));
    expect(queue.wouldRefuse(), 'what every call asks while a storm lasts').to.equal(true);
    const refused = await queue.run(async () => 'never').then(
      () => null,
      (error: unknown) => error,
    );
    expect(refused).to.be.instanceOf(ApiError);
    expect((refused as ApiError).status).to.equal(503);
    expect((refused as ApiError).code).to.equal('ERROR_SYSTEM_SERVICETEMPORARILYUNAVAILABLE');
    expect((refused as ApiError).headers['Retry-After']).to.match(/^[1-9]\d*$/);
    for (const job of jobs) job.finish();
    expect(await Promise.all(accepted)).to.deep.equal([0, 1]);
    expect(queue.wouldRefuse()).to.equal(false);
  });

  it('a failing job frees its slot for the next', async () => {
    const queue = new CompareQueue(1, 60_000, 1);
    const failed = queue.run(() => Promise.reject(new Error('boom')));
    const next = queue.run(async () => 'next');
    expect(await failed.catch((error: Error) => error.message)).to.equal('boom');
    expect(await next).to.equal('next');
  });

  it('estimates waits from the work a job reports, not from a slow start (a new worker thread)', async () => {
    const queue = new CompareQueue(1, 1000, 10);
    // Took 300 ms from start to end, of which 10 ms were the work.
    await queue.run(() => new Promise<{ ms: number }>((resolve) => setTimeout(() => resolve({ ms: 10 }), 300)), (job) => job.ms);
    await new Promise((resolve) => setImmediate(resolve)); // its slot is given back
    const started: number[] = [];
    const running = controlledJob(started, 0);
    const first = queue.run(running.job);
    const queued = Array.from({ length: 20 }, () => queue.run(async () => 'queued'));
    // 20 waiting at ~10 ms each is within the bound of 1 s; at 300 ms each they would have been refused.
    expect(queue.length).to.equal(20);
    running.finish();
    expect(await first).to.equal(0);
    expect(await Promise.all(queued)).to.have.length(20);
  });

  it('estimates waits by the work of the jobs waiting, not by the time of recent jobs of another size', async () => {
    // One slot; recent jobs took 1 ms per unit of work. A job of 256 units (a compare at cost 12
    // next to ones at cost 4) reported 256 ms.
    const queue = new CompareQueue(1, 900, 1);
    await queue.run(async () => ({ ms: 256 }), (job) => job.ms, 256);
    await new Promise((resolve) => setImmediate(resolve));
    const started: number[] = [];
    // Cheap jobs behind one running: 30 waiting at ~1 ms each is well within the bound (by the
    // mean time per job instead, ~128 ms, the eighth would have been refused).
    const cheapRunning = controlledJob(started, 0);
    const cheapJob = () => queue.run(async () => ({ ms: 1 }), (job) => job.ms, 1);
    const cheap = [queue.run(cheapRunning.job), ...Array.from({ length: 30 }, cheapJob)];
    expect(queue.length).to.equal(30);
    expect(queue.wouldRefuse()).to.equal(false);
    cheapRunning.finish();
    await Promise.all(cheap);
    await new Promise((resolve) => setImmediate(resolve));
    // Dear jobs behind one running: the third in line would wait three of them, ~768 ms; the
    // fourth ~1 s, past the bound of 900 ms (by the mean time per job instead, all would be let in).
    const dearRunning = controlledJob(started, 1);
    const dearJob = () => queue.run(async () => 'dear', undefined, 256);
    const dear = [queue.run(dearRunning.job, undefined, 256), dearJob(), dearJob()];
    expect(queue.wouldRefuse(), 'the third in line').to.equal(false);
    dear.push(dearJob());
    expect(queue.wouldRefuse(), 'the fourth in line').to.equal(true);
    dearRunning.finish();
    expect(await Promise.all(dear)).to.deep.equal([1, 'dear', 'dear', 'dear']);
  });
});
