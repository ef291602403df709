// Checking an API user's credentials. Every refusal looks the same to the caller; each path
// costs one bcrypt compare, so that timing does not tell an unknown user from a wrong password.
import type { AccountRecord, ApiUserRecord, Models } from '../db/models.js';
import { lockReasonOf } from '../domain/lockState.js';
import type { PasswordHasher } from '../domain/passwords.js';

export interface Caller {
  user: ApiUserRecord;
  account: AccountRecord;
}

/** Longer credentials than any real one are refused before any work is spent on them. */
export const MAX_USERNAME_LENGTH = 256;
export const MAX_PASSWORD_LENGTH = 1024;

export class CredentialVerifier {
  constructor(
    private readonly models: Models,
    private readonly hasher: PasswordHasher,
    private readonly lockoutThreshold: number,
  ) {}

  async verify(username: string, password: string): Promise<Caller | null> {
    if (username.length > MAX_USERNAME_LENGTH || password.length > MAX_PASSWORD_LENGTH) return null;
    const user = await this.models.ApiUser.findOne({ username }).lean<ApiUserRecord>().exec();
    if (!user) return this.hasher.verifyNobody(password).then(() => null);
    const [passwordMatches, account] = await Promise.all([
      this.hasher.verify(password, user.passwordHash),
      this.models.Account.findById(user.accountId).lean<AccountRecord>().exec(),
    ]);
    if (!passwordMatches) {
      await this.recordFailure(user);
      return null;
    }
    if (!account || account.disabled || !user.enabled) return null;
    if (lockReasonOf(user, account, this.lockoutThreshold) !== null) return null;
    await this.recordSuccess(user, password);
    return { user, account };
  }

  /**
   * One atomic increment: concurrent wrong passwords, in any number of processes, each add
   * one, and the user is locked from the threshold on (the lock is derived from the count).
   */
  private async recordFailure(user: ApiUserRecord): Promise<void> {
    await this.models.ApiUser.updateOne(
      { _id: user._id },
      { $inc: { failedLoginCount: 1 }, $set: { lastFailedLogin: new Date() } },
    ).exec();
  }

  private async recordSuccess(user: ApiUserRecord, password: string): Promise<void> {
    // The count is reset only below the threshold: a lock reached meanwhile is not undone.
    const filter =
      user.failedLoginCount > 0 ? { _id: user._id, failedLoginCount: { $lt: this.lockoutThreshold } } : { _id: user._id };
    const set = user.failedLoginCount > 0 ? { lastUsed: new Date(), failedLoginCount: 0 } : { lastUsed: new Date() };
    await this.models.ApiUser.updateOne(filter, { $set: set }).exec();
    if (this.hasher.needsRehash(user.passwordHash)) {
      // BCRYPT_COST changed since this hash was made. Only this exact hash is replaced, so a
      // password reset that raced this login wins.
      const passwordHash = await this.hasher.hash(password);
      await this.models.ApiUser.updateOne({ _id: user._id, passwordHash: user.passwordHash }, { $set: { passwordHash } }).exec();
    }
  }
}
