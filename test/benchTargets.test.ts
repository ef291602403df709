// The bench's verdict on issue #11's targets (bench/targets.ts): each check fails exactly when
// its figure is past the bound, so that "10 of 10 met" means what it says.
import { expect } from 'chai';
import type { ColdResult, ManyUsersResults, StormSide, WarmRounds, WarmWindow } from '../bench/manyUsers.js';
import { checkTargets, type Afterwards } from '../bench/targets.js';

const window: WarmWindow = { requestsPerSecond: 10_000, p99: 5, databaseOperationsPerCall: 0.002, databaseOperations: {}, statusCounts: { 200: 100_000 }, servingThreadCpuMicrosPerCall: 60 };
const side: StormSide = { requestsPerSecond: 10_000, p99: 5, servingThreadBusy: 0.97, bcryptSlotsBusy: 1.9, servingThreadCpuMicrosPerCall: 60, statusCounts: { 200: 100_000 } };

function warm(ratio: number, operationsRatio: number, worstP99 = 9): WarmRounds {
  return { aloneBefore: window, warm: window, aloneAfter: window, ratio, operationsRatio, worstP99, statusCounts: { 200: 300_000 }, rounds: [] };
}

function cold(users: number, ofCeiling: number, rounds: WarmRounds): ColdResult {
  return {
    users,
    cost: Number.isNaN(ofCeiling) ? 4 : 12,
    secondsUntilAllServed: 10,
    comparesPerSecond: 9,
    ofCeiling,
    ofStartCeiling: ofCeiling,
    ceilingBefore: 9.5,
    ceilingAfter: 9.5,
    bcryptSlotsBusy: 1.97,
    cores: { gatewayOtherThreads: 1.8, servingThread: 0.05, database: 0.05, loadGenerator: 0.02, rest: 0.02, idle: 0.01 },
    statusCounts: { 200: users, 503: 20 },
    badAnswers: 0,
    warm: rounds,
  };
}

/** A run that meets every target, each figure close to its bound. */
function passingRun(): ManyUsersResults {
  return {
    comparesPerSecondCeiling: 9.5,
    oneUserWarm: { requestsPerSecond: 10_000, p99: 5, databaseOperationsPerCall: 0.002 },
    cold: [cold(100, 0.9, warm(1, 1)), cold(1000, 0.91, warm(0.95, 1.2)), cold(10_000, Number.NaN, warm(0.8, 1.5, 49))],
    duringStorm: {
      alone: side,
      withStorm: side,
      aloneAfter: side,
      ratio: 0.7,
      worstP99: 49,
      stormServed: 100,
      besideOutsideCompares: side,
      aloneForBound: side,
      aloneAfterBound: side,
      machineBound: 0.8,
      statusCounts: { 200: 1_000_000, 503: 100 },
      badAnswers: 0,
      rounds: [],
    },
  };
}
const fine: Afterwards = { managementStatus: 200, managementMs: 999, readyz: 200 };

const missed = (run: ManyUsersResults, afterwards = fine) =>
  checkTargets(run, afterwards)
    .filter((check) => !check.met)
    .map((check) => check.target);

describe("the bench's checks of issue #11's targets", () => {
  it('meets every target at its bound, and checks no cold ratio for a storm of cheaper hashes', () => {
    const checks = checkTargets(passingRun(), fine);
    expect(checks.filter((check) => !check.met)).to.deep.equal([]);
    expect(checks.map((check) => check.target)).to.have.length(10);
    expect(checks.filter((check) => check.target.includes('cold')).map((check) => check.target)).to.deep.equal([
      '(e) 100 cold at ≥ 0.9 of the bcrypt ceiling',
      '(e) 1000 cold at ≥ 0.9 of the bcrypt ceiling',
    ]);
  });

  const rows: { past: string; change(run: ManyUsersResults): void; afterwards?: Afterwards; target: string }[] = [
    { past: 'a cold storm below 0.9 of the ceiling', change: (run) => (run.cold[1]!.ofCeiling = 0.89), target: '(e) 1000 cold at ≥ 0.9 of the bcrypt ceiling' },
    { past: 'the largest N warm below 0.8', change: (run) => (run.cold[2]!.warm.ratio = 0.79), target: '(e) 10000 warm at ≥ 0.8 of one user' },
    { past: 'its operations per call above 1.5 ×', change: (run) => (run.cold[2]!.warm.operationsRatio = 1.51), target: "(e) 10000 warm: database operations per call ≤ 1.5 × one user's" },
    { past: 'a warm window of any N at 50 ms', change: (run) => (run.cold[0]!.warm.worstP99 = 50), target: '(e) warm p99 < 50 ms, every window' },
    { past: '(f) below 0.7', change: (run) => (run.duringStorm.ratio = 0.69), target: '(f) the warm integration at ≥ 0.7 of alone beside 1,000 newcomers' },
    { past: "(f)'s p99 at 50 ms", change: (run) => (run.duringStorm.worstP99 = 50), target: '(f) its p99 < 50 ms, every round' },
    { past: 'a cold answer neither 200 nor 503 with Retry-After', change: (run) => (run.cold[0]!.badAnswers = 1), target: 'every answer 200, or 503 with Retry-After to a newcomer' },
    { past: 'a warm answer not 200', change: (run) => (run.cold[2]!.warm.statusCounts = { 200: 10, 503: 1 }), target: 'every answer 200, or 503 with Retry-After to a newcomer' },
    { past: 'a bad answer in (f)', change: (run) => (run.duringStorm.badAnswers = 1), target: 'every answer 200, or 503 with Retry-After to a newcomer' },
    { past: 'a management read of 1 s', change: () => undefined, afterwards: { ...fine, managementMs: 1000 }, target: 'a management read answered within 1 s afterwards' },
    { past: 'a management read refused', change: () => undefined, afterwards: { ...fine, managementStatus: 503 }, target: 'a management read answered within 1 s afterwards' },
    { past: '/readyz 503', change: () => undefined, afterwards: { ...fine, readyz: 503 }, target: '/readyz 200 afterwards' },
  ];
  for (const { past, change, afterwards, target } of rows) {
    it(`misses exactly one target with ${past}`, () => {
      const run = passingRun();
      change(run);
      expect(missed(run, afterwards)).to.deep.equal([target]);
    });
  }
});
