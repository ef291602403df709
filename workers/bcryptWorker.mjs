// One bcrypt worker thread (see src/domain/bcryptPool.ts): jobs one at a time, at a lower CPU
// priority than the thread that serves calls. Plain JavaScript, so that the same file runs
// under the compiled server and under tsx (tests, the CLI), where a worker cannot load
// TypeScript.
import bcrypt from 'bcrypt';
import { setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';

// On Linux a nice value belongs to a thread, and pid 0 means the calling one: this worker only.
try {
  setPriority(0, workerData.nice);
} catch {
  /* not permitted or not supported here: it runs at the process's priority */
}

parentPort.on('message', (job) => {
  try {
    const started = performance.now();
    const result = job.kind === 'compare' ? bcrypt.compareSync(job.data, job.hash) : bcrypt.hashSync(job.data, job.cost);
    // The work alone, for the queue's estimate of waits (a new thread's start is not work).
    parentPort.postMessage({ result, ms: performance.now() - started });
  } catch (error) {
    parentPort.postMessage({ error: error instanceof Error ? error.message : String(error) });
  }
});
