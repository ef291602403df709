// The HTTP Basic strategy passport runs: passport-http's BasicStrategy, subclassed so that
// RFC 7617's split at the first colon holds (passport-http keeps the password only up to a
// second ':'), every malformed header fails with the contract's challenge, and the verify
// function's errors are passed on unchanged.
import { expect } from 'chai';
import type { Request } from 'express';
import { BasicStrategy, type BasicVerifyFunction } from 'passport-http';
import { Rfc7617BasicStrategy, type VerifyFromAddress } from '../src/auth/basicStrategy.js';
import type { Caller } from '../src/auth/credentials.js';

type Outcome = { success: unknown } | { fail: unknown } | { error: unknown };

/** Runs a strategy on one Authorization header as passport does, and says what it decided. */
function decide(strategy: BasicStrategy, authorization: string | undefined): Promise<Outcome> {
  return new Promise((resolve) => {
    const attempt = Object.assign(Object.create(strategy) as BasicStrategy, {
      success: (user: unknown) => resolve({ success: user }),
      fail: (challenge: unknown) => resolve({ fail: challenge }),
      error: (error: unknown) => resolve({ error }),
    });
    attempt.authenticate({ headers: authorization === undefined ? {} : { authorization }, ip: '192.0.2.7' } as Request);
  });
}

const basic = (userPass: string) => `Basic ${Buffer.from(userPass, 'utf8').toString('base64')}`;
const caller = { user: {}, account: {} } as Caller;

describe('the HTTP Basic strategy', () => {
  it("passes the whole password to verify, ':' and all, where passport-http's own would cut it", async () => {
    const seen: Array<[string, string, string?]> = [];
    const verifyFromAddress: VerifyFromAddress = (username, password, clientIp, done) => {
      seen.push([username, password, clientIp]);
      done(null, caller);
    };
    const verify: BasicVerifyFunction = (username, password, done) => {
      seen.push([username, password]);
      done(null, caller);
    };
    expect(await decide(new Rfc7617BasicStrategy(verifyFromAddress), basic('u@x:p:q:r'))).to.deep.equal({ success: caller });
    expect(await decide(new BasicStrategy(verify), basic('u@x:p:q:r'))).to.deep.equal({ success: caller });
    expect(seen).to.deep.equal([
      ['u@x', 'p:q:r', '192.0.2.7'], // with the address the call came from, for the allowlist
      ['u@x', 'p'], // passport-http's split: the reason for the subclass
    ]);
  });

  it('fails wrong credentials and every malformed header with the contract challenge', async () => {
    const strategy = new Rfc7617BasicStrategy((_username, _password, _clientIp, done) => done(null, false));
    for (const header of [undefined, '', 'Basic', 'Basic !!!', basic('no-colon'), basic(':no-user'), 'Bearer abc', basic('u:wrong')]) {
      expect(await decide(strategy, header), String(header)).to.deep.equal({ fail: 'Basic realm="dualgate"' });
    }
  });

  it("passes the verifier's error on unchanged (a 503 stays a 503)", async () => {
    const outage = new Error('database gone');
    const strategy = new Rfc7617BasicStrategy((_username, _password, _clientIp, done) => done(outage));
    expect(await decide(strategy, basic('u:p'))).to.deep.equal({ error: outage });
  });
});
