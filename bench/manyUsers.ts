// The bench's many-integrations scenarios, run by bench/run.ts against the same gateway:
//   e) N distinct API users never seen before, round robin over the bench's connections
//      (N from BENCH_USERS, default 100,1000,10000): the time until every one has been served
//      once and the compare rate that took, against the ceiling of this machine (the cores'
//      bcrypt compares per second, measured right before and right after the storm), with the
//      gateway's bcrypt slots at work meanwhile and where the cores went (what the compares did
//      not get: the serving thread, the database, the load generator, the rest); then the same
//      users warm: req/s, p99, and database operations per call, against the warm integration
//      alone right before and right after them (windows side by side: alone, warm, alone, warm,
//      ..., BENCH_ROUNDS times, and the ratios' medians reported; the machine's speed drifts
//      from one 10 s window to the next by as much as these ratios' margins).
//   f) one warm integration at full speed while 1,000 new users arrive: its req/s and p99,
//      against the same integration alone, and how busy the gateway was meanwhile (its
//      serving thread's share of the time, its bcrypt slots at work; from /metrics). Beside it,
//      the machine's own bound for that ratio: the same integration beside one process per
//      core comparing bcrypt hashes at nice 19 outside the gateway, which costs the serving
//      thread whatever sharing the cores costs, with none of the gateway's work for newcomers.
//      Each ratio is against the integration alone right before and right after (five windows
//      side by side: alone, storm, alone, outside, alone), BENCH_ROUNDS times, and the ratios'
//      medians reported.
// Users are written straight to the database with one shared password and one precomputed
// hash (set-up in seconds; each still costs its own compare to log in). Above BENCH_COLD_MAX
// users (default 1,000) the hash is made at cost 4: at cost 12 a 2-core machine needs some 15
// minutes (or an hour on a slow day) to see 10,000 newcomers once, and the warm figures, which
// are what such a run is for, do not depend on the cost. Those rows say so.
import autocannon from 'autocannon';
import bcrypt from 'bcrypt';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { availableParallelism } from 'node:os';
import { createServices } from '../src/app.js';
import type { Config } from '../src/config.js';
import type { Database } from '../src/db/connection.js';
import { insertApiUsers } from '../test/support/bulkUsers.js';
import { counterValue } from '../test/support/metrics.js';

export interface ManyUsersTarget {
  url: string;
  /** Scrapes the gateway's /metrics (the bench starts it with a token). */
  metrics(): Promise<string>;
  /** CPU time (user + system) the gateway's serving thread has used so far, in µs. */
  servingThreadCpuMicros(): number;
  /** The same for the whole gateway process (its bcrypt threads and V8's helpers besides). */
  gatewayCpuMicros(): number;
  /** The same for the database server, when the bench started it (else undefined). */
  databaseCpuMicros(): number | undefined;
  /** The warm integration: the bench account's owner, verified already. */
  authorization: string;
  connections: number;
  durationSeconds: number;
  /** How many rounds (e) makes of its warm windows, and (f) of its five. */
  rounds: number;
}

/** A warm run's headline figures. */
export interface WarmSummary {
  requestsPerSecond: number;
  p99: number;
  databaseOperationsPerCall: number;
}

const summary = ({ requestsPerSecond, p99, databaseOperationsPerCall }: WarmSummary): WarmSummary => ({ requestsPerSecond, p99, databaseOperationsPerCall });

/** A warm window's figures as (e) keeps them: the commands behind its operations, its answers, and what a call cost. */
export interface WarmWindow extends WarmSummary {
  databaseOperations: Record<string, number>;
  statusCounts: Record<string, number>;
  /** The serving thread's CPU time per call answered, in µs: what many users cost it, whatever the machine's speed did. */
  servingThreadCpuMicrosPerCall: number;
}

