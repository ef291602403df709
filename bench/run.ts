// npm run bench: the gateway in production mode (node dist/server.js, BCRYPT_COST=12) on an
// embedded database, driven by autocannon for a fixed duration per scenario:
//   a) a bare Express route returning small JSON, served as any Express app is (app.listen):
//      the ceiling issue #3 measures against
//   a′) the same route served from the gateway's own HTTP server, whose requests are born with
//      Express's prototypes (src/transports/httpServer.ts): the ceiling of the stack the
//      gateway really runs on, so b/a′ and c/a′ are what the gateway's own work costs
//   b) REST GET /v2/account-info with HTTP Basic
//   c) SOAP GetCurrentAccountInfo with HTTP Basic
//   d) (b) where 1 request in 100 carries a wrong password. Each refusal is held for the time
//      of a bcrypt compare (H, 0.17 to 0.31 s at cost 12 on this kind of machine, so that
//      timing tells nothing), and autocannon sends a connection's next call only once the last
//      is answered: by Little's law, (d's req/s / 100) × H of the connections are on average
//      waiting out a refusal rather than calling, whatever the gateway does. H is measured and
//      that number printed beside d/b.
// Prints req/s, p50 and p99 latency and the CPU time each call cost the server (user + system
// time of its process over the run / calls answered), the ratios b/a, c/a, d/b (and b/a′,
// c/a′) and the gateway's peak RSS, and writes the same to bench/results.json. The scenarios
// run in turn BENCH_ROUNDS times (default 3) and each figure is the median of its rounds: on a
// shared 2-core machine one run can be off by a quarter. Settings: BENCH_DURATION (s per run,
// default 10), BENCH_CONNECTIONS (default 32), BENCH_SOAK (s, default 0: then a long run of
// (b) samples the gateway's RSS every second, to show it stays flat).
import autocannon from 'autocannon';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, totalmem, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createServices } from '../src/app.js';
import { COMMAND_LINE } from '../src/domain/auditTrail.js';
import { loadConfig } from '../src/config.js';
import { connectDatabase } from '../src/db/connection.js';
import { freePort, startDatabaseServer } from '../src/db/databaseServer.js';
import { callsResentOnClosedConnections, runManyUsers, type ManyUsersResults, type WarmRound } from './manyUsers.js';
import { checkTargets } from './targets.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const DURATION = Number(process.env.BENCH_DURATION ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const SOAK = Number(process.env.BENCH_SOAK ?? 0);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const BCRYPT_COST = process.env.BCRYPT_COST ?? '12';
/** (e)'s numbers of users, e.g. BENCH_USERS=100,1000 (empty: (e) and (f) are not run). */
const MANY_USERS = (process.env.BENCH_USERS ?? '100,1000,10000').split(',').filter((count) => count.trim() !== '').map(Number);
/** `npm run bench -- --markdown`: the tables as Markdown, for docs/performance.md. */
const MARKDOWN = process.argv.includes('--markdown');
const METRICS_TOKEN = 'bench-metrics-token-0123456789';

interface Scenario {
  name: string;
  label: string;
  requestsPerSecond: number;
  p50: number;
  p99: number;
  /** CPU time (user + system) of the serving process per call answered, in µs. */
  cpuMicrosPerCall: number;
  errors: number;
  non2xx: number;
  statusCounts: Record<string, number>;
}

/** Warnings and errors the gateway logged, by level, message and error. */
const problems: Record<string, number> = {};
const LEVEL_NAMES: Record<string, string> = { '40': 'warning', '50': 'error', '60': 'fatal' };

/** How much of a server's last output is kept, to show if it ends during the bench. */
const OUTPUT_TAIL_CHARS = 4000;
/** Set once the bench stops its servers: their ends are expected from then on. */
let stopping = false;

