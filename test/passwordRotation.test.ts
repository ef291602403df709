// Password rotation without downtime: ResetApiUserPassword with keepPreviousForHours keeps the
// replaced password working beside the new one; a wrong password matches neither; another
// reset, a disable or a delete ends the grace at once. Each crossing of the two caches
// (verified passwords, auth states) with a reset is tested: right old, right new, wrong,
// a reset in the middle of a burst.
import { expect } from 'chai';
import type { z } from 'zod';
import type { apiUser } from '../src/operations/schemas.js';
import { expectRestError, expectSoapFault } from './support/expectations.js';
import { startTestGateway, type TestAccount, type TestGateway } from './support/gateway.js';
import { restRequest } from './support/rest.js';
import { soapCall, type Credentials } from './support/soap.js';

type ApiUser = z.output<typeof apiUser>;

const HOUR_MS = 3_600_000;
const FIRST = 'F1rst-secret';
const SECOND = 'S3cond-secret';
const THIRD = 'Th1rd-secret';

describe('password rotation', () => {
  let gateway: TestGateway;
  let owner: TestAccount;

  const create = async () => {
    const response = await restRequest(gateway.app, owner, 'POST', '/v2/api-users', { password: FIRST, description: 'rotating' });
    expect(response.status, response.text).to.equal(201);
    return response.body as ApiUser;
  };
  const reset = async (id: string, password: string, keepPreviousForHours?: number) => {
    const body = keepPreviousForHours === undefined ? { password } : { password, keepPreviousForHours };
    const response = await restRequest(gateway.app, owner, 'PUT', `/v2/api-users/${id}/password`, body);
    expect(response.status, response.text).to.equal(200);
    return response.body as ApiUser;
  };
  const getUser = async (id: string) => (await restRequest(gateway.app, owner, 'GET', `/v2/api-users/${id}`)).body as ApiUser;
  const status = async (username: string, password: string) => (await restRequest(gateway.app, { username, password }, 'GET', '/v2/server-time')).status;
  const statuses = (username: string, ...passwords: string[]) => Promise.all(passwords.map((password) => status(username, password)));

  before(async () => {
    gateway = await startTestGateway();
    owner = await gateway.createAccount({ name: 'Rotating Co' });
  });
  after(() => gateway.close());

  it('keeps the replaced password working for the hours asked, beside the new one, in both protocols', async () => {
    const user = await create();
    const reply = await reset(user.id, SECOND, 24);
    expect(Date.parse(reply.previousPasswordExpires!) - Date.now()).to.be.closeTo(24 * HOUR_MS, 60_000);
    expect((await getUser(user.id)).previousPasswordExpires).to.equal(reply.previousPasswordExpires);
    expect(await statuses(user.username, FIRST, SECOND)).to.deep.equal([200, 200]);
    for (const password of [FIRST, SECOND]) {
      expect((await soapCall(gateway.app, { username: user.username, password }, 'GetServerTime')).status).to.equal(200);
    }
    const reset2 = (await restRequest(gateway.app, owner, 'GET', `/v2/audit-events?apiUserId=${user.id}`)).body as Array<{ type: string; details: string | null }>;
    expect(reset2.find((event) => event.type === 'ApiUserPasswordReset')?.details).to.equal(
      `the replaced password keeps working until ${reply.previousPasswordExpires}`,
    );
  });

  it('keeps nothing by default (0 hours): the old password stops at once', async () => {
    const user = await create();
    expect((await reset(user.id, SECOND)).previousPasswordExpires).to.equal(null);
    expect(await statuses(user.username, FIRST, SECOND)).to.deep.equal([401, 200]);
  });

  it('takes 0 to 168 whole hours, and refuses anything else in both protocols, changing nothing', async () => {
    const user = await create();
    for (const hours of [-1, 169, 1.5, '2', null, true]) {
      expectRestError(
        await restRequest(gateway.app, owner, 'PUT', `/v2/api-users/${user.id}/password`, { password: SECOND, keepPreviousForHours: hours }),
        400,
        'ERROR_PARAMETER_INVALID',
      );
    }
    const soap = await soapCall(gateway.app, owner, 'ResetApiUserPassword', `<id>${user.id}</id><password>${SECOND}</password><keepPreviousForHours>200</keepPreviousForHours>`);
    expect(expectSoapFault(soap, 500, 'ERROR_PARAMETER_INVALID')).to.contain('keepPreviousForHours');
    expect(await statuses(user.username, FIRST, SECOND), 'the password is unchanged').to.deep.equal([200, 401]);
    const viaSoap = await soapCall(gateway.app, owner, 'ResetApiUserPassword', `<id>${user.id}</id><password>${SECOND}</password><keepPreviousForHours>168</keepPreviousForHours>`);
    expect(viaSoap.status, viaSoap.text).to.equal(200);
    expect(await statuses(user.username, FIRST, SECOND)).to.deep.equal([200, 200]);
    expect(Date.parse((await getUser(user.id)).previousPasswordExpires!) - Date.now()).to.be.closeTo(168 * HOUR_MS, 60_000);
  });

  it('ends the older grace at the next reset: only the password that reset replaced is kept', async () => {
    const user = await create();
    await reset(user.id, SECOND, 24);
    await reset(user.id, THIRD, 24);
    expect(await statuses(user.username, FIRST, SECOND, THIRD)).to.deep.equal([401, 200, 200]);
    expect((await reset(user.id, FIRST)).previousPasswordExpires, 'a reset without keeping ends it').to.equal(null);
    expect(await statuses(user.username, FIRST, SECOND, THIRD)).to.deep.equal([200, 401, 401]);
  });

  it('ends the grace on a disable, for good: re-enabling does not bring the old password back', async () => {
    const user = await create();
    await reset(user.id, SECOND, 24);
    const disabled = await restRequest(gateway.app, owner, 'PUT', `/v2/api-users/${user.id}`, { enabled: false });
    expect((disabled.body as ApiUser).previousPasswordExpires).to.equal(null);
    expect(await statuses(user.username, FIRST, SECOND)).to.deep.equal([401, 401]);
    await restRequest(gateway.app, owner, 'PUT', `/v2/api-users/${user.id}`, { enabled: true });
    expect(await statuses(user.username, FIRST, SECOND)).to.deep.equal([401, 200]);
  });

  it('ends the grace on a delete', async () => {
    const user = await create();
    await reset(user.id, SECOND, 24);
    expect((await restRequest(gateway.app, owner, 'DELETE', `/v2/api-users/${user.id}`)).status).to.equal(204);
    expect(await statuses(user.username, FIRST, SECOND)).to.deep.equal([401, 401]);
  });

  it('ends the grace when its hours are over', async () => {
    const user = await create();
    await reset(user.id, SECOND, 1);
    expect(await statuses(user.username, FIRST, SECOND)).to.deep.equal([200, 200]);
    // An hour cannot pass in a test: the expiry is moved to a moment from now instead.
    const expires = new Date(Date.now() + 1000);
    await gateway.database.models.ApiUser.updateOne({ username: user.username }, { $set: { previousPasswordExpires: expires } }).exec();
    gateway.gateway.services.authStates.forgetUsername(user.username);
    // Read with that expiry and verified within the grace: both caches hold the old password.
    expect(await statuses(user.username, FIRST, SECOND)).to.deep.equal([200, 200]);
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, expires.getTime() - Date.now()) + 100));
    // Past it, with nothing forgotten: the grace ends by the clock, not by a read.
    expect(await statuses(user.username, FIRST, SECOND)).to.deep.equal([401, 200]);
    expect((await getUser(user.id)).previousPasswordExpires).to.equal(null);
  });

  describe('with both caches warm', () => {
    it('right old, right new, wrong: each verified against its own hash, a wrong one counted once', async () => {
      const user = await create();
      expect(await status(user.username, FIRST)).to.equal(200); // FIRST is now cached as right
      await reset(user.id, SECOND, 24);
      // Each in both orders, each twice (the second from the caches).
      expect(await statuses(user.username, FIRST, SECOND, FIRST, SECOND)).to.deep.equal([200, 200, 200, 200]);
      expect(await status(user.username, 'Wr0ng-secret')).to.equal(401);
      expect((await getUser(user.id)).failedLoginCount, 'a wrong password matches neither, and counts once').to.equal(1);
      expect(await status(user.username, FIRST), 'the old password is a success: the count goes back to 0').to.equal(200);
      expect((await getUser(user.id)).failedLoginCount).to.equal(0);
    });

    it('locks after five passwords that match neither, and then refuses both', async () => {
      const user = await create();
      await reset(user.id, SECOND, 24);
      expect(await statuses(user.username, FIRST, SECOND)).to.deep.equal([200, 200]);
      for (let attempt = 0; attempt < 5; attempt++) expect(await status(user.username, `Wr0ng-${attempt}-secret`)).to.equal(401);
      expect(await getUser(user.id)).to.include({ locked: true, failedLoginCount: 5 });
      expect(await statuses(user.username, FIRST, SECOND)).to.deep.equal([401, 401]);
    });

    it('a reset in the middle of a burst: with a grace, no call of the old password fails; without, every one after it does, and they lock the user', async () => {
      for (const keep of [24, 0]) {
        const user = await create();
        const credentials: Credentials = { username: user.username, password: FIRST };
        let firstRoundAnswered = () => {};
        const firstRound = new Promise<void>((resolve) => (firstRoundAnswered = resolve));
        const burst = async (count: number) => {
          const results: number[] = [];
          for (let round = 0; round < count; round++) {
            results.push(...(await Promise.all(Array.from({ length: 8 }, () => restRequest(gateway.app, credentials, 'GET', '/v2/server-time')))).map((r) => r.status));
            firstRoundAnswered();
          }
          return results;
        };
        const during = burst(6);
        await firstRound; // the reset lands in the middle of the burst, not before it
        await reset(user.id, SECOND, keep);
        const sent = await during;
        const after = await burst(2);
        expect(sent, 'the burst began before the reset').to.include(200);
        if (keep > 0) {
          expect(new Set([...sent, ...after]), `keep ${keep}`).to.deep.equal(new Set([200]));
        } else {
          expect(new Set(after), 'after the reset was acknowledged').to.deep.equal(new Set([401]));
        }
        // Without a grace the old password's calls are wrong passwords, and five of them lock the
        // user: what rotation spares an integration whose machines move over one by one.
        expect(await getUser(user.id)).to.include({ locked: keep === 0 });
        expect(await status(user.username, SECOND)).to.equal(keep > 0 ? 200 : 401);
      }
    });

    it('another gateway on the database sees the grace and its end within AUTH_STATE_TTL_MS', async () => {
      const user = await create();
      const second = await startTestGateway({ databaseUri: gateway.databaseUri });
      try {
        const onSecond = async (password: string) => (await restRequest(second.app, { username: user.username, password }, 'GET', '/v2/server-time')).status;
        expect(await onSecond(FIRST)).to.equal(200);
        await reset(user.id, SECOND, 24);
        await new Promise((resolve) => setTimeout(resolve, second.config.AUTH_STATE_TTL_MS + 500));
        expect([await onSecond(FIRST), await onSecond(SECOND)]).to.deep.equal([200, 200]);
        await reset(user.id, THIRD);
        await new Promise((resolve) => setTimeout(resolve, second.config.AUTH_STATE_TTL_MS + 500));
        expect([await onSecond(FIRST), await onSecond(SECOND), await onSecond(THIRD)]).to.deep.equal([401, 401, 200]);
      } finally {
        await second.close();
      }
    });
  });
});