/**
 * One round of (e)'s warm figures: the N users warm, between windows of the warm integration
 * alone. Each ratio is against the mean of the windows alone right before and right after it, as
 * (f)'s are: against a window on one side only, the machine's drift from one 10 s window to the
 * next counted as the users' (once, on an AMD machine: 11,606 req/s alone, then 16,324 for the
 * 100 users warm, "1.41" of it).
 */
export interface WarmRound {
  aloneBefore: WarmWindow;
  warm: WarmWindow;
  aloneAfter: WarmWindow;
  /** warm's req/s against the mean of the two alone. */
  ratio: number;
  /** warm's database operations per call against the mean of the two alone's (NaN if they made none). */
  operationsRatio: number;
}

/**
 * (e)'s warm figures for N users: the round whose ratio is the median (its windows and ratio),
 * except that `operationsRatio` is the median of the rounds' own, and all the rounds.
 */
export interface WarmRounds extends WarmRound {
  /** The highest p99 of the rounds' warm windows. */
  worstP99: number;
  /** Every answer of the warm windows and the windows alone around them, by status (all should be 200). */
  statusCounts: Record<string, number>;
  rounds: WarmRound[];
}

export interface ColdResult {
  users: number;
  /** The bcrypt cost of these users' hash (the bench's cost, or 4 above BENCH_COLD_MAX). */
  cost: number;
  secondsUntilAllServed: number;
  comparesPerSecond: number;
  /**
   * Against the mean of the ceilings measured right before and right after the storm (at the
   * bench's cost only): the machine's speed drifts over the minutes a storm of 1,000 takes, and
   * between the start of (e) and its last storm, by as much as the gap this ratio measures.
   */
  ofCeiling: number;
  /** Against the ceiling measured once at the start of (e). */
  ofStartCeiling: number;
  ceilingBefore: number;
  ceilingAfter: number;
  /** The gateway's bcrypt slots at work on average during the storm (from its metrics): whether it kept them fed. */
  bcryptSlotsBusy: number;
  /** Where the machine's cores went meanwhile: what the compares did not get. */
  cores: StormCores;
  /** Answers while getting there, by status (every 503 carried Retry-After, or it is counted as bad). */
  statusCounts: Record<string, number>;
  badAnswers: number;
  /** The users warm, against the warm integration alone around them. */
  warm: WarmRounds;
}

/**
 * The machine's cores during a cold storm, in cores (CPU seconds a second), from /proc: the
 * gateway's threads other than the serving one (its bcrypt threads, which should have nearly
 * all of the cores, and V8's helpers), its serving thread, the database server, the bench (the
 * load generator), the rest of the machine (the kernel's threads, its services), and idle.
 */
export interface StormCores {
  gatewayOtherThreads: number;
  servingThread: number;
  database: number | undefined;
  loadGenerator: number;
  rest: number;
  idle: number;
}

/** Busy and idle clock ticks of all the machine's cores so far (/proc/stat's first line). */
function machineTicks(): { busy: number; idle: number } {
  const ticks = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1, 9).map(Number);
  // user nice system idle iowait irq softirq steal
  const idle = ticks[3]! + ticks[4]!;
  return { busy: ticks.reduce((sum, tick) => sum + tick, 0) - idle, idle };
}

/** Starts measuring; the function it returns tells the CPU seconds a second each part of the machine used since. */
function coresMeter(target: ManyUsersTarget) {
  const read = () => {
    const bench = process.cpuUsage();
    return {
      at: performance.now(),
      machine: machineTicks(),
      serving: target.servingThreadCpuMicros(),
      gateway: target.gatewayCpuMicros(),
      database: target.databaseCpuMicros(),
      bench: bench.user + bench.system,
    };
  };
  const start = read();
  return (): StormCores => {
    const end = read();
    const seconds = (end.at - start.at) / 1000;
    const cores = (micros: number) => micros / 1e6 / seconds;
    const round = (value: number) => Math.round(value * 1000) / 1000;
    // /proc/stat counts in clock ticks of 10 ms.
    const busy = cores((end.machine.busy - start.machine.busy) * 10_000);
    const servingThread = cores(end.serving - start.serving);
    const gateway = cores(end.gateway - start.gateway);
    const database = end.database === undefined || start.database === undefined ? undefined : cores(end.database - start.database);
    const loadGenerator = cores(end.bench - start.bench);
    return {
      gatewayOtherThreads: round(gateway - servingThread),
      servingThread: round(servingThread),
      database: database === undefined ? undefined : round(database),
      loadGenerator: round(loadGenerator),
      rest: round(Math.max(0, busy - gateway - (database ?? 0) - loadGenerator)),
      idle: round(cores((end.machine.idle - start.machine.idle) * 10_000)),
    };
  };
}

