// npm run bench:scale: what authentication, GetApiUsers and GetAuditEvents (first pages) and
// every process's auth-state poll cost on an empty database and on one holding many accounts,
// API users and audit events (SCALE_ACCOUNTS, default 10,000, with SCALE_USERS_PER_ACCOUNT 10
// and SCALE_EVENTS_PER_ACCOUNT 100: 100,000 users and 1,000,000 events), each user with the
// row of a wrong password it once made, measured at the domain layer (the queries themselves,
// no HTTP), with the database's `explain` of each listing and lookup. On the embedded database
// (FerretDB) unless MONGODB_URI names another.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Types } from 'mongoose';
import { AuthStateCache } from '../src/auth/authStateCache.js';
import { createServices } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { connectDatabase, type Database } from '../src/db/connection.js';
import { startDatabaseServer } from '../src/db/databaseServer.js';
import { COMMAND_LINE } from '../src/domain/auditTrail.js';
import { clockMinute } from '../src/domain/clockMinutes.js';
import { generateUsername } from '../src/domain/generatedSecrets.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const ACCOUNTS = Number(process.env.SCALE_ACCOUNTS ?? 10_000);
const USERS_PER_ACCOUNT = Number(process.env.SCALE_USERS_PER_ACCOUNT ?? 10);
const EVENTS_PER_ACCOUNT = Number(process.env.SCALE_EVENTS_PER_ACCOUNT ?? 100);
/** Runs per figure (a FerretDB built without scripts/ferretdb/ scans for seconds each: SCALE_SAMPLES=1 there). */
const SAMPLES_EMPTY = 20;
/** What the bench lists: the first page, as large as the contract allows. */
const FIRST_PAGE = { select: 1000, skip: 0 };
const SAMPLES_FULL = Number(process.env.SCALE_SAMPLES ?? 20);

type Timings = Record<'authentication' | 'getApiUsers' | 'getAuditEvents' | 'getAuditEventsOfUser' | 'authStatePoll', number>;

/** Median ms of `samples` runs. */
async function medianMs(samples: number, run: () => Promise<unknown>): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < samples; i++) {
    const started = performance.now();
    await run();
    times.push(performance.now() - started);
  }
  times.sort((x, y) => x - y);
  return Math.round(times[Math.floor(times.length / 2)]! * 100) / 100;
}

