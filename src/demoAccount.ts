import type { Accounts } from './domain/accounts.js';

/**
 * On a database without any account, creates the "Demo" account so that a fresh `npm start`
 * can be called at once. Its owner's password is shown this once and stored only as a hash.
 */
export async function createDemoAccountIfEmpty(accounts: Accounts, print: (line: string) => void): Promise<boolean> {
  if ((await accounts.count()) > 0) return false;
  const { owner, password } = await accounts.create({ name: 'Demo', mainEmail: 'demo@example.com' });
  print('Created the "Demo" account. Its owner API user (shown once; keep the password):');
  print(`username: ${owner.username}`);
  print(`password: ${password}`);
  return true;
}