/**
 * The warm integration's figures in (f), with how busy the gateway was meanwhile, by the clock:
 * its serving thread (0 to 1) and its bcrypt slots (how many at work on average).
 */
export interface StormSide {
  requestsPerSecond: number;
  p99: number;
  servingThreadBusy: number;
  bcryptSlotsBusy: number;
  /** The serving thread's CPU time per call answered, in µs (what a call cost it, whatever ran beside). */
  servingThreadCpuMicrosPerCall: number;
  /** The integration's answers, by status. */
  statusCounts: Record<string, number>;
}

/**
 * One round of (f): the warm integration's windows side by side, and their ratios to alone. Each
 * ratio is against the mean of the windows alone right before and right after it: the machine's
 * speed drifts from one 10 s window to the next by as much as these ratios' margins, and a window
 * alone on one side only counted that drift as the storm's (or the bound's) whichever way it went.
 */
export interface StormRound {
  alone: StormSide;
  withStorm: StormSide;
  /** Alone again, right after the storm's window and right before the outside compares'. */
  aloneAfterStorm: StormSide;
  besideOutsideCompares: StormSide;
  aloneAfterOutside: StormSide;
  /** withStorm against the mean of alone and aloneAfterStorm. */
  ratio: number;
  /** besideOutsideCompares against the mean of aloneAfterStorm and aloneAfterOutside. */
  machineBound: number;
  /** Newcomers served during this round's storm window. */
  stormServed: number;
  /** The newcomers' answers in that window, by status, and how many were not 200 or 503 with Retry-After. */
  stormStatusCounts: Record<string, number>;
  stormBadAnswers: number;
}

export interface ManyUsersResults {
  comparesPerSecondCeiling: number;
  oneUserWarm: WarmSummary;
  cold: ColdResult[];
  /**
   * (f): the round whose ratio is the median (its figures), the round whose bound is the median
   * (its figures), and all the rounds.
   */
  duringStorm: {
    alone: StormSide;
    withStorm: StormSide;
    aloneAfter: StormSide;
    ratio: number;
    /** The highest p99 of the rounds' storm windows. */
    worstP99: number;
    stormServed: number;
    /** The same integration beside nice-19 compares outside the gateway, and its ratio to alone. */
    besideOutsideCompares: StormSide;
    /** The integration alone right before those outside compares. */
    aloneForBound: StormSide;
    /** And right after them. */
    aloneAfterBound: StormSide;
    machineBound: number;
    /** Every answer of (f), the integration's and the newcomers', by status, and how many were neither 200 nor, to a newcomer, 503 with Retry-After. */
    statusCounts: Record<string, number>;
    badAnswers: number;
    rounds: StormRound[];
  };
}

const PASSWORD = 'Bench-integration-secret-1';
const COLD_MAX = Number(process.env.BENCH_COLD_MAX ?? 1000);
/** A precomputed hash of PASSWORD at cost 4 (the hasher prehashes with SHA-256 first). */
async function cheapHash(): Promise<string> {
  const { PasswordHasher } = await import('../src/domain/passwords.js');
  return new PasswordHasher(4).hash(PASSWORD);
}
const basic = (username: string, secret: string) => `Basic ${Buffer.from(`${username}:${secret}`).toString('base64')}`;

