// A bulk write sent as several commands of at most MAX_UPDATES_PER_COMMAND statements each.
//
// Why: FerretDB 1.x (SQLite backend) runs the statements of one `update` command in a loop
// that defers closing each statement's read cursor to the end of the whole command (`defer
// closer.Close()` inside the loop of updateDocument, internal/handler/msg_update.go, v1.24.2). Every
// statement that matches an existing document keeps one of the database's 100 SQLite
// connections checked out until the command ends, and the statement that needs the 101st
// waits for it forever, holding the other 100: from then on every request to that database
// waits for a connection (`database/sql.(*DB).conn` in its stack dump) and FerretDB never
// recovers, although `ping` still answers. 99 matching statements in one command pass,
// 101 hang. A burst of new API users reaches this through the last-used flush (one upsert
// per user, all matching from the second flush on). Commands of a few dozen statements keep
// far below the pool, also with a gateway's other commands in flight; on MongoDB they cost a
// round trip per batch, nothing else.
import type { Model } from 'mongoose';

/** Statements per command: far below FerretDB's 100 SQLite connections per database. */
export const MAX_UPDATES_PER_COMMAND = 32;

type BulkOperations<T> = Parameters<Model<T>['bulkWrite']>[0];

export async function boundedBulkWrite<T>(model: Model<T>, operations: BulkOperations<T>): Promise<void> {
  // One command after the other: concurrent ones would hold connections side by side again.
  for (let start = 0; start < operations.length; start += MAX_UPDATES_PER_COMMAND) {
    await model.bulkWrite(operations.slice(start, start + MAX_UPDATES_PER_COMMAND), { ordered: false });
  }
}
