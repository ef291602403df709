// Checking an API user's credentials. Every refusal looks the same to the caller; each path
// costs one bcrypt compare, so that timing does not tell an unknown user from a wrong password.
import type { AccountRecord, ApiUserRecord } from '../db/models.js';
import { lockReasonOf } from '../domain/lockState.js';
import type { AuditTrail } from '../domain/auditTrail.js';
import { newWrongPassword, wrongPasswordTime, type LoginActivity, type WrongPassword } from '../domain/loginActivity.js';
import { allowlistAdmits } from '../domain/ipAllowlist.js';
import { previousPasswordHashAt } from '../domain/passwordRotation.js';
import type { PasswordHasher } from '../domain/passwords.js';
import { failuresCountFrom, failuresCounting, type AuthState, type AuthStateCache } from './authStateCache.js';
import type { VerifiedCredentialCache } from './verifiedCredentialCache.js';

/** When a call arrived: by the clock (what is stored), and by performance.now() (what is waited by). */
interface Arrival {
  at: Date;
  ms: number;
}

export interface Caller {
  user: ApiUserRecord;
  account: AccountRecord;
}

/** Longer credentials than any real one are refused before any work is spent on them. */
export const MAX_USERNAME_LENGTH = 256;
export const MAX_PASSWORD_LENGTH = 1024;

/** What the verifier tells the outside (metrics, logs). */
export interface CredentialObserver {
  backgroundError?(error: unknown): void;
  lockedOut?(): void;
  cacheLookup?(decided: boolean): void;
}

export class CredentialVerifier {
  /** Compares under way, by credentials: concurrent identical ones wait for the same. */
  private readonly comparing = new Map<string, Promise<boolean>>();

  constructor(
    private readonly states: AuthStateCache,
    private readonly verified: VerifiedCredentialCache,
    private readonly hasher: PasswordHasher,
    private readonly loginActivity: LoginActivity,
    private readonly auditTrail: AuditTrail,
    private readonly lockoutThreshold: number,
    private readonly observer: CredentialObserver = {},
  ) {}

  /** The caller, or null after the time any refusal takes (see PasswordHasher.holdRefusal). */
  async verify(username: string, password: string, clientIp: string | undefined): Promise<Caller | null> {
    const arrival: Arrival = { at: new Date(), ms: performance.now() };
    const caller = await this.check(username, password, clientIp, arrival);
    if (!caller) await this.hasher.holdRefusal(arrival.ms);
    return caller;
  }