function startProcess(args: string[], env: Record<string, string>, ready: RegExp): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = ready.exec(output);
      if (match) {
        // From here on its output is read (it logs as in production) and only its warnings
        // and errors are counted, by level, message and error (the contract's code a request
        // line carries, or the type of an error logged), for the summary.
        child.stdout?.off('data', onData);
        child.stderr?.off('data', onData);
        // The last of its output, to show should it end before the bench does (a crash would
        // otherwise surface only as a reset connection in a scenario).
        let tail = '';
        const countProblems = (chunk: Buffer) => {
          tail = (tail + chunk.toString()).slice(-OUTPUT_TAIL_CHARS);
          for (const line of chunk.toString().split('\n')) {
            const level = /"level":(40|50|60)/.exec(line)?.[1];
            if (!level) continue;
            const error = /"error":"([^"]*)"/.exec(line)?.[1] ?? /"type":"([^"]*)"/.exec(line)?.[1] ?? 'no error';
            const key = `${LEVEL_NAMES[level]} ${/"msg":"([^"]*)"/.exec(line)?.[1] ?? '?'} (${error})`;
            problems[key] = (problems[key] ?? 0) + 1;
          }
        };
        child.stdout?.on('data', countProblems);
        child.stderr?.on('data', countProblems);
        child.once('exit', (code, signal) => {
          if (!stopping) console.error(`${args.join(' ')} ended during the bench (${signal ?? `exit code ${code}`}); its last output:\n${tail}`);
        });
        resolve({ child, port: Number(match[1]) });
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => reject(new Error(`exited with ${code}:\n${output}`)));
  });
}

/** Peak (VmHWM) and current (VmRSS) resident memory of a process, in MB. */
function memoryOf(pid: number): { peakMb: number; rssMb: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0);
  return { peakMb: kb('VmHWM') / 1024, rssMb: kb('VmRSS') / 1024 };
}