/**
 * What this machine's cores verify per second at the hash's cost: the ceiling of a cold start.
 * Each core's compares are divided by the time they took, not by the window: the last compare
 * of each starts inside the window and ends after it, on average half a compare later, and
 * counting it over the window alone overstated the ceiling, and so every cold ratio measured
 * against it, by 3-5% on average and up to 10% (a 3 s window, 7-10 compares a second).
 */
async function measureCompareCeiling(hash: string, seconds = 3): Promise<number> {
  const started = performance.now();
  const until = started + seconds * 1000;
  const rates = await Promise.all(
    Array.from({ length: availableParallelism() }, async () => {
      let done = 0;
      while (performance.now() < until) {
        await bcrypt.compare('not it', hash);
        done += 1;
      }
      return done / ((performance.now() - started) / 1000);
    }),
  );
  return rates.reduce((sum, rate) => sum + rate, 0);
}

/**
 * The warm integration beside one process per core running bcrypt compares at nice 19, as the
 * gateway's compare threads do: what sharing the cores costs its serving thread, which nothing
 * the gateway does about its newcomers can make smaller.
 */
async function besideOutsideCompares(target: ManyUsersTarget, hash: string, connections: number) {
  const loop = `require('node:os').setPriority(19); const bcrypt = require('bcrypt'); for (;;) bcrypt.compareSync('not it', ${JSON.stringify(hash)});`;
  const root = new URL('..', import.meta.url);
  const loops = Array.from({ length: availableParallelism() }, () => spawn(process.execPath, ['-e', loop], { cwd: root, stdio: 'ignore' }));
  try {
    // Until they are past loading bcrypt and comparing.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    return await warmRun(target, [target.authorization], connections);
  } finally {
    for (const child of loops) child.kill();
  }
}

/** Commands sent so far, by command name. */
function operationCounts(metricsText: string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const match of metricsText.matchAll(/^dualgate_database_operations_total\{operation="([^"]*)"\} (\d+(?:\.\d+)?)/gm)) counts[match[1]!] = Number(match[2]);
  return counts;
}

/** How busy the gateway was, by the clock: its serving thread (0 to 1) and its bcrypt slots (how many at work). */
function gatewayBusy(before: string, after: string, seconds: number) {
  const rate = (name: string) => Math.round(((counterValue(after, name) - counterValue(before, name)) / seconds) * 100) / 100;
  return { servingThreadBusy: rate('dualgate_event_loop_busy_seconds_total'), bcryptSlotsBusy: rate('dualgate_bcrypt_busy_seconds_total') };
}

function statusCountsOf(result: autocannon.Result): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const [code, count] of Object.entries(result.statusCodeStats ?? {})) counts[code] = (count as { count: number }).count;
  return counts;
}

/** autocannon round robin over the given authorizations, with the database operations it caused. */
async function warmRun(target: ManyUsersTarget, authorizations: string[], connections = target.connections, durationSeconds = target.durationSeconds) {
  let next = 0;
  const metricsBefore = await target.metrics();
  const cpuBefore = target.servingThreadCpuMicros();
  const started = performance.now();
  const result = await autocannon({
    url: target.url,
    connections,
    duration: durationSeconds,
    requests: [
      {
        method: 'GET',
        path: '/v2/account-info',
        setupRequest: (req: autocannon.Request) => ({ ...req, headers: { authorization: authorizations[next++ % authorizations.length]! } }),
      },
    ],
  });
  const cpuMicros = target.servingThreadCpuMicros() - cpuBefore;
  const metricsAfter = await target.metrics();
  const seconds = (performance.now() - started) / 1000;
  const before = operationCounts(metricsBefore);
  const after = operationCounts(metricsAfter);
  const byOperation: Record<string, number> = {};
  for (const [name, count] of Object.entries(after)) if (count > (before[name] ?? 0)) byOperation[name] = count - (before[name] ?? 0);
  const operations = Object.values(byOperation).reduce((sum, count) => sum + count, 0);
  return {
    requestsPerSecond: Math.round(result.requests.average),
    p99: result.latency.p99,
    // Four decimals: one user makes about one operation per thousand calls, which three would round away.
    databaseOperationsPerCall: Math.round((operations / Math.max(1, result.requests.total)) * 10_000) / 10_000,
    /** The commands behind that figure, over the whole run. */
    databaseOperations: byOperation,
    statusCounts: statusCountsOf(result),
    servingThreadCpuMicrosPerCall: Math.round(cpuMicros / Math.max(1, result.requests.total)),
    ...gatewayBusy(metricsBefore, metricsAfter, seconds),
  };
}

