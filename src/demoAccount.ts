import { Types } from 'mongoose';
import { isDuplicateKey } from './db/connection.js';
import type { Accounts } from './domain/accounts.js';

/**
 * The Demo account's id, the same in every process: of replicas that start together on an
 * empty database, each finding no account, one creates it and the others' inserts fail as
 * duplicates, so there is one Demo account and one password printed.
 */
export const DEMO_ACCOUNT_ID = new Types.ObjectId('000000000000000000000001');

/**
 * On a database without any account, creates the "Demo" account so that a fresh `npm start`
 * can be called at once. Its owner's password is shown this once and stored only as a hash.
 */
export async function createDemoAccountIfEmpty(accounts: Accounts, print: (line: string) => void): Promise<boolean> {
  if ((await accounts.count()) > 0) return false;
  const created = await accounts.create({ name: 'Demo', mainEmail: 'demo@example.com' }, undefined, DEMO_ACCOUNT_ID).catch(async (error: unknown) => {
    // Another process made it first: the account is there. (A duplicate of something else, the
    // owner's username, left no account behind: that is a failure to start with.)
    if (isDuplicateKey(error) && (await accounts.findById(DEMO_ACCOUNT_ID))) return null;
    throw error;
  });
  if (!created) return false;
  print('Created the "Demo" account. Its owner API user (shown once; keep the password):');
  print(`username: ${created.owner.username}`);
  print(`password: ${created.password}`);
  return true;
}
