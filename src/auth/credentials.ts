// Checking an API user's credentials. Every refusal looks the same to the caller; each path
// costs one bcrypt compare, so that timing does not tell an unknown user from a wrong password.
import type { AccountRecord, ApiUserRecord } from '../db/models.js';
import { lockReasonOf } from '../domain/lockState.js';
import type { AuditTrail } from '../domain/auditTrail.js';
import { since, type LoginActivity } from '../domain/loginActivity.js';
import type { PasswordHasher } from '../domain/passwords.js';
import type { AuthStateCache } from './authStateCache.js';
import type { VerifiedCredentialCache } from './verifiedCredentialCache.js';

export interface Caller {
  user: ApiUserRecord;
  account: AccountRecord;
}

/** Longer credentials than any real one are refused before any work is spent on them. */
export const MAX_USERNAME_LENGTH = 256;
export const MAX_PASSWORD_LENGTH = 1024;

export class CredentialVerifier {
  /** Compares under way, by credentials: concurrent identical ones wait for the same. */
  private readonly comparing = new Map<string, Promise<boolean>>();
  /** Failure counts being read, by user. */
  private readonly readingFailures = new Map<string, Promise<number>>();

  constructor(
    private readonly states: AuthStateCache,
    private readonly verified: VerifiedCredentialCache,
    private readonly hasher: PasswordHasher,
    private readonly loginActivity: LoginActivity,
    private readonly auditTrail: AuditTrail,
    private readonly lockoutThreshold: number,
  ) {}

  async verify(username: string, password: string): Promise<Caller | null> {
    if (username.length > MAX_USERNAME_LENGTH || password.length > MAX_PASSWORD_LENGTH) return null;
    // Attempts are ordered by when they arrived, not by when their checks ended: a refusal
    // waits the time of a compare, and must not count as after a success that came later.
    const arrived = new Date();
    const { user, account, failures, lastSuccess } = await this.states.get(username);
    if (!user) return this.hasher.verifyNobody(password).then(() => null);
    const checked = await this.checkPassword(username, password, user.passwordHash);
    if (!checked.matches) {
      // Past the threshold the user is locked already; more rows would only let an attacker
      // grow the collection.
      if (failures < this.lockoutThreshold) {
        await this.loginActivity.recordFailure(user._id, arrived);
        this.states.adjust(username, (state) => void state.failures++);
        if (failures + 1 === this.lockoutThreshold) {
          // Reported to the account's managers (the audit log), never to the caller.
          const runStart = since(user, lastSuccess);
          await this.auditTrail.recordLock(user, runStart, `${this.lockoutThreshold} wrong passwords in a row`);
        }
      }
      return null;
    }
    const counted = failures > 0 ? await this.currentFailures(user) : 0;
    if (!account || account.disabled || !user.enabled || lockReasonOf(user, account, counted, this.lockoutThreshold) !== null) {
      // The right password of a user who may not come in: as slow as any other refusal, so
      // that timing does not tell a disabled or locked user from a wrong password.
      if (checked.fromCache) await this.hasher.waitLikeACompare();
      return null;
    }
    await this.loginActivity.recordSuccess(user, arrived);
    this.states.adjust(username, (state) => {
      if (!state.lastSuccess || arrived > state.lastSuccess) state.lastSuccess = arrived;
      state.failures = 0;
    });
    return { user, account };
  }

  /**
   * When this process has seen wrong passwords of the user, the database decides whether they
   * lock it (other processes may have added theirs). Concurrent successes share one read.
   */
  private currentFailures(user: ApiUserRecord): Promise<number> {
    const key = user._id.toHexString();
    let reading = this.readingFailures.get(key);
    if (!reading) {
      reading = this.states
        .failuresOf(user)
        .then(({ lastSuccess, failures }) => {
          this.states.adjust(user.username, (state) => {
            if (lastSuccess && (!state.lastSuccess || lastSuccess > state.lastSuccess)) state.lastSuccess = lastSuccess;
            state.failures = failures;
          });
          return failures;
        })
        .finally(() => this.readingFailures.delete(key));
      this.readingFailures.set(key, reading);
    }
    return reading;
  }

  /**
   * bcrypt, unless the cache knows: the right password (verified before against this very
   * hash) passes at once; another one is wrong for certain and is refused after the time a
   * compare takes, so that its timing tells nothing, but without spending the compare's CPU
   * (a 1% share of wrong passwords at cost 12 would otherwise need more cores than there are).
   */
  private async checkPassword(username: string, password: string, storedHash: string): Promise<{ matches: boolean; fromCache: boolean }> {
    const verdict = this.verified.check(username, password, storedHash);
    if (verdict === 'right') return { matches: true, fromCache: true };
    if (verdict === 'wrong') {
      await this.hasher.waitLikeACompare();
      return { matches: false, fromCache: false };
    }
    // A burst of calls with the same credentials (an integration starting up) shares one
    // compare instead of queueing one each.
    const key = this.verified.passwordMac(username, password, storedHash).toString('base64');
    let compare = this.comparing.get(key);
    if (!compare) {
      compare = this.hasher.verify(password, storedHash).finally(() => this.comparing.delete(key));
      this.comparing.set(key, compare);
    }
    const matches = await compare;
    if (matches) this.verified.remember(username, password, storedHash);
    return { matches, fromCache: false };
  }
}