  /**
   * Attempts are ordered by when they arrived, not by when their checks ended: a refusal
   * takes the time of a compare, and must not count as after a success that came later; and
   * they wait for a compare in that order. `firstLook` is false when the check is made again
   * after a change (see below).
   */
  private async check(username: string, password: string, clientIp: string | undefined, arrival: Arrival, firstLook = true): Promise<Caller | null> {
    const arrived = arrival.at;
    if (username.length > MAX_USERNAME_LENGTH || password.length > MAX_PASSWORD_LENGTH) return null;
    // While compares are being shed, a caller who would need one is shed before its state is
    // read: the retries of a cold storm would otherwise cost the database a read each. A
    // username whose right password this process knows goes on to that read, whatever password
    // it comes with: the right one needs no compare, and any other is decided without one, and
    // counted (below); shed here, a guess would go uncounted and the right one get in.
    if (firstLook && this.hasher.overloaded() && !this.states.holds(username) && !this.verified.knows(username)) throw this.hasher.refusal();
    const changeMark = this.states.changeMark;
    const read = await this.states.get(username);
    const { user, account } = read;
    if (!user) return this.hasher.verifyNobody(password, arrival.ms).then(() => null);
    // Outside the allowlist nothing is checked (no compare, so no CPU for whoever calls from
    // there) and nothing counts towards the lockout; the refusal takes as long as any other.
    if (!allowlistAdmits(user.ipAllowlist ?? [], clientIp)) {
      await this.auditTrail.recordAllowlistRefusal(user, clientIp ?? null, arrived).catch((error: unknown) => this.observer.backgroundError?.(error));
      return null;
    }
    // During a rotation's grace the replaced password matches too; a wrong one matches neither.
    const previousHash = previousPasswordHashAt(user, arrived);
    const { matches, compared } = await this.checkPassword(username, password, previousHash ? [user.passwordHash, previousHash] : [user.passwordHash], arrival.ms);
    // A compare may have waited seconds for its turn. A change of the user heard of meanwhile
    // (disabled, reset, deleted, here or elsewhere) must not be overlooked for that long: the
    // caller is checked once more against the user as it is now, which costs no compare when
    // the password was right and the user's hash is unchanged.
    if (firstLook && this.states.changedSince(changeMark, username, read)) return this.check(username, password, clientIp, arrival, false);
    // What happened while the password was checked (other attempts, a re-read) counts too. A
    // newer read of the user, made by another call while this one waited (its state's time ran
    // out), judges it: its switch, its account, its allowlist, or that it is gone. Under other
    // passwords (a reset no poll has told of yet) the caller is checked again, against them.
    const state = this.states.latest(username, read);
    if (state !== read && (!state.user || !samePasswords(state.user, user, arrived))) {
      return firstLook && state.user ? this.check(username, password, clientIp, arrival, false) : this.refusal(false);
    }
    const judged = state.user ?? user;
    const judgedAccount = state === read ? account : state.account;
    if (state !== read && !allowlistAdmits(judged.ipAllowlist ?? [], clientIp)) {
      await this.auditTrail.recordAllowlistRefusal(judged, clientIp ?? null, arrived).catch((error: unknown) => this.observer.backgroundError?.(error));
      return null;
    }
    // While compares are being shed, a refusal the cache decided without one is shed too, as
    // every caller needing one is: a 401 would tell a user whose right password is known here
    // from the others. Wrong or right alike: a locked or disabled user's right password gets
    // what a wrong one gets. A wrong one is counted all the same, or guesses would go through
    // uncounted while shedding, and the right one get in.
    const shed = !compared && this.hasher.overloaded();
    if (!matches) {
      const { written } = await this.countWrongPassword(username, state, judged, arrived);
      // Shed at once, as the right password of a locked user is: awaited, the row's write would
      // tell the two apart by its time. This process's next calls count it already, from the
      // state it is in; without states kept (AUTH_STATE_TTL_MS=0) the row is all they read.
      if (!shed || !this.states.keepsStates) await written;
      return this.refusal(shed);
    }
    const counted = failuresCounting(state, this.lockoutThreshold);
    // Other processes' wrong passwords are seen from the database within AUTH_STATE_TTL_MS,
    // like any other change they make (a lock they complete, a disable). Should they show,
    // then, that the user was locked before this success, it forgives nothing (ownSuccesses.ts).
    if (!judgedAccount || judgedAccount.disabled || !judged.enabled || lockReasonOf(judged, judgedAccount, counted, this.lockoutThreshold) !== null) {
      return this.refusal(shed);
    }
    // Before anything is awaited: the state may be replaced by a re-read meanwhile.
    this.states.addOwnSuccess(state, arrived);
    await this.loginActivity.recordSuccess(judged, arrived);
    return { user: judged, account: judgedAccount };
  }

  /** A refusal: null (a 401, after the time any refusal takes), or, when `shed`, the 503 of shedding. */
  private refusal(shed: boolean): null {
    if (shed) throw this.hasher.refusal();
    return null;
  }