/** CPU time (user + system) a process has used so far, in µs; or one of its threads, by its id. */
function cpuMicrosOf(pid: number, thread?: number): number {
  // /proc/<pid>/stat: fields 14 and 15 (utime, stime), in clock ticks (100 per second on Linux).
  const fields = readFileSync(thread === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${thread}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10_000;
}

async function drive(name: string, label: string, server: ChildProcess, options: autocannon.Options): Promise<Scenario> {
  const cpuBefore = cpuMicrosOf(server.pid!);
  const result = await autocannon({ connections: CONNECTIONS, duration: DURATION, ...options });
  const cpuMicros = cpuMicrosOf(server.pid!) - cpuBefore;
  const statusCounts: Record<string, number> = {};
  for (const [code, count] of Object.entries(result.statusCodeStats ?? {})) statusCounts[code] = (count as { count: number }).count;
  return {
    name,
    label,
    requestsPerSecond: Math.round(result.requests.average),
    p50: result.latency.p50,
    p99: result.latency.p99,
    cpuMicrosPerCall: Math.round(cpuMicros / Math.max(1, result.requests.total)),
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
    statusCounts,
  };
}

/** Each figure the median of the rounds' (the round-by-round figures are kept in the JSON). */
function medianOf(rounds: Scenario[]): Scenario {
  const median = (values: number[]) => {
    const sorted = [...values].sort((x, y) => x - y);
    return sorted[Math.floor(sorted.length / 2)] ?? 0;
  };
  const first = rounds[0]!;
  return {
    ...first,
    requestsPerSecond: median(rounds.map((round) => round.requestsPerSecond)),
    p50: median(rounds.map((round) => round.p50)),
    p99: median(rounds.map((round) => round.p99)),
    cpuMicrosPerCall: median(rounds.map((round) => round.cpuMicrosPerCall)),
    errors: rounds.reduce((sum, round) => sum + round.errors, 0),
    non2xx: rounds.reduce((sum, round) => sum + round.non2xx, 0),
  };
}

async function main(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'dualgate-bench-'));
  const database = await startDatabaseServer({ dataDir, databaseName: 'bench' });
  const children: ChildProcess[] = [];
  try {
    // The account to call as, made through the product's own services at the real cost.
    const config = loadConfig({ BCRYPT_COST });
    const connection = await connectDatabase(database.uri);
    const { accounts, apiUsers } = createServices(config, connection);
    const { account, owner, password } = await accounts.create({ name: 'Bench Co', mainEmail: 'bench@example.com', apiCallsPerHour: 1_000_000_000 });
    // (d) calls as an API user of its own, so that whatever its wrong passwords do cannot touch (b) and (c).
    const mixUser = await apiUsers.create(account, { description: 'mix', password: 'M1x-secret-not' }, COMMAND_LINE);
    // Refused three times before the rounds, to measure how long a refusal is held.
    const holdUser = await apiUsers.create(account, { description: 'hold', password: 'H0ld-secret-not' }, COMMAND_LINE);
    await connection.close();
    const basic = (username: string, secret: string) => `Basic ${Buffer.from(`${username}:${secret}`).toString('base64')}`;
    const authorization = basic(owner.username, password);
    const mixAuthorization = basic(mixUser.username, 'M1x-secret-not');
    const wrongAuthorization = basic(mixUser.username, 'not-the-password-1');

    const bare = await startProcess(['bench/bareServer.mjs'], { PORT: String(await freePort()), NODE_ENV: 'production' }, /listening on port (\d+)/);
    children.push(bare.child);
    const bareAsGateway = await startProcess(
      ['bench/bareServer.mjs'],
      { PORT: String(await freePort()), NODE_ENV: 'production', BARE_SERVER: 'gateway' },
      /listening on port (\d+)/,
    );
    children.push(bareAsGateway.child);
    const gateway = await startProcess(
      // As npm start runs it (see package.json): a bounded old space keeps RSS flat.
      ['--max-old-space-size=160', 'dist/server.js'],
      { PORT: String(await freePort()), NODE_ENV: 'production', MONGODB_URI: database.uri, BCRYPT_COST, LOG_LEVEL: 'info', METRICS_TOKEN },
      /listening on port (\d+)/,
    );
    children.push(gateway.child);
    const gatewayUrl = `http://127.0.0.1:${gateway.port}`;
    const soapBody =
      '<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">' +
      '<soap:Body><GetCurrentAccountInfo xmlns="urn:dualgate:v2"/></soap:Body></soap:Envelope>';
    // Exactly 1 request in 100 on each connection carries a wrong password, at a place of
    // its own on each, so that the wrong ones are spread in time as in real traffic (32 at
    // the very same instant would be five consecutive failures, and lock the user).
    const mix: autocannon.Request[] = [
      {
        method: 'GET' as const,
        path: '/v2/account-info',
        setupRequest: (request: autocannon.Request, context: { sent?: number }) => {
          const sent = (context.sent ?? Math.floor(Math.random() * 100)) + 1;
          context.sent = sent;
          return { ...request, headers: { authorization: sent % 100 === 0 ? wrongAuthorization : mixAuthorization } };
        },
      },
    ];

    // Warm-up: JIT, connection pools, the credential cache.
    await autocannon({ url: `${gatewayUrl}/v2/account-info`, headers: { authorization }, connections: 4, duration: 2 });
    await autocannon({ url: `${gatewayUrl}/v2/account-info`, headers: { authorization: mixAuthorization }, connections: 4, duration: 1 });
    await autocannon({ url: `http://127.0.0.1:${bare.port}/ping`, connections: 4, duration: 2 });
    await autocannon({ url: `http://127.0.0.1:${bareAsGateway.port}/ping`, connections: 4, duration: 2 });

    const holds: number[] = [];
    for (let i = 0; i < 3; i++) {
      const started = performance.now();
      await fetch(`${gatewayUrl}/v2/account-info`, { headers: { authorization: basic(holdUser.username, 'not-the-password-2') } });
      holds.push((performance.now() - started) / 1000);
    }
    const holdSeconds = [...holds].sort((x, y) => x - y)[1]!;

    const runs: Scenario[] = [];
    const run = async (scenario: Promise<Scenario>) => {
      const result = await scenario;
      runs.push(result);
      console.error(`  ${result.label}: ${result.requestsPerSecond} req/s, p50 ${result.p50} ms, p99 ${result.p99} ms`);
    };
    for (let round = 1; round <= ROUNDS; round++) {
      console.error(`Round ${round} of ${ROUNDS}: each scenario for ${DURATION} s with ${CONNECTIONS} connections...`);
      await run(drive('a', 'a) bare Express JSON', bare.child, { url: `http://127.0.0.1:${bare.port}/ping` }));
      await run(drive('a′', 'a′) the same, on the gateway\'s HTTP server', bareAsGateway.child, { url: `http://127.0.0.1:${bareAsGateway.port}/ping` }));
      await run(drive('b', 'b) REST account-info', gateway.child, { url: `${gatewayUrl}/v2/account-info`, headers: { authorization } }));
      await run(
        drive('c', 'c) SOAP GetCurrentAccountInfo', gateway.child, {
          url: `${gatewayUrl}/v2/api.svc`,
          method: 'POST',
          headers: { authorization, 'content-type': 'text/xml; charset=utf-8', soapaction: '"urn:dualgate:v2/ApiService/GetCurrentAccountInfo"' },
          body: soapBody,
        }),
      );
      await run(drive('d', 'd) REST, 1 in 100 wrong password', gateway.child, { url: gatewayUrl, requests: mix }));
    }
    const scenarios = ['a', 'a′', 'b', 'c', 'd'].map((name) => medianOf(runs.filter((scenario) => scenario.name === name)));

    let manyUsers: ManyUsersResults | undefined;
    if (MANY_USERS.length > 0) {
      console.error(`Many integrations: ${MANY_USERS.join(', ')} users never seen before, then warm; one integration beside 1,000 newcomers...`);
      // The bench's own set-up (thousands of users written at once), not a measured call: it
      // may wait for the database as long as that takes while the gateway keeps it busy.
      const manyConnection = await connectDatabase(database.uri, { operationTimeoutMs: 120_000 });
      try {
        manyUsers = await runManyUsers(config, manyConnection, {
          url: gatewayUrl,
          metrics: async () => (await fetch(`${gatewayUrl}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })).text(),
          // The main thread's id is the process's.
          servingThreadCpuMicros: () => cpuMicrosOf(gateway.child.pid!, gateway.child.pid!),
          gatewayCpuMicros: () => cpuMicrosOf(gateway.child.pid!),
          databaseCpuMicros: () => (database.pid === undefined ? undefined : cpuMicrosOf(database.pid)),
          authorization,
          connections: CONNECTIONS,
          durationSeconds: DURATION,
          rounds: ROUNDS,
        }, MANY_USERS);
      } finally {
        await manyConnection.close();
      }
    }
    // After everything: the database answers management at once, and /readyz says so.
    const managementStarted = performance.now();
    const management = await fetch(`${gatewayUrl}/v2/api-users?select=10`, { headers: { authorization } });
    const afterwards = { managementStatus: management.status, managementMs: Math.round(performance.now() - managementStarted), readyz: (await fetch(`${gatewayUrl}/readyz`)).status };

    let soak: { seconds: number; rssMb: number[]; firstTenAvgMb: number; lastTenAvgMb: number } | undefined;
    if (SOAK > 0) {
      const samples: number[] = [];
      const sampler = setInterval(() => samples.push(Math.round(memoryOf(gateway.child.pid!).rssMb)), 1000);
      await autocannon({ url: `${gatewayUrl}/v2/account-info`, headers: { authorization }, connections: CONNECTIONS, duration: SOAK });
      clearInterval(sampler);
      const average = (values: number[]) => Math.round(values.reduce((sum, value) => sum + value, 0) / Math.max(1, values.length));
      soak = { seconds: SOAK, rssMb: samples, firstTenAvgMb: average(samples.slice(0, 10)), lastTenAvgMb: average(samples.slice(-10)) };
    }

    const memory = memoryOf(gateway.child.pid!);
    const byName = Object.fromEntries(scenarios.map((scenario) => [scenario.name, scenario]));
    const ratio = (x: string, y: string) => Math.round((byName[x]!.requestsPerSecond / byName[y]!.requestsPerSecond) * 100) / 100;
    const results = {
      date: new Date().toISOString(),
      machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? 'unknown', memoryGb: Math.round(totalmem() / 2 ** 30), node: process.version },
      settings: { durationSeconds: DURATION, connections: CONNECTIONS, rounds: ROUNDS, bcryptCost: Number(BCRYPT_COST) },
      scenarios,
      runs,
      ratios: { 'b/a': ratio('b', 'a'), 'c/a': ratio('c', 'a'), 'd/b': ratio('d', 'b'), 'b/a′': ratio('b', 'a′'), 'c/a′': ratio('c', 'a′') },
      refusalHoldMs: Math.round(holdSeconds * 1000),
      // Little's law: refusals per second × how long each holds its connection.
      connectionsWaitingOutRefusalsInD: Math.round((byName.d!.requestsPerSecond / 100) * holdSeconds * 10) / 10,
      gateway: { peakRssMb: Math.round(memory.peakMb), rssMbAtEnd: Math.round(memory.rssMb) },
      ...(manyUsers ? { manyUsers } : {}),
      afterwards,
      ...(manyUsers ? { targets: checkTargets(manyUsers, afterwards) } : {}),
      gatewayWarningsAndErrors: problems,
      ...(soak ? { soak } : {}),
    };

    if (MARKDOWN) console.log(`### ${results.date.slice(0, 10)}: ${results.machine.cpus} × ${results.machine.cpuModel}, ${results.machine.memoryGb} GB, Node ${results.machine.node}\n`);
    console.log('');
    console.log(`Medians of ${ROUNDS} rounds of ${DURATION} s, ${CONNECTIONS} connections, BCRYPT_COST=${BCRYPT_COST}; ${results.machine.cpus} × ${results.machine.cpuModel}`);
    console.log('');
    console.log('| scenario | req/s | p50 ms | p99 ms | server CPU µs/call | non-2xx (all rounds) | errors |');
    console.log('|---|---:|---:|---:|---:|---:|---:|');
    for (const scenario of scenarios) {
      console.log(
        `| ${scenario.label} | ${scenario.requestsPerSecond} | ${scenario.p50} | ${scenario.p99} | ${scenario.cpuMicrosPerCall} | ${scenario.non2xx} | ${scenario.errors} |`,
      );
    }
    console.log('');
    const note = (text: string) => console.log(MARKDOWN ? `- ${text}` : text);
    note(
      `(a refusal is held ${Math.round(holdSeconds * 1000)} ms: in (d), ${results.connectionsWaitingOutRefusalsInD} of the ${CONNECTIONS} connections were on average waiting one out: see bench/run.ts)`,
    );
    note(`b/a ${results.ratios['b/a']}   c/a ${results.ratios['c/a']}   d/b ${results.ratios['d/b']}   gateway peak RSS ${results.gateway.peakRssMb} MB`);
    note(`against a′ (the gateway's own HTTP server): b/a′ ${results.ratios['b/a′']}   c/a′ ${results.ratios['c/a′']}`);
    if (manyUsers) printManyUsers(manyUsers);
    note(`afterwards: a management read answered ${afterwards.managementStatus} in ${afterwards.managementMs} ms; /readyz ${afterwards.readyz}`);
    const problemLines = Object.entries(problems).map(([key, count]) => `${count} × ${key}`);
    note(`the gateway logged ${problemLines.length === 0 ? 'no warning or error' : problemLines.join('; ')}`);
    if (manyUsers) note(`calls of the cold storms sent again on a new connection, the kept-alive one having been closed by the gateway: ${callsResentOnClosedConnections()}`);
    if (soak) note(`soak ${soak.seconds} s: RSS first 10 s ${soak.firstTenAvgMb} MB, last 10 s ${soak.lastTenAvgMb} MB`);
    if (results.targets) {
      console.log('');
      console.log(`Against issue #11's targets: ${results.targets.filter((check) => check.met).length} of ${results.targets.length} met`);
      console.log('');
      for (const { target, measured, met } of results.targets) console.log(`- ${met ? 'met' : '**missed**'}: ${target}: ${measured}`);
    }
    writeFileSync(join(ROOT, 'bench', 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
  } finally {
    stopping = true;
    for (const child of children) child.kill('SIGTERM');
    await Promise.all(children.map((child) => new Promise((resolve) => (child.exitCode !== null ? resolve(null) : child.once('exit', resolve)))));
    await database.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

const dashForNaN = (value: number) => (Number.isNaN(value) ? '—' : String(value));

/** Answers by status as "200: 100, 503: 18". */
function statusCountsText(counts: Record<string, number>): string {
  return Object.entries(counts)
    .map(([status, count]) => `${status}: ${count}`)
    .join(', ');
}

function printManyUsers(many: ManyUsersResults): void {
  console.log('');
  console.log(`Many integrations (bcrypt ceiling measured here: ${many.comparesPerSecondCeiling} compares/s; one user warm at the start: ${many.oneUserWarm.requestsPerSecond} req/s, p99 ${many.oneUserWarm.p99} ms, ${many.oneUserWarm.databaseOperationsPerCall} database operations per call)`);
  console.log('');
  console.log(
    '| users never seen before (hash cost) | all served in s | compares/s | of ceiling around it | ceiling right before, after | of ceiling at the start | bcrypt slots at work | answers while getting there | one user right before, after: req/s | warm req/s | warm / one user around it (rounds) | warm p99 ms (at most) | db operations per call: warm (one user before, after) | the same / one user around it (rounds) |',
  );
  console.log('|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|');
  for (const row of many.cold) {
    const answers = statusCountsText(row.statusCounts) + (row.badAnswers > 0 ? ` (${row.badAnswers} not 200/503+Retry-After)` : '');
    // The figures of the round whose ratio is the median; the ratios are the rounds' medians.
    const { aloneBefore, warm, aloneAfter, ratio, operationsRatio, worstP99, rounds } = row.warm;
    const ofRounds = (ratioOf: (round: WarmRound) => number) => rounds.map((round) => dashForNaN(ratioOf(round))).join(', ');
    console.log(
      `| ${row.users} (${row.cost}) | ${row.secondsUntilAllServed} | ${row.comparesPerSecond} | ${dashForNaN(row.ofCeiling)} | ${Number.isNaN(row.ceilingBefore) ? '—' : `${row.ceilingBefore}, ${row.ceilingAfter}`} | ${dashForNaN(row.ofStartCeiling)} | ${row.bcryptSlotsBusy} | ${answers} | ` +
        `${aloneBefore.requestsPerSecond}, ${aloneAfter.requestsPerSecond} | ${warm.requestsPerSecond} | ${ratio} (${ofRounds((round) => round.ratio)}) | ${warm.p99} (${worstP99}) | ` +
        `${warm.databaseOperationsPerCall} (${aloneBefore.databaseOperationsPerCall}, ${aloneAfter.databaseOperationsPerCall}) | ${dashForNaN(operationsRatio)} (${ofRounds((round) => round.operationsRatio)}) |`,
    );
  }
  for (const row of many.cold) {
    const { aloneBefore, warm, aloneAfter, statusCounts } = row.warm;
    console.log(
      `- the ${row.users} warm, in the round of the median: the serving thread's CPU per call ${warm.servingThreadCpuMicrosPerCall} µs, against ${aloneBefore.servingThreadCpuMicrosPerCall} and ${aloneAfter.servingThreadCpuMicrosPerCall} µs for one user before and after; ` +
        `every answer of their warm windows and of the one user's around them: ${statusCountsText(statusCounts)}`,
    );
  }
  for (const row of many.cold) {
    const { gatewayOtherThreads, servingThread, database, loadGenerator, rest, idle } = row.cores;
    console.log(
      `- where the cores went while the ${row.users} were getting there (CPU seconds a second): the gateway's bcrypt threads and V8's helpers ${gatewayOtherThreads}, its serving thread ${servingThread}, ` +
        `the database ${database ?? 'not measured'}, the load generator ${loadGenerator}, the rest of the machine ${rest}, idle ${idle}`,
    );
  }
  const storm = many.duringStorm;
  console.log('');
  console.log(
    `f) one warm integration, the median of ${storm.rounds.length} rounds of windows side by side: alone ${storm.alone.requestsPerSecond} req/s (p99 ${storm.alone.p99} ms) before and ${storm.aloneAfter.requestsPerSecond} after; ` +
      `beside 1,000 newcomers ${storm.withStorm.requestsPerSecond} req/s (p99 ${storm.withStorm.p99} ms; at most ${storm.worstP99} ms in any round): ${storm.ratio} of alone around it ` +
      `(rounds: ${storm.rounds.map((round) => round.ratio).join(', ')}); ${storm.stormServed} newcomers served meanwhile`,
  );
  console.log(
    `- the gateway in that round: its serving thread busy ${storm.alone.servingThreadBusy} of the time alone, ${storm.withStorm.servingThreadBusy} beside the newcomers, with ${storm.withStorm.bcryptSlotsBusy} bcrypt slots at work on average; ` +
      `its CPU per call ${storm.alone.servingThreadCpuMicrosPerCall} µs alone, ${storm.withStorm.servingThreadCpuMicrosPerCall} µs beside the newcomers ` +
      `(${storm.aloneForBound.servingThreadCpuMicrosPerCall} µs alone before and ${storm.besideOutsideCompares.servingThreadCpuMicrosPerCall} µs beside the outside compares in the round of the median bound)`,
  );
  console.log(
    `- the machine's bound for that ratio: the same integration beside one nice-19 bcrypt loop per core outside the gateway, ${storm.besideOutsideCompares.requestsPerSecond} req/s (p99 ${storm.besideOutsideCompares.p99} ms) against ${storm.aloneForBound.requestsPerSecond} and ${storm.aloneAfterBound.requestsPerSecond} alone before and after: ${storm.machineBound} of alone around it (rounds: ${storm.rounds.map((round) => round.machineBound).join(', ')})`,
  );
  console.log(`- every answer of (f), the integration's and the newcomers': ${statusCountsText(storm.statusCounts)} (${storm.badAnswers} neither 200 nor, to a newcomer, 503 with Retry-After)`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
