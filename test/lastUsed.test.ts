// Last-use times (what LastUsed shows): written in batches, a busy user once per RESOLUTION_MS,
// everything at shutdown; times of users written before as one command per group of uses,
// never after a use.
import { expect } from 'chai';
import { Types } from 'mongoose';
import { MAX_UPDATES_PER_COMMAND } from '../src/db/boundedBulkWrite.js';
import { GROUP_SPAN_MS, LastUsedRecorder, MAX_WRITES_PER_FLUSH, planWrites, type PendingUse } from '../src/domain/lastUsedRecorder.js';
import { startTestGateway, type TestGateway } from './support/gateway.js';

describe('last-use times', () => {
  let gateway: TestGateway;
  before(async () => {
    gateway = await startTestGateway();
  });
  after(() => gateway.close());

  it('writes a busy user once per resolution, and everything when closed', async () => {
    const { ApiUserActivity } = gateway.database.models;
    const recorder = new LastUsedRecorder(gateway.database.models, 60_000);
    const stored = async (userId: Types.ObjectId) => (await ApiUserActivity.findById(userId).lean().exec())?.lastCall?.getTime() ?? null;
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
    // A call that took a slow path records an earlier time after a later call did: the later stays.
    await recorder.record(busy, new Date(second.getTime() - 500));
    expect(recorder.pendingFor(busy)?.getTime(), 'the latest time recorded').to.equal(second.getTime());
    // So too while the later one is being written.
    const slow = new Types.ObjectId();
    const written = new Date(Date.now() - 100);
    await recorder.record(slow, written);
    const flushing = recorder.flush();
    await recorder.record(slow, new Date(written.getTime() - 500));
    expect(recorder.pendingFor(slow)?.getTime(), 'the one being written, later').to.equal(written.getTime());
    await flushing;
    expect(await stored(slow), 'a first use from here').to.equal(written.getTime());
    const other = new Types.ObjectId();
    await recorder.record(other, new Date(Date.now() - 500));
    await recorder.flush();
    const later = new Date();
    await recorder.record(other, later);
    await recorder.close();
    expect(await stored(other), 'everything at shutdown').to.equal(later.getTime());
    // A call still under way at shutdown: its use is written at once, no timer is left to.
    const late = new Date();
    await recorder.record(other, late);
    expect(await stored(other), 'a use recorded once closed').to.equal(late.getTime());
  });

  it('writes at most MAX_WRITES_PER_FLUSH times a flush, the first pending first', async () => {
    const { ApiUserActivity } = gateway.database.models;
    const recorder = new LastUsedRecorder(gateway.database.models, 60_000);
    const users = Array.from({ length: MAX_WRITES_PER_FLUSH + 50 }, () => new Types.ObjectId());
    for (const userId of users) await recorder.record(userId, new Date(Date.now() - 1000));
    const written = async () => new Set((await ApiUserActivity.find({ _id: { $in: users } }, { _id: 1 }).lean().exec()).map((record) => record._id.toHexString()));
    await recorder.flush();
    const first = await written();
    expect(first.size, 'one flush').to.equal(MAX_WRITES_PER_FLUSH);
    expect(users.slice(0, MAX_WRITES_PER_FLUSH).every((userId) => first.has(userId.toHexString())), 'the first pending').to.equal(true);
    await recorder.flush();
    expect((await written()).size, 'the rest with the next flush').to.equal(users.length);
    await recorder.close();
  });

  it('inserts first times in one command, then writes a group of uses in one, at its earliest, and brings back no row deleted meanwhile', async () => {
    const { ApiUserActivity } = gateway.database.models;
    const collection = ApiUserActivity.collection.collectionName;
    const client = gateway.database.connection.getClient();
    /** The writes to the collection that `act` sends, by command name. */
    const writesDuring = async (act: () => Promise<void>): Promise<string[]> => {
      const sent: string[] = [];
      const onCommand = (event: { commandName: string; command: Record<string, unknown> }) => {
        if (event.command[event.commandName] === collection) sent.push(event.commandName);
      };
      client.on('commandStarted', onCommand);
      try {
        await act();
      } finally {
        client.off('commandStarted', onCommand);
      }
      return sent.filter((name) => name !== 'find');
    };
    const recorder = new LastUsedRecorder(gateway.database.models, 60_000);
    const ids = (count: number) => Array.from({ length: count }, () => new Types.ObjectId());
    // `early` is more than FerretDB's 100 SQLite connections: one updateMany holds one cursor
    // for all of them, where as many statements would each hold one (see boundedBulkWrite).
    const [early, late, few] = [ids(150), ids(40), ids(10)];
    const everyone = [...early, ...late, ...few];
    const firstAt = new Date(Date.now() - 10_000);
    for (const userId of everyone) await recorder.record(userId, firstAt);
    expect(await writesDuring(() => recorder.flush(true)), 'first times').to.deep.equal(['insert']);
    // Uses 5 ms apart: `early` spans 745 ms, `late` starts 1.2 s after it, `few` 3 s after it.
    const start = Date.now() - 5000;
    const usedAt = new Map<string, number>();
    const use = async (users: Types.ObjectId[], from: number) => {
      for (const [index, userId] of users.entries()) {
        usedAt.set(userId.toHexString(), from + index * 5);
        await recorder.record(userId, new Date(from + index * 5));
      }
    };
    await use(early, start);
    await use(late, start + 1200);
    await use(few, start + 3000);
    // Deleted elsewhere since its last write (LoginActivity.forget in another process).
    await ApiUserActivity.deleteOne({ _id: early[7] }).exec();
    expect(await writesDuring(() => recorder.flush(true)), 'a command for each group, one for the few').to.deep.equal(['update', 'update', 'update']);
    const stored = new Map(
      (await ApiUserActivity.find({ _id: { $in: everyone } }).lean().exec()).map((record) => [record._id.toHexString(), record.lastCall!.getTime()]),
    );
    expect(stored.has(early[7]!.toHexString()), 'the deleted row stays deleted').to.equal(false);
    for (const userId of early.filter((_userId, index) => index !== 7)) expect(stored.get(userId.toHexString()), 'early: its earliest').to.equal(start);
    for (const userId of late) expect(stored.get(userId.toHexString()), 'late: its earliest').to.equal(start + 1200);
    for (const userId of few) expect(stored.get(userId.toHexString()), 'few: exact').to.equal(usedAt.get(userId.toHexString()));
    for (const [key, at] of stored) {
      const own = usedAt.get(key)!;
      expect(at, 'never after the use').to.be.at.most(own);
      expect(at, 'at most GROUP_SPAN_MS before it').to.be.above(own - GROUP_SPAN_MS);
    }
    await recorder.close();

    // Another process (or this one after a restart) has no memory of those rows: its insert
    // finds them, and their times are written all the same, never moved back.
    const restarted = new LastUsedRecorder(gateway.database.models, 60_000);
    const newcomer = new Types.ObjectId();
    const laterAt = new Date();
    for (const userId of [...early, ...late, newcomer]) await restarted.record(userId, laterAt);
    await restarted.record(few[0]!, new Date(start));
    expect(await writesDuring(() => restarted.flush(true)), 'one insert, then the group and the one left').to.deep.equal(['insert', 'update', 'update']);
    const after = new Map(
      (await ApiUserActivity.find({ _id: { $in: [...everyone, newcomer] } }).lean().exec()).map((record) => [record._id.toHexString(), record.lastCall!.getTime()]),
    );
    for (const userId of [...early, ...late, newcomer]) expect(after.get(userId.toHexString()), 'written').to.equal(laterAt.getTime());
    expect(after.get(few[0]!.toHexString()), 'not moved back').to.equal(usedAt.get(few[0]!.toHexString()));
    await restarted.close();
  });

  it('plans small groups exactly, and no group larger than a flush', () => {
    const now = Date.now();
    const use = (at: number): PendingUse => ({ userId: new Types.ObjectId(), at: new Date(at) });
    const many = Array.from({ length: MAX_WRITES_PER_FLUSH + 50 }, () => use(now));
    const small = Array.from({ length: MAX_UPDATES_PER_COMMAND - 1 }, (_use, index) => use(now + 5000 + index));
    const { grouped, exact } = planWrites([...small, ...many]);
    expect(grouped.map((group) => group.userIds.length)).to.deep.equal([MAX_WRITES_PER_FLUSH, 50]);
    expect(grouped.every((group) => group.at.getTime() === now)).to.equal(true);
    const keys = (uses: PendingUse[]) => uses.map((entry) => entry.userId.toHexString()).sort();
    expect(keys(exact)).to.deep.equal(keys(small));
  });
});
