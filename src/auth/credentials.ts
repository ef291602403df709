// Checking an API user's credentials. Every refusal looks the same to the caller; each path
// costs one bcrypt compare, so that timing does not tell an unknown user from a wrong password.
import type { AccountRecord, ApiUserRecord, Models } from '../db/models.js';
import { lockReasonOf } from '../domain/lockState.js';
import type { LoginActivity } from '../domain/loginActivity.js';
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
    private readonly loginActivity: LoginActivity,
    private readonly lockoutThreshold: number,
  ) {}

  async verify(username: string, password: string): Promise<Caller | null> {
    if (username.length > MAX_USERNAME_LENGTH || password.length > MAX_PASSWORD_LENGTH) return null;
    const user = await this.models.ApiUser.findOne({ username }).lean<ApiUserRecord>().exec();
    if (!user) return this.hasher.verifyNobody(password).then(() => null);
    const countedAt = new Date();
    const [passwordMatches, account, failures] = await Promise.all([
      this.hasher.verify(password, user.passwordHash),
      this.models.Account.findById(user.accountId).lean<AccountRecord>().exec(),
      this.loginActivity.failureCount(user),
    ]);
    if (!passwordMatches) {
      // Past the threshold the user is locked already; more rows would only let an attacker
      // grow the collection.
      if (failures < this.lockoutThreshold) await this.loginActivity.recordFailure(user._id);
      return null;
    }
    if (!account || account.disabled || !user.enabled) return null;
    if (lockReasonOf(user, account, failures, this.lockoutThreshold) !== null) return null;
    await Promise.all([
      failures > 0 ? this.loginActivity.clearFailures(user._id, countedAt) : undefined,
      this.loginActivity.recordSuccess(user._id),
    ]);
    return { user, account };
  }
}
