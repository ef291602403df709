// The bcrypt worker pool when a worker ends under a job (an uncaught error, a native fault,
// out of memory): that job fails, no other does, and the next job gets a live worker. A job
// given to an ended worker would never be answered, and its caller would hold a compare slot
// for ever.
import { expect } from 'chai';
import { BcryptPool } from '../src/domain/bcryptPool.js';

const BREAKABLE_WORKER = new URL('./support/breakableBcryptWorker.mjs', import.meta.url);

/** The job's outcome, or 'no answer' if it has none within a second and a half. */
async function outcome(job: Promise<{ value: string | boolean }>): Promise<string> {
  const timeout = new Promise<string>((resolve) => setTimeout(() => resolve('no answer'), 1500).unref());
  return Promise.race([job.then(({ value }) => `answered ${String(value)}`, (error: Error) => `failed: ${error.message}`), timeout]);
}

describe('the bcrypt worker pool', () => {
  let pool: BcryptPool;
  afterEach(() => pool.close());

  it('fails the job of a worker that exits, and runs the next one on a new worker', async () => {
    pool = new BcryptPool(1, 0, BREAKABLE_WORKER);
    expect(await outcome(pool.compare('exit', 'hash'))).to.equal('failed: a bcrypt worker ended (exit code 3) during its job');
    expect(await outcome(pool.compare('right', 'hash'))).to.equal('answered true');
    expect(await outcome(pool.compare('wrong', 'hash'))).to.equal('answered false');
  });

  it('fails only the job of a worker that throws, with its error: a job on another worker is answered', async () => {
    pool = new BcryptPool(2, 0, BREAKABLE_WORKER);
    // Both workers started, so that the two jobs below run on different ones.
    await Promise.all([pool.compare('right', 'hash'), pool.compare('right', 'hash')]);
    const [slow, thrown] = await Promise.all([outcome(pool.compare('slow', 'hash')), outcome(pool.compare('throw', 'hash'))]);
    expect(thrown).to.equal('failed: an uncaught error in the worker');
    expect(slow, 'the other worker\'s job').to.equal('answered false');
    expect(await Promise.all([outcome(pool.compare('right', 'hash')), outcome(pool.compare('right', 'hash'))])).to.deep.equal(['answered true', 'answered true']);
  });
});