async function main(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'dualgate-scale-'));
  const server = await startDatabaseServer({ mongodbUri: process.env.MONGODB_URI, dataDir, databaseName: 'scale' });
  const database = await connectDatabase(server.uri, { operationTimeoutMs: 600_000 }); // FerretDB's scans of a full database take minutes
  try {
    const config = loadConfig({ BCRYPT_COST: '4' });
    const { accounts, apiUsers, auditTrail, loginActivity } = createServices(config, database);
    const { account, owner } = await accounts.create({ name: 'Measured Co', mainEmail: 'measured@example.com' });
    let newest = owner.username;
    for (let i = 0; i < USERS_PER_ACCOUNT - 1; i++) newest = (await apiUsers.create(account, { description: `shop ${i}`, password: `Shop-${i}-secret` }, COMMAND_LINE)).username;
    // The measured account holds as many events as every other one.
    await database.models.AuditEvent.collection.insertMany(eventsOf(account._id, Date.now()) as never[]);
    const ownerId = owner._id.toHexString();
    // TTL 0: every get() is the read a user's first call makes. It is made for the newest user,
    // whose documents were written last: a database that scans for a lookup by _id (a stock
    // FerretDB: see src/db/indexedLookups.ts) finds the oldest ones at once and these at the end.
    const states = new AuthStateCache(database.models, loginActivity, config.LOCKOUT_THRESHOLD, 0, 0);
    // What every process does three times a second once it serves calls, holding one state.
    const polling = new AuthStateCache(database.models, loginActivity, config.LOCKOUT_THRESHOLD, 1000, 100);
    await polling.get(owner.username);
    polling.close();
    const measure = async (samples: number): Promise<Timings> => ({
      authentication: await medianMs(samples, () => states.get(newest)),
      // The page, and what GetApiUsers reads for it (wrong passwords and last uses of its users).
      getApiUsers: await medianMs(samples, async () => loginActivity.summaries(await apiUsers.list(account._id, FIRST_PAGE))),
      getAuditEvents: await medianMs(samples, () => auditTrail.list(account._id, FIRST_PAGE)),
      getAuditEventsOfUser: await medianMs(samples, () => auditTrail.list(account._id, FIRST_PAGE, ownerId)),
      authStatePoll: await medianMs(samples, () => polling.poll()),
    });
    const empty = await measure(SAMPLES_EMPTY);
    console.error(`empty: ${JSON.stringify(empty)}; seeding ${ACCOUNTS} accounts...`);
    const seedStarted = performance.now();
    await seed(database, ACCOUNTS);
    console.error(`seeded in ${Math.round((performance.now() - seedStarted) / 1000)} s`);
    newest = (await apiUsers.create(account, { description: 'after the seed', password: 'Late-shop-secret-1' }, COMMAND_LINE)).username;
    const full = { ...(await measure(SAMPLES_FULL)), authentication: await medianMs(SAMPLES_EMPTY, () => states.get(newest)) };
    const explains = {
      authentication: await database.models.Username.find({ _id: newest }).explain(),
      // The listings' own queries, without their skip of 0: FerretDB's explain refuses a 32-bit
      // skip (it wants a long), which its find takes.
      getApiUsers: await apiUsers.listQuery(account._id, FIRST_PAGE).setOptions({ skip: undefined }).explain(),
      getAuditEvents: await auditTrail.listQuery(account._id, FIRST_PAGE).setOptions({ skip: undefined }).explain(),
      getAuditEventsOfUser: await auditTrail.listQuery(account._id, FIRST_PAGE, ownerId).setOptions({ skip: undefined }).explain(),
    };
    const ratios = Object.fromEntries(Object.entries(full).map(([name, ms]) => [name, Math.round((ms / Math.max(0.01, empty[name as keyof Timings])) * 10) / 10]));
    const results = {
      date: new Date().toISOString(),
      database: server.kind,
      data: { accounts: ACCOUNTS + 1, apiUsers: (ACCOUNTS + 1) * USERS_PER_ACCOUNT, auditEvents: ACCOUNTS * EVENTS_PER_ACCOUNT, loginFailures: ACCOUNTS * USERS_PER_ACCOUNT },
      emptyMs: empty,
      fullMs: full,
      ratios,
      explains,
    };
    console.log(`| query (first page) | empty database ms | ${results.data.apiUsers} users, ${results.data.auditEvents} events ms | ratio |`);
    console.log('|---|---:|---:|---:|');
    for (const name of Object.keys(empty) as (keyof Timings)[]) console.log(`| ${name} | ${empty[name]} | ${full[name]} | ${ratios[name]} |`);
    writeFileSync(join(ROOT, 'bench', 'scale-results.json'), `${JSON.stringify(results, null, 2)}\n`);
  } finally {
    await database.close();
    await server.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** Accounts of USERS_PER_ACCOUNT users and EVENTS_PER_ACCOUNT events each, written in bulk. */
async function seed(database: Database, count: number): Promise<void> {
  const hash = '$2b$04$C6UzMDM.H6dfI/f/IKxGhuJ2PiVkiYbSVpV5QZo3AvsX6DpA0iDZm';
  const batch = 500;
  for (let start = 0; start < count; start += batch) {
    const ids = Array.from({ length: Math.min(batch, count - start) }, () => new Types.ObjectId());
    const now = Date.now();
    await database.models.Account.collection.insertMany(
      ids.map((_id, index) => ({ _id, name: `Company ${start + index}`, mainEmail: 'x@example.com', disabled: false, apiCallsPerHour: 2000, locale: 'en-GB', usersLockedAt: null, created: new Date(now), pendingAudit: [] })),
    );
    const users = ids.flatMap((accountId) =>
      Array.from({ length: USERS_PER_ACCOUNT }, (_, index) => ({
        _id: new Types.ObjectId(),
        accountId,
        username: generateUsername('dualgate.local'),
        description: `integration ${index}`,
        passwordHash: hash,
        enabled: true,
        canManageAccount: false,
        isOwner: false,
        unlockedAt: new Date(now),
        created: new Date(now),
        deletedAt: null,
        pendingAudit: [],
      })),
    );
    await database.models.Username.collection.insertMany(users.map((user) => ({ _id: user.username, userId: user._id })) as never[], { ordered: false });
    await database.models.ApiUser.collection.insertMany(users, { ordered: false });
    await database.models.AuditEvent.collection.insertMany(ids.flatMap((accountId) => eventsOf(accountId, now)) as never[], { ordered: false });
    // The wrong password each once made, a day ago: the latest row of a user is kept for good.
    const dayAgo = now - 86_400_000;
    await database.models.LoginFailure.collection.insertMany(
      users.map((user) => ({ userId: user._id, at: new Date(dayAgo), minute: clockMinute(dayAgo) })),
      { ordered: false },
    );
    if ((start / batch) % 4 === 0) console.error(`  ${start + ids.length} of ${count} accounts`);
  }
}

/** EVENTS_PER_ACCOUNT of an account's events, a second apart, the newest at `now`. */
function eventsOf(accountId: Types.ObjectId, now: number) {
  return Array.from({ length: EVENTS_PER_ACCOUNT }, (_, index) => ({
    _id: `${accountId.toHexString()}-${index}`,
    accountId,
    at: new Date(now - index * 1000),
    type: 'ApiUserUpdated',
    actorId: null,
    actorUsername: '(command line)',
    clientIp: null,
    details: 'description="seeded"',
    targetId: null,
    targetUsername: null,
  }));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
