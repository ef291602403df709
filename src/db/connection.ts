// One mongoose connection per gateway, failing fast instead of buffering: while the database
// is away a call must answer 503 within seconds, not wait for it.
import mongoose, { type Connection } from 'mongoose';
import { bindModels, type Models } from './models.js';

export interface Database {
  connection: Connection;
  models: Models;
  close(): Promise<void>;
}

export async function connectDatabase(uri: string): Promise<Database> {
  const connection = mongoose.createConnection(uri, {
    serverSelectionTimeoutMS: 1500, // a call while the database is away answers 503 within it
    connectTimeoutMS: 1500,
    socketTimeoutMS: 10_000,
    bufferCommands: false,
    autoIndex: false,
    maxPoolSize: 20,
  });
  await connection.asPromise();
  const models = bindModels(connection);
  // Indexes are created once here (not lazily), so a missing unique index is a startup error.
  await Promise.all(Object.values(models).map((model) => model.createIndexes()));
  return {
    connection,
    models,
    close: () => connection.close(),
  };
}

const unavailableErrorNames = new Set([
  'MongoServerSelectionError',
  'MongooseServerSelectionError',
  'MongoNetworkError',
  'MongoNetworkTimeoutError',
  'MongoNotConnectedError',
  'MongoTopologyClosedError',
  'MongoPoolClosedError',
  'MongoPoolClearedError',
]);

/** Whether an error means "the database cannot be reached" (503) rather than a bug (500). */
export function isDatabaseUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if (unavailableErrorNames.has(error.name)) return true;
  // mongoose with bufferCommands off refuses commands while disconnected with a plain Error.
  if (/Cannot call `.+` before initial connection is complete|Client must be connected/.test(error.message)) return true;
  const label = (error as { hasErrorLabel?: (label: string) => boolean }).hasErrorLabel;
  return typeof label === 'function' && label.call(error, 'ResetPool');
}

/** Whether an error is a duplicate key (E11000) from a unique index or _id. */
export function isDuplicateKey(error: unknown): boolean {
  return error instanceof Error && (error as { code?: unknown }).code === 11000;
}
