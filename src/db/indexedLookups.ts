// Whether the database reads a whole collection where the gateway looks documents up by key.
//
// Stock FerretDB 1.24 does, on its SQLite backend, in two ways (docs/operations.md, "FerretDB's
// SQLite backend and indexes"): it indexes `_id` as `_ferretdb_sjson->"_id"` but looks documents
// up by `_ferretdb_sjson->'$._id'`, which SQLite does not match to that index; and it hands
// SQLite no other filter at all, so no other index is used. Authentication then slows with the
// number of API users, and listing an account's users or events with the whole database.
// scripts/build-ferretdb.sh builds FerretDB with both fixed; a gateway pointed at another build
// says so at start (see server.ts).
import type { Database } from './connection.js';

/** What FerretDB's explain answers (MongoDB's has no `Plan`, and uses the indexes for these). */
interface FerretDbExplain {
  queryPlanner?: { Plan?: unknown };
  serverInfo?: { ferretdbVersion?: string };
}

/** The FerretDB version when a lookup by _id, or by an indexed field, scans; null when both use an index. */
export async function lookupsScanOn(database: Database): Promise<string | null> {
  const db = database.connection.db;
  if (!db) return null;
  const { Username, ApiUser } = database.models;
  const lookups = [
    { find: Username.collection.collectionName, filter: { _id: '' } },
    { find: ApiUser.collection.collectionName, filter: { accountId: '' } },
  ];
  for (const lookup of lookups) {
    const explained = (await db.command({ explain: lookup, verbosity: 'queryPlanner' })) as FerretDbExplain;
    const plan = explained.queryPlanner?.Plan;
    const version = explained.serverInfo?.ferretdbVersion;
    if (!version || !Array.isArray(plan)) return null;
    if (plan.some((step) => typeof step === 'string' && /\bSCAN\b/.test(step))) return version;
  }
  return null;
}