  /**
   * Counts a wrong password towards the lockout in this process's state (concurrent attempts
   * see it before its row lands), and gives the write of its row, so that whoever was refused
   * five times finds the user locked everywhere. Neither fails: what could not be read or
   * written is reported.
   */
  private async countWrongPassword(username: string, state: AuthState, user: ApiUserRecord, arrived: Date): Promise<{ written: Promise<void> }> {
    // From when wrong passwords count (so whether this one locks, and the lock's run) is the
    // user's last success: read now if the state was read without it. Should that read fail,
    // this one is counted all the same (it arrived after any success before the state's read,
    // and it is the user's first wrong password known here: no lock yet); the next tries again.
    await this.states.knowLastSuccess(state).catch((error: unknown) => this.observer.backgroundError?.(error));
    // Past the threshold the user is locked already; more rows would only let an attacker
    // grow the collection.
    if (failuresCounting(state, this.lockoutThreshold) >= this.lockoutThreshold) return { written: Promise.resolve() };
    const wrongPassword = newWrongPassword(wrongPasswordTime(arrived), user.unlockedAt);
    this.states.addFailure(username, state, wrongPassword);
    const locks = failuresCounting(state, this.lockoutThreshold) >= this.lockoutThreshold;
    // The insert takes far less than a refusal is held anyway (verify()).
    return { written: this.recordFailure(user, wrongPassword, locks ? failuresCountFrom(state, this.lockoutThreshold) : null) };
  }

  private async recordFailure(user: ApiUserRecord, wrongPassword: WrongPassword, lockedRunStart: Date | null): Promise<void> {
    try {
      await this.loginActivity.recordFailure(user, wrongPassword);
      // Reported to the account's managers (the audit log), never to the caller.
      if (lockedRunStart) {
        this.observer.lockedOut?.();
        await this.auditTrail.recordLock(user, lockedRunStart, wrongPassword.at, this.lockoutThreshold);
      }
    } catch (error) {
      this.observer.backgroundError?.(error);
    }
  }

  /**
   * bcrypt, unless the cache knows: the right password (verified before against this very
   * hash) passes at once; another one is wrong for certain, and is refused without spending a
   * compare's CPU (its refusal still takes a compare's time, see verify()): a 1% share of wrong
   * passwords at cost 12 would otherwise need more cores than there are. With two hashes (a
   * rotation's grace) the password is right when it matches either; the compares the cache
   * cannot spare run side by side, so that a wrong password takes about one compare's time,
   * as for anyone else.
   */
  private async checkPassword(
    username: string,
    password: string,
    storedHashes: readonly string[],
    arrivedMs: number,
  ): Promise<{ matches: boolean; compared: boolean }> {
    const verdicts = storedHashes.map((storedHash) => this.verified.check(username, password, storedHash));
    const decided = verdicts.includes('right') || !verdicts.includes('unknown');
    this.observer.cacheLookup?.(decided);
    if (decided) return { matches: verdicts.includes('right'), compared: false };
    const unknown = storedHashes.filter((_storedHash, index) => verdicts[index] === 'unknown');
    const matches = await Promise.all(unknown.map((storedHash) => this.compare(username, password, storedHash, arrivedMs)));
    return { matches: matches.includes(true), compared: true };
  }

  /**
   * One bcrypt compare, remembered when right. A burst of calls with the same credentials (an
   * integration starting up) shares one compare instead of queueing one each.
   */
  private compare(username: string, password: string, storedHash: string, arrivedMs: number): Promise<boolean> {
    const key = this.verified.passwordMac(username, password, storedHash).toString('base64');
    let compare = this.comparing.get(key);
    if (!compare) {
      compare = this.hasher
        .verify(password, storedHash, arrivedMs)
        .then((matches) => {
          if (matches) this.verified.remember(username, password, storedHash);
          return matches;
        })
        .finally(() => this.comparing.delete(key));
      this.comparing.set(key, compare);
    }
    return compare;
  }
}

/** Whether two reads of a user take the same passwords at `at` (its own, and a rotation's replaced one). */
function samePasswords(one: ApiUserRecord, other: ApiUserRecord, at: Date): boolean {
  return one.passwordHash === other.passwordHash && previousPasswordHashAt(one, at) === previousPasswordHashAt(other, at);
}
