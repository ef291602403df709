// Last-use times: written in batches, a busy user once per RESOLUTION_MS, a success that
// resets wrong passwords with the next flush, everything at shutdown.
import { expect } from 'chai';
import { Types } from 'mongoose';
import { LastUsedRecorder, MAX_WRITES_PER_FLUSH } from '../src/domain/lastUsedRecorder.js';
import { startTestGateway, type TestGateway } from './support/gateway.js';

describe('last-use times', () => {
  let gateway: TestGateway;
  before(async () => {
    gateway = await startTestGateway();
  });
  after(() => gateway.close());

  it('writes a busy user once per resolution, an urgent success at once, and everything when closed', async () => {
    const { ApiUserActivity } = gateway.database.models;
    const recorder = new LastUsedRecorder(gateway.database.models, 60_000);
    const stored = async (userId: Types.ObjectId) => (await ApiUserActivity.findById(userId).lean().exec())?.lastUsed?.getTime() ?? null;
    const busy = new Types.ObjectId();
    const first = new Date(Date.now() - 2000);
    await recorder.record(busy, first);
    await recorder.flush();
    expect(await stored(busy), 'a first use is written').to.equal(first.getTime());
    const second = new Date(Date.now() - 1000);
    await recorder.record(busy, second);
    await recorder.flush();
    expect(await stored(busy), 'a use within the resolution waits').to.equal(first.getTime());
    expect(recorder.pendingFor(busy)?.getTime(), 'but is shown here').to.equal(second.getTime());
    const third = new Date();
    await recorder.record(busy, third, true);
    await recorder.flush();
    expect(await stored(busy), 'a success that resets wrong passwords is written with the next flush').to.equal(third.getTime());
    const other = new Types.ObjectId();
    await recorder.record(other, new Date(Date.now() - 500));
    await recorder.flush();
    const later = new Date();
    await recorder.record(other, later);
    await recorder.close();
    expect(await stored(other), 'everything at shutdown').to.equal(later.getTime());
  });

  it('writes at most MAX_WRITES_PER_FLUSH times a flush that are not urgent, the first pending first, and an urgent one besides', async () => {
    const { ApiUserActivity } = gateway.database.models;
    const recorder = new LastUsedRecorder(gateway.database.models, 60_000);
    const users = Array.from({ length: MAX_WRITES_PER_FLUSH + 50 }, () => new Types.ObjectId());
    for (const userId of users) await recorder.record(userId, new Date(Date.now() - 1000));
    const urgent = new Types.ObjectId();
    await recorder.record(urgent, new Date(), true);
    const written = async () => new Set((await ApiUserActivity.find({ _id: { $in: [...users, urgent] } }, { _id: 1 }).lean().exec()).map((record) => record._id.toHexString()));
    await recorder.flush();
    const first = await written();
    expect(first.size, 'one flush').to.equal(MAX_WRITES_PER_FLUSH + 1);
    expect(first.has(urgent.toHexString()), 'the urgent one, though it came last').to.equal(true);
    expect(users.slice(0, MAX_WRITES_PER_FLUSH).every((userId) => first.has(userId.toHexString())), 'the first pending').to.equal(true);
    await recorder.flush();
    expect((await written()).size, 'the rest with the next flush').to.equal(users.length + 1);
    await recorder.close();
  });
});
