// A stand-in for workers/bcryptWorker.mjs that can be made to fail (test/bcryptPool.test.ts):
// the pool's handling of a worker that ends is what is tested, not bcrypt. Jobs answer as the
// real worker does; their data says what to do.
import { parentPort } from 'node:worker_threads';

parentPort.on('message', (job) => {
  if (job.data === 'throw') throw new Error('an uncaught error in the worker');
  if (job.data === 'exit') process.exit(3);
  const answer = () => parentPort.postMessage({ result: job.data === 'right', ms: 1 });
  if (job.data === 'slow') setTimeout(answer, 300);
  else answer();
});