/** The item whose key is the median, so that the figures printed are those it was made of. */
function medianBy<T>(items: T[], key: (item: T) => number): T {
  return [...items].sort((x, y) => key(x) - key(y))[Math.floor(items.length / 2)]!;
}

/** `value` against the mean of the two around it, to two decimals (NaN if they are both 0). */
function ofMean(value: number, before: number, after: number): number {
  const mean = (before + after) / 2;
  return mean > 0 ? Math.round((value / mean) * 100) / 100 : Number.NaN;
}

/** Answers that were not 200, from counts by status: none is due to a verified caller within its quota. */
export function answersNot200(statusCounts: Record<string, number>): number {
  return Object.entries(statusCounts).reduce((sum, [status, count]) => (status === '200' ? sum : sum + count), 0);
}

/** Adds `counts` into `into`, status by status. */
function addCounts(into: Record<string, number>, counts: Record<string, number>): void {
  for (const [status, count] of Object.entries(counts)) into[status] = (into[status] ?? 0) + count;
}

const warmWindow = ({ requestsPerSecond, p99, databaseOperationsPerCall, databaseOperations, statusCounts, servingThreadCpuMicrosPerCall }: WarmWindow): WarmWindow => ({
  requestsPerSecond,
  p99,
  databaseOperationsPerCall,
  databaseOperations,
  statusCounts,
  servingThreadCpuMicrosPerCall,
});

/**
 * (e)'s warm figures: windows side by side, the integration alone, then the users, then alone
 * again, `target.rounds` times (each window alone ends one round and begins the next), each ratio
 * against the mean of the windows alone on either side of it.
 */
async function warmRounds(target: ManyUsersTarget, authorizations: string[]): Promise<WarmRounds> {
  const alone = async () => warmWindow(await warmRun(target, [target.authorization]));
  const rounds: WarmRound[] = [];
  let aloneBefore = await alone();
  for (let round = 1; round <= target.rounds; round++) {
    const warm = warmWindow(await warmRun(target, authorizations));
    const aloneAfter = await alone();
    rounds.push({
      aloneBefore,
      warm,
      aloneAfter,
      ratio: ofMean(warm.requestsPerSecond, aloneBefore.requestsPerSecond, aloneAfter.requestsPerSecond),
      operationsRatio: ofMean(warm.databaseOperationsPerCall, aloneBefore.databaseOperationsPerCall, aloneAfter.databaseOperationsPerCall),
    });
    aloneBefore = aloneAfter;
  }
  const statusCounts: Record<string, number> = {};
  addCounts(statusCounts, rounds[0]!.aloneBefore.statusCounts);
  for (const round of rounds) {
    addCounts(statusCounts, round.warm.statusCounts);
    addCounts(statusCounts, round.aloneAfter.statusCounts);
  }
  const typical = medianBy(rounds, (round) => round.ratio);
  return {
    ...typical,
    operationsRatio: medianBy(rounds, (round) => round.operationsRatio).operationsRatio,
    worstP99: Math.max(...rounds.map((round) => round.warm.p99)),
    statusCounts,
    rounds,
  };
}

interface Answer {
  status: number;
  retryAfter: string | undefined;
}

/** Calls sent again because the kept-alive connection they went out on had been closed by the gateway. */
let resentOnClosedConnections = 0;

