// The change rows every gateway process polls (db/models.ts, AuthChangeRecord): on hearing of
// one, a process forgets what it knew of the user, or of every user of the account, and reads
// it anew on its next call.
import { Types } from 'mongoose';
import type { Models } from '../db/models.js';

/** A user's change (with its username, so that only that user's reads are discarded), or an account's. */
export interface AuthChangeSubject {
  accountId: Types.ObjectId;
  user: { _id: Types.ObjectId; username: string } | null;
}

export async function announceAuthChange(models: Models, { accountId, user }: AuthChangeSubject): Promise<void> {
  await models.AuthChange.collection.insertOne({
    _id: new Types.ObjectId(),
    at: new Date(),
    accountId,
    userId: user ? user._id : null,
    username: user ? user.username : null,
  });
}
