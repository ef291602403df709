// The WS-Security UsernameToken strategy passport runs for SOAP calls without HTTP Basic: the
// token the door read goes to the same verify function as Basic's, with the caller's address; no
// token, or any Authorization header, fails with the contract's challenge before verify; the
// verify function's errors are passed on unchanged.
import { expect } from 'chai';
import type { Request } from 'express';
import type { VerifyFromAddress } from '../src/auth/basicStrategy.js';
import type { Caller } from '../src/auth/credentials.js';
import { UsernameTokenStrategy, type UsernameTokenCredentials } from '../src/auth/usernameTokenStrategy.js';

type Outcome = { success: unknown } | { fail: unknown } | { error: unknown };

/** Runs the strategy on one request as passport does, and says what it decided. */
function decide(strategy: UsernameTokenStrategy, request: { authorization?: string }): Promise<Outcome> {
  return new Promise((resolve) => {
    const attempt = Object.assign(Object.create(strategy) as UsernameTokenStrategy, {
      success: (user: unknown) => resolve({ success: user }),
      fail: (challenge: unknown) => resolve({ fail: challenge }),
      error: (error: unknown) => resolve({ error }),
    });
    const headers = request.authorization === undefined ? {} : { authorization: request.authorization };
    attempt.authenticate({ headers, ip: '192.0.2.9' } as Request);
  });
}

const caller = { user: {}, account: {} } as Caller;
const token: UsernameTokenCredentials = { username: 'u@x', password: 'p:q r' };

describe('the WS-Security UsernameToken strategy', () => {
  it('passes the token to verify, with the address the call came from, and succeeds with its caller', async () => {
    const seen: Array<[string, string, string | undefined]> = [];
    const verify: VerifyFromAddress = (username, password, clientIp, done) => {
      seen.push([username, password, clientIp]);
      done(null, caller);
    };
    expect(await decide(new UsernameTokenStrategy(() => token, verify), {})).to.deep.equal({ success: caller });
    expect(seen).to.deep.equal([['u@x', 'p:q r', '192.0.2.9']]);
  });

  it('fails a wrong password with the contract challenge', async () => {
    const strategy = new UsernameTokenStrategy(() => token, (_username, _password, _clientIp, done) => done(null, false));
    expect(await decide(strategy, {})).to.deep.equal({ fail: 'Basic realm="dualgate"' });
  });

  it('fails without calling verify when the header holds no usable token (nothing to count toward a lockout)', async () => {
    let verified = 0;
    const strategy = new UsernameTokenStrategy(
      () => null,
      (_username, _password, _clientIp, done) => {
        verified++;
        done(null, caller);
      },
    );
    expect(await decide(strategy, {})).to.deep.equal({ fail: 'Basic realm="dualgate"' });
    expect(verified).to.equal(0);
  });

  it('never falls back to the token when an Authorization header is sent, whatever it holds', async () => {
    let read = 0;
    const strategy = new UsernameTokenStrategy(
      () => {
        read++;
        return token;
      },
      (_username, _password, _clientIp, done) => done(null, caller),
    );
    for (const authorization of ['Basic dTpw', '', 'Bearer x']) {
      expect(await decide(strategy, { authorization }), authorization).to.deep.equal({ fail: 'Basic realm="dualgate"' });
    }
    expect(read, 'the token is not even read').to.equal(0);
  });

  it("passes the verifier's error on unchanged (a 503 stays a 503)", async () => {
    const outage = new Error('database gone');
    const strategy = new UsernameTokenStrategy(() => token, (_username, _password, _clientIp, done) => done(outage));
    expect(await decide(strategy, {})).to.deep.equal({ error: outage });
  });
});
