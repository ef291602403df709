// Which successes forgive the wrong passwords before them (src/auth/ownSuccesses.ts), as pure
// functions of what a process knows: the rows of the real thing are in authCache.test.ts.
import { expect } from 'chai';
import { Types } from 'mongoose';
import { countFrom, keptWrongPasswords, settleOwnSuccesses, withOwnSuccess, type SuccessesAndFailures } from '../src/auth/ownSuccesses.js';
import { newWrongPassword } from '../src/domain/loginActivity.js';

const THRESHOLD = 5;
const unlockedAt = new Date(1_000_000);
const user = { _id: new Types.ObjectId(), unlockedAt };
const at = (ms: number) => new Date(unlockedAt.getTime() + ms);
/** The same moment as own successes keep it: in ms. */
const ms = (after: number) => unlockedAt.getTime() + after;
/** Newest first, as states keep them. */
const wrong = (...times: number[]) => times.sort((x, y) => y - x).map((ms) => newWrongPassword(at(ms), unlockedAt));
const state = (ownSuccesses: number[], wrongAt: number[], lastSuccess: number | null = null): SuccessesAndFailures => ({
  user,
  lastSuccess: lastSuccess === null ? null : at(lastSuccess),
  ownSuccesses: ownSuccesses.map(ms),
  wrongPasswords: wrong(...wrongAt),
});

describe('which successes forgive wrong passwords', () => {
  it('counts from the last success that came before any lock: one after five wrong passwords in a row forgives nothing', () => {
    const counted = (from: Date, counting: number) => ({ from, counting });
    expect(countFrom(state([100], [10, 20, 30]), THRESHOLD), 'three, then a success').to.deep.equal(counted(at(100), 0));
    expect(countFrom(state([100], [10, 20, 30, 40, 50]), THRESHOLD), 'five, then a success').to.deep.equal(counted(unlockedAt, 5));
    expect(countFrom(state([100, 200], [10, 20, 30, 40, 50, 150]), THRESHOLD), 'nor any later one').to.deep.equal(counted(unlockedAt, 6));
    expect(countFrom(state([30, 100], [10, 20, 40, 50, 60, 70]), THRESHOLD), 'a success splitting them: four after it').to.deep.equal(counted(at(100), 0));
    expect(countFrom(state([30, 100], [10, 20, 40, 50, 60, 70, 110]), THRESHOLD), 'and one after the last').to.deep.equal(counted(at(100), 1));
    expect(countFrom(state([100], [10, 20, 30, 40, 50], 60), THRESHOLD), 'a forgiving success after them').to.deep.equal(counted(at(100), 0));
    expect(countFrom(state([100], [100, 20, 30, 40, 50]), THRESHOLD), 'one in the same millisecond as the success is before it').to.deep.equal(counted(unlockedAt, 5));
  });

  it('locks nothing when a wrong password comes between every two of hundreds of successes, and keeps them all apart', () => {
    let own = state([], []);
    const intervalStart = unlockedAt.getTime();
    for (let index = 1; index <= 500; index++) {
      own = { ...own, ownSuccesses: withOwnSuccess(own, ms(index * 10), intervalStart, 0) };
      own = { ...own, wrongPasswords: keptWrongPasswords([...own.wrongPasswords, ...wrong(index * 10 + 5)], own, THRESHOLD) };
    }
    expect(own.ownSuccesses, 'one success between each two wrong passwords').to.have.length(500);
    expect(own.wrongPasswords).to.have.length(500);
    expect(countFrom(own, THRESHOLD)).to.deep.equal({ from: at(5000), counting: 1 });
    expect(settleOwnSuccesses(own, ms(4000), THRESHOLD).forgiving?.getTime()).to.equal(own.ownSuccesses[399]);
  });

  it('settles the successes old enough, keeps the others waiting, and says which one forgave a wrong password', () => {
    expect(settleOwnSuccesses(state([100, 200, 300], [10, 150]), ms(250), THRESHOLD)).to.deep.equal({ lastSuccess: at(200), ownSuccesses: [ms(300)], forgiving: at(200) });
    expect(settleOwnSuccesses(state([100], [200]), ms(150), THRESHOLD), 'nothing before it to forgive').to.deep.equal({ lastSuccess: at(100), ownSuccesses: [], forgiving: null });
    expect(settleOwnSuccesses(state([100, 300], [10, 20, 30, 40, 50]), ms(200), THRESHOLD), 'after a lock: dropped').to.deep.equal({ lastSuccess: null, ownSuccesses: [ms(300)], forgiving: null });
  });

  it('keeps one success per poll interval while no wrong password is known between, and drops old ones with nothing to forgive', () => {
    const intervalStart = ms(50);
    expect(withOwnSuccess(state([60], []), ms(70), intervalStart, 0), 'the later stands for both').to.deep.equal([ms(70)]);
    expect(withOwnSuccess(state([40], []), ms(70), intervalStart, 0), 'an earlier interval').to.deep.equal([ms(40), ms(70)]);
    expect(withOwnSuccess(state([60], [65]), ms(70), intervalStart, 0), 'a wrong password between').to.deep.equal([ms(60), ms(70)]);
    expect(withOwnSuccess(state([60], [55]), ms(70), intervalStart, 0), 'one that forgave a wrong password stays').to.deep.equal([ms(60), ms(70)]);
    expect(withOwnSuccess(state([10], []), ms(70), intervalStart, ms(20)), 'settled long ago').to.deep.equal([ms(70)]);
    expect(withOwnSuccess(state([60, 80], [75]), ms(70), intervalStart, 0), 'out of order: put in its place').to.deep.equal([ms(60), ms(70), ms(80)]);
  });

  it('keeps the first five and the last five wrong passwords between each two successes, none before the last forgiving one', () => {
    const times = [5, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 30, 31];
    const kept = keptWrongPasswords(wrong(...times), { ...state([25], [], 8) }, THRESHOLD);
    expect(kept.map((wrongPassword) => wrongPassword.at.getTime() - unlockedAt.getTime())).to.deep.equal([31, 30, 20, 19, 18, 17, 16, 14, 13, 12, 11, 10]);
    // A success elsewhere, heard of later, just before the dropped one (15): the five kept after it still lock.
    expect(countFrom({ ...state([], [], 14), wrongPasswords: kept.filter(({ at }) => at.getTime() - unlockedAt.getTime() < 25) }, THRESHOLD).counting).to.equal(5);
  });
});