/** How many calls of the cold storms were sent again so (see get()). */
export function callsResentOnClosedConnections(): number {
  return resentOnClosedConnections;
}

function get(url: URL, authorization: string, agent: Agent, resent = false): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const call = request(url, { agent, headers: { authorization } }, (response) => {
      response.resume();
      response.on('end', () => resolve({ status: response.statusCode ?? 0, retryAfter: response.headers['retry-after'] }));
    });
    call.on('error', (error: NodeJS.ErrnoException) => {
      // A kept-alive connection the gateway closes after 5 s idle (callers waiting out a
      // Retry-After leave some idle) may be taken for a call just as it closes: the call is
      // sent again once, as Node's documentation of `request.reusedSocket` advises.
      if (!resent && call.reusedSocket && error.code === 'ECONNRESET') {
        resentOnClosedConnections += 1;
        resolve(get(url, authorization, agent, true));
      } else reject(error);
    });
    call.end();
  });
}

/**
 * Every user called until served once, by `connections` callers taking the next user in line;
 * a user told to come back (503) goes to the end of the line, and its caller waits as told
 * (at most a second, so that the queue stays fed).
 */
async function coldStorm(target: ManyUsersTarget, usernames: string[], connections: number, stop: () => boolean = () => false) {
  const agent = new Agent({ keepAlive: true, maxSockets: connections });
  const url = new URL('/v2/account-info', target.url);
  const line = [...usernames];
  let head = 0;
  let served = 0;
  let badAnswers = 0;
  const statusCounts: Record<string, number> = {};
  const started = performance.now();
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (head < line.length && !stop()) {
        const username = line[head++]!;
        const answer = await get(url, basic(username, PASSWORD), agent);
        statusCounts[answer.status] = (statusCounts[answer.status] ?? 0) + 1;
        if (answer.status === 200) {
          served += 1;
          continue;
        }
        line.push(username);
        if (answer.status !== 503 || !answer.retryAfter) badAnswers += 1;
        await new Promise((resolve) => setTimeout(resolve, Math.min(1, Number(answer.retryAfter ?? 1)) * 1000));
      }
    }),
  );
  agent.destroy();
  // Those not served yet (stopped early): the next part of the same storm starts with them.
  return { seconds: (performance.now() - started) / 1000, served, statusCounts, badAnswers, unserved: line.slice(head) };
}

