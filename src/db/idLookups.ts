// Whether the database reads a whole collection to find a document by _id.
//
// Stock FerretDB 1.24 does, on its SQLite backend: it indexes `_id` as `_ferretdb_sjson->"_id"`
// but looks documents up by `_ferretdb_sjson->'$._id'`, which SQLite does not match to that
// index (its plan says `SCAN`). Every read and update the gateway makes by key then costs time
// in proportion to the collection: with thousands of API users, a burst of new ones is served
// at a fraction of the bcrypt rate. scripts/build-ferretdb.sh builds FerretDB with the lookup
// using the index; a gateway pointed at a stock one says so at start (see server.ts).
import type { Database } from './connection.js';

/** What FerretDB's explain answers (MongoDB's has no `Plan`, and never scans for an _id equality). */
interface FerretDbExplain {
  queryPlanner?: { Plan?: unknown };
  serverInfo?: { ferretdbVersion?: string };
}

/** The FerretDB version when its lookups by _id scan the collection; null when they use an index. */
export async function idLookupsScanOn(database: Database): Promise<string | null> {
  const db = database.connection.db;
  if (!db) return null;
  const explained = (await db.command({
    explain: { find: database.models.Username.collection.collectionName, filter: { _id: '' } },
    verbosity: 'queryPlanner',
  })) as FerretDbExplain;
  const plan = explained.queryPlanner?.Plan;
  const version = explained.serverInfo?.ferretdbVersion;
  if (!version || !Array.isArray(plan)) return null;
  return plan.some((step) => typeof step === 'string' && /\bSCAN\b/.test(step)) ? version : null;
}
