// Many API users at once, written straight to the database with one precomputed hash (the
// bench and the tests that need hundreds of users; each still costs its own compare to log in).
import { Types } from 'mongoose';
import type { Database } from '../../src/db/connection.js';
import { generateUsername } from '../../src/domain/generatedSecrets.js';

export async function insertApiUsers(
  database: Database,
  accountId: string | Types.ObjectId,
  count: number,
  passwordHash: string,
  usernameDomain = 'dualgate.local',
): Promise<string[]> {
  const now = new Date();
  const users = Array.from({ length: count }, (_, index) => ({
    _id: new Types.ObjectId(),
    accountId: new Types.ObjectId(accountId),
    username: generateUsername(usernameDomain),
    description: `integration ${index}`,
    passwordHash,
    enabled: true,
    canManageAccount: false,
    isOwner: false,
    unlockedAt: now,
    created: now,
    deletedAt: null,
    pendingAudit: [],
  }));
  for (let start = 0; start < users.length; start += 1000) {
    const batch = users.slice(start, start + 1000);
    await database.models.Username.insertMany(batch.map((user) => ({ _id: user.username, userId: user._id })), { ordered: false });
    await database.models.ApiUser.insertMany(batch, { ordered: false });
  }
  return users.map((user) => user.username);
}