export async function runManyUsers(config: Config, database: Database, target: ManyUsersTarget, counts: number[]): Promise<ManyUsersResults> {
  const { accounts, hasher } = createServices(config, database);
  const hash = await hasher.hash(PASSWORD);
  const ceiling = await measureCompareCeiling(hash);
  console.error(`  bcrypt ceiling on this machine at cost ${config.BCRYPT_COST}: ${ceiling.toFixed(1)} compares/s`);
  const oneUser = await warmRun(target, [target.authorization]);
  console.error(`  one user warm: ${oneUser.requestsPerSecond} req/s, p99 ${oneUser.p99} ms, ${oneUser.databaseOperationsPerCall} database operations per call`);

  const cold: ColdResult[] = [];
  const cheap = await cheapHash();
  for (const count of counts) {
    const { account } = await accounts.create({ name: `Many ${count}`, mainEmail: 'many@example.com', apiCallsPerHour: 1_000_000_000 });
    const cost = count > COLD_MAX ? 4 : config.BCRYPT_COST;
    const usernames = await insertApiUsers(database, account._id, count, count > COLD_MAX ? cheap : hash);
    const atCost = cost === config.BCRYPT_COST;
    const ceilingBefore = atCost ? await measureCompareCeiling(hash) : Number.NaN;
    const metricsBefore = await target.metrics();
    const coresUsed = coresMeter(target);
    const storm = await coldStorm(target, usernames, target.connections);
    const cores = coresUsed();
    const { bcryptSlotsBusy } = gatewayBusy(metricsBefore, await target.metrics(), storm.seconds);
    const ceilingAfter = atCost ? await measureCompareCeiling(hash) : Number.NaN;
    const comparesPerSecond = count / storm.seconds;
    const of = (compares: number) => Math.round((comparesPerSecond / compares) * 100) / 100;
    const warm = await warmRounds(target, usernames.map((username) => basic(username, PASSWORD)));
    const result: ColdResult = {
      users: count,
      cost,
      secondsUntilAllServed: Math.round(storm.seconds * 10) / 10,
      comparesPerSecond: Math.round(comparesPerSecond * 10) / 10,
      ofCeiling: of((ceilingBefore + ceilingAfter) / 2),
      ofStartCeiling: atCost ? of(ceiling) : Number.NaN,
      ceilingBefore: Math.round(ceilingBefore * 10) / 10,
      ceilingAfter: Math.round(ceilingAfter * 10) / 10,
      bcryptSlotsBusy,
      cores,
      statusCounts: storm.statusCounts,
      badAnswers: storm.badAnswers,
      warm,
    };
    cold.push(result);
    // The ceiling is measured at the gateway's cost only: a storm of cheaper hashes has none.
    const ceilingText = atCost
      ? `${result.ofCeiling} of the ceiling around it, ${result.ceilingBefore} and ${result.ceilingAfter} compares/s measured right before and after, ${result.ofStartCeiling} of the one at the start`
      : `hashes of cost ${cost}, no ceiling at that cost`;
    console.error(
      `  e) ${count} users: all served in ${result.secondsUntilAllServed} s (${result.comparesPerSecond}/s, ${ceilingText}; bcrypt slots at work ${bcryptSlotsBusy}; cores ${JSON.stringify(cores)}); ` +
        `warm against one user around it ${warm.ratio}, operations/call ${warm.operationsRatio}; rounds:`,
    );
    const window = (name: string, { requestsPerSecond, p99, servingThreadCpuMicrosPerCall, databaseOperationsPerCall, databaseOperations }: WarmWindow) =>
      `${name} ${requestsPerSecond} req/s, p99 ${p99} ms, ${servingThreadCpuMicrosPerCall} µs a call, ${databaseOperationsPerCall} operations/call ${JSON.stringify(databaseOperations)}`;
    for (const [index, round] of warm.rounds.entries()) {
      console.error(
        `    round ${index + 1}: ${window('one user', round.aloneBefore)}; ${window(`${count} users warm`, round.warm)}; ${window('one user', round.aloneAfter)}: ${round.ratio}, operations/call ${round.operationsRatio}`,
      );
    }
  }

  // f) the warm integration on half the connections: alone, beside 1,000 newcomers on the other
  // half, alone, beside nice-19 compares outside the gateway, and alone, in turn, `rounds` times.
  // This machine's speed drifts by a fifth and more within a minute (measured: the same
  // integration alone at 12,173, 9,968 and 6,611 req/s in windows 36 s apart), so each ratio is
  // of windows side by side, against the mean of the windows alone on either side of it, and the
  // ratios reported are their medians. The newcomers' storm pauses between its windows (its
  // callers stop, and wait for their answers) and goes on from where it stopped.
  const half = Math.max(1, Math.floor(target.connections / 2));
  const { account } = await accounts.create({ name: 'Storm', mainEmail: 'storm@example.com', apiCallsPerHour: 1_000_000_000 });
  let unserved = await insertApiUsers(database, account._id, 1000, hash);
  const rounds: StormRound[] = [];
  let stormServed = 0;
  const side = ({ requestsPerSecond, p99, servingThreadBusy, bcryptSlotsBusy, servingThreadCpuMicrosPerCall, statusCounts }: StormSide): StormSide => ({
    requestsPerSecond,
    p99,
    servingThreadBusy,
    bcryptSlotsBusy,
    servingThreadCpuMicrosPerCall,
    statusCounts,
  });
  const ofAlone = (run: StormSide, before: StormSide, after: StormSide) => ofMean(run.requestsPerSecond, before.requestsPerSecond, after.requestsPerSecond);
  for (let round = 1; round <= target.rounds && unserved.length > 0; round++) {
    const alone = side(await warmRun(target, [target.authorization], half));
    let stormOver = false;
    const storm = coldStorm(target, unserved, half, () => stormOver);
    const withStorm = side(await warmRun(target, [target.authorization], half));
    stormOver = true;
    const stormResult = await storm;
    const aloneAfterStorm = side(await warmRun(target, [target.authorization], half));
    const outside = side(await besideOutsideCompares(target, hash, half));
    const aloneAfterOutside = side(await warmRun(target, [target.authorization], half));
    unserved = stormResult.unserved;
    stormServed += stormResult.served;
    const result: StormRound = {
      alone,
      withStorm,
      aloneAfterStorm,
      besideOutsideCompares: outside,
      aloneAfterOutside,
      ratio: ofAlone(withStorm, alone, aloneAfterStorm),
      machineBound: ofAlone(outside, aloneAfterStorm, aloneAfterOutside),
      stormServed: stormResult.served,
      stormStatusCounts: stormResult.statusCounts,
      stormBadAnswers: stormResult.badAnswers,
    };
    rounds.push(result);
    console.error(
      `  f) round ${round}: warm integration alone ${alone.requestsPerSecond} req/s (p99 ${alone.p99} ms, serving thread ${alone.servingThreadBusy} busy, ${alone.servingThreadCpuMicrosPerCall} µs a call), ` +
        `beside 1,000 newcomers ${withStorm.requestsPerSecond} req/s (p99 ${withStorm.p99} ms, serving thread ${withStorm.servingThreadBusy} busy, ${withStorm.servingThreadCpuMicrosPerCall} µs a call, ` +
        `bcrypt slots at work ${withStorm.bcryptSlotsBusy}, ${stormResult.served} newcomers served), alone ${aloneAfterStorm.requestsPerSecond} req/s (${aloneAfterStorm.servingThreadCpuMicrosPerCall} µs a call): ${result.ratio}; ` +
        `beside nice-19 compares outside it ${outside.requestsPerSecond} req/s (p99 ${outside.p99} ms, ${outside.servingThreadCpuMicrosPerCall} µs a call), alone ${aloneAfterOutside.requestsPerSecond} req/s: ${result.machineBound}`,
    );
  }
  const typical = medianBy(rounds, (round) => round.ratio);
  const typicalBound = medianBy(rounds, (round) => round.machineBound);
  // Every answer of (f): the integration's must all be 200 (it is verified and within its quota).
  const statusCounts: Record<string, number> = {};
  let badAnswers = 0;
  for (const round of rounds) {
    for (const window of [round.alone, round.withStorm, round.aloneAfterStorm, round.besideOutsideCompares, round.aloneAfterOutside]) {
      addCounts(statusCounts, window.statusCounts);
      badAnswers += answersNot200(window.statusCounts);
    }
    addCounts(statusCounts, round.stormStatusCounts);
    badAnswers += round.stormBadAnswers;
  }
  const duringStorm = {
    alone: typical.alone,
    withStorm: typical.withStorm,
    aloneAfter: typical.aloneAfterStorm,
    ratio: typical.ratio,
    worstP99: Math.max(...rounds.map((round) => round.withStorm.p99)),
    stormServed,
    besideOutsideCompares: typicalBound.besideOutsideCompares,
    aloneForBound: typicalBound.aloneAfterStorm,
    aloneAfterBound: typicalBound.aloneAfterOutside,
    machineBound: typicalBound.machineBound,
    statusCounts,
    badAnswers,
    rounds,
  };
  return {
    comparesPerSecondCeiling: Math.round(ceiling * 10) / 10,
    oneUserWarm: summary(oneUser),
    cold,
    duringStorm,
  };
}
