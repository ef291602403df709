// Jobs one at a time per key (src/domain/perKeyQueue.ts): the order asked, no overlap on a key,
// other keys alongside, and a failed job holding up no one.
import { expect } from 'chai';
import { PerKeyQueue } from '../src/domain/perKeyQueue.js';

const tick = () => new Promise((resolve) => setTimeout(resolve, 5));

describe('the per-key queue', () => {
  it('runs the jobs of one key one after the other, in the order asked, and other keys alongside', async () => {
    const queue = new PerKeyQueue();
    const events: string[] = [];
    const job = (name: string) => async () => {
      events.push(`${name} starts`);
      await tick();
      events.push(`${name} ends`);
      return name;
    };
    const results = await Promise.all([queue.run(['a'], job('a1')), queue.run(['a'], job('a2')), queue.run(['b'], job('b1')), queue.run(['a', 'b'], job('ab'))]);
    expect(results).to.deep.equal(['a1', 'a2', 'b1', 'ab']);
    expect(events.slice(0, 2), 'b1 alongside a1').to.have.members(['a1 starts', 'b1 starts']);
    expect(events.indexOf('a2 starts')).to.be.greaterThan(events.indexOf('a1 ends'));
    expect(events.indexOf('ab starts')).to.be.greaterThan(Math.max(events.indexOf('a2 ends'), events.indexOf('b1 ends')));
  });

  it('lets a failed job fail its caller alone: the next job of its key runs', async () => {
    const queue = new PerKeyQueue();
    const failed = queue.run(['a'], async () => {
      throw new Error('no');
    });
    const next = queue.run(['a'], async () => 'ran');
    expect(await failed.catch((error: Error) => error.message)).to.equal('no');
    expect(await next).to.equal('ran');
  });
});
