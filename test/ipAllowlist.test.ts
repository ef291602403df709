// Per-user IP allowlists: entries checked on the way in (each bad one named), shown back, and
// a call from outside refused with the usual 401 whatever its password, counting nothing
// towards the lockout, logged at most once per user, address and hour. Client addresses come
// from the socket, or from X-Forwarded-For through TRUST_PROXY (here: loopback, so that a test
// can speak for any address).
import { expect } from 'chai';
import type { z } from 'zod';
import type { apiUser, auditEvent } from '../src/operations/schemas.js';
import type { AddressInfo } from 'node:net';
import { REFUSED_ADDRESSES_LOGGED } from '../src/domain/auditTrail.js';
import { allowlistAdmits, allowlistProblem, parseAllowlistEntry } from '../src/domain/ipAllowlist.js';
import { createHttpServer } from '../src/transports/httpServer.js';
import { withinOneClockHour } from './support/clockHour.js';
import { expectRestError, expectSoapFault } from './support/expectations.js';
import { startTestGateway, type TestAccount, type TestGateway } from './support/gateway.js';
import { restRequest } from './support/rest.js';
import { soapCall, type Credentials } from './support/soap.js';

type ApiUser = z.output<typeof apiUser>;

type AuditEvent = z.output<typeof auditEvent>;

describe('IP allowlists', () => {
  describe('entries', () => {
    it('reads IPv4 and IPv6 addresses and CIDR ranges, and nothing else', () => {
      for (const entry of ['192.0.2.7', '192.0.2.0/24', '0.0.0.0/0', '2001:db8::1', '2001:db8::/32', '::/0', '::ffff:192.0.2.7', '::ffff:192.0.2.0/120', '10.1.2.3/8']) {
        expect(parseAllowlistEntry(entry), entry).to.not.equal(null);
      }
      for (const entry of ['', ' ', '192.0.2', '192.0.2.256', '01.2.3.4', '1.2.3.4/33', '1.2.3.4/08', '1.2.3.4/', '1.2.3.4/-1', '2001:db8::/129', 'fe80::1%eth0', '::ffff:1.2.3.4/95', 'example.com', '1.2.3.4 ', '*']) {
        expect(parseAllowlistEntry(entry), JSON.stringify(entry)).to.equal(null);
      }
    });

    it('names the first bad entry, and counts entries after trimming and dropping repeats', () => {
      expect(allowlistProblem(['192.0.2.7', '10.0.0.300'])).to.equal('holds "10.0.0.300", which is not an IPv4 or IPv6 address or CIDR range');
      expect(allowlistProblem([' 192.0.2.7 ', ''])).to.equal(null);
      const many = Array.from({ length: 51 }, (_, index) => `198.51.100.${index}`);
      expect(allowlistProblem(many)).to.equal('must hold at most 50 entries');
      expect(allowlistProblem([...many.slice(0, 50), '198.51.100.0'])).to.equal(null);
    });

    it('matches IPv4-mapped IPv6 addresses as their IPv4 address, both ways', () => {
      expect(allowlistAdmits(['192.0.2.0/24'], '::ffff:192.0.2.9')).to.equal(true);
      expect(allowlistAdmits(['::ffff:192.0.2.0/120'], '192.0.2.9')).to.equal(true);
      expect(allowlistAdmits(['192.0.2.0/24'], '::ffff:192.0.3.9')).to.equal(false);
      expect(allowlistAdmits(['2001:db8::/32'], '2001:db8:ffff::1')).to.equal(true);
      expect(allowlistAdmits(['2001:db8::/32'], '2001:db9::1')).to.equal(false);
      expect(allowlistAdmits(['192.0.2.7'], '192.0.2.8')).to.equal(false);
      expect(allowlistAdmits([], '203.0.113.1'), 'an empty list admits any address').to.equal(true);
      expect(allowlistAdmits(['192.0.2.0/24'], undefined), 'no address is admitted by no list').to.equal(false);
    });
  });

  describe('over the API', () => {
    let gateway: TestGateway;
    let owner: TestAccount;
    const from = (address: string) => ({ 'X-Forwarded-For': address });
    const create = async (fields: Record<string, unknown>) => {
      const response = await restRequest(gateway.app, owner, 'POST', '/v2/api-users', { password: 'Allow3d-pw', ...fields });
      expect(response.status, response.text).to.equal(201);
      const user = response.body as ApiUser;
      return { ...user, password: 'Allow3d-pw' };
    };
    const getUser = async (id: string) => (await restRequest(gateway.app, owner, 'GET', `/v2/api-users/${id}`)).body as ApiUser;
    const callFrom = (credentials: Credentials, address: string) => restRequest(gateway.app, credentials, 'GET', '/v2/server-time', undefined, from(address));
    const refusals = async (userId: string) =>
      ((await restRequest(gateway.app, owner, 'GET', `/v2/audit-events?apiUserId=${userId}`)).body as AuditEvent[]).filter(
        (event) => event.type === 'ApiUserRefusedByAllowlist',
      );

    before(async () => {
      gateway = await startTestGateway({ env: { TRUST_PROXY: 'loopback' } });
      owner = await gateway.createAccount({ name: 'Allowlisted Ltd' });
    });
    after(() => gateway.close());

    it('takes the list on create and update, shows it back trimmed and without repeats, and clears it with []', async () => {
      const user = await create({ ipAllowlist: [' 192.0.2.0/24', '2001:db8::/32 ', '192.0.2.0/24'] });
      expect(user.ipAllowlist).to.deep.equal(['192.0.2.0/24', '2001:db8::/32']);
      const updated = await restRequest(gateway.app, owner, 'PUT', `/v2/api-users/${user.id}`, { ipAllowlist: ['198.51.100.7'] });
      expect((updated.body as ApiUser).ipAllowlist).to.deep.equal(['198.51.100.7']);
      const cleared = await restRequest(gateway.app, owner, 'PUT', `/v2/api-users/${user.id}`, { ipAllowlist: [] });
      expect((cleared.body as ApiUser).ipAllowlist).to.deep.equal([]);
      expect((await create({})).ipAllowlist, 'none given: any address').to.deep.equal([]);
    });

    it('refuses a bad entry or too many, naming it, in both protocols, and stores nothing', async () => {
      const before = ((await restRequest(gateway.app, owner, 'GET', '/v2/api-users')).body as ApiUser[]).length;
      const message = expectRestError(
        await restRequest(gateway.app, owner, 'POST', '/v2/api-users', { password: 'Allow3d-pw', ipAllowlist: ['192.0.2.7', '10.0.0.300'] }),
        400,
        'ERROR_PARAMETER_INVALID',
      );
      expect(message).to.contain('ipAllowlist').and.contain('"10.0.0.300"');
      const tooMany = Array.from({ length: 51 }, (_, index) => `198.51.100.${index}`);
      expect(
        expectRestError(await restRequest(gateway.app, owner, 'POST', '/v2/api-users', { password: 'Allow3d-pw', ipAllowlist: tooMany }), 400, 'ERROR_PARAMETER_INVALID'),
      ).to.contain('at most 50 entries');
      expectRestError(await restRequest(gateway.app, owner, 'POST', '/v2/api-users', { password: 'Allow3d-pw', ipAllowlist: '192.0.2.7' }), 400, 'ERROR_PARAMETER_INVALID');
      const soap = await soapCall(
        gateway.app,
        owner,
        'CreateApiUser',
        '<apiUser><Password>Allow3d-pw</Password><IpAllowlist><string>fe80::1%eth0</string></IpAllowlist></apiUser>',
      );
      expect(expectSoapFault(soap, 500, 'ERROR_PARAMETER_INVALID')).to.contain('IpAllowlist').and.contain('"fe80::1%eth0"');
      const user = await create({ ipAllowlist: ['192.0.2.7'] });
      expectRestError(await restRequest(gateway.app, owner, 'PUT', `/v2/api-users/${user.id}`, { ipAllowlist: ['192.0.2.7/40'] }), 400, 'ERROR_PARAMETER_INVALID');
      // An address where the list's items belong is no list (read as no items, it was an empty
      // list: any address), in either operation.
      const bare = await soapCall(gateway.app, owner, 'UpdateApiUser', `<id>${user.id}</id><apiUser><IpAllowlist>198.51.100.9</IpAllowlist></apiUser>`);
      expect(expectSoapFault(bare, 500, 'ERROR_PARAMETER_INVALID')).to.contain('IpAllowlist');
      const bareCreate = await soapCall(gateway.app, owner, 'CreateApiUser', '<apiUser><Password>Allow3d-pw</Password><IpAllowlist>198.51.100.9</IpAllowlist></apiUser>');
      expect(expectSoapFault(bareCreate, 500, 'ERROR_PARAMETER_INVALID')).to.contain('IpAllowlist');
      expect((await getUser(user.id)).ipAllowlist, 'a refused update changes nothing').to.deep.equal(['192.0.2.7']);
      expect(((await restRequest(gateway.app, owner, 'GET', '/v2/api-users')).body as ApiUser[]).length).to.equal(before + 1);
    });

    it('lets a call in from inside only; from outside the usual 401, right password or not, in both protocols', async () => {
      const user = await create({ ipAllowlist: ['192.0.2.0/24', '2001:db8::/32'] });
      expect((await callFrom(user, '192.0.2.9')).status).to.equal(200);
      expect((await callFrom(user, '2001:db8::5')).status).to.equal(200);
      expect((await callFrom(user, '::ffff:192.0.2.10')).status, 'IPv4-mapped').to.equal(200);
      const outside = expectRestError(await callFrom(user, '198.51.100.1'), 401, 'ERROR_INVALID_LOGIN');
      const wrong = expectRestError(await callFrom({ ...user, password: 'Wr0ng-password' }, '198.51.100.1'), 401, 'ERROR_INVALID_LOGIN');
      expect(outside).to.equal(wrong);
      const soap = await soapCall(gateway.app, user, 'GetServerTime', '', from('198.51.100.1'));
      expectSoapFault(soap, 401, 'ERROR_INVALID_LOGIN');
      expect((await soapCall(gateway.app, user, 'GetServerTime', '', from('192.0.2.9'))).status).to.equal(200);
    });

    it('counts no refusal from outside towards the lockout', async () => {
      const user = await create({ ipAllowlist: ['192.0.2.0/24'] });
      for (let attempt = 0; attempt < 8; attempt++) expect((await callFrom({ ...user, password: 'Wr0ng-password' }, '198.51.100.1')).status).to.equal(401);
      expect(await getUser(user.id)).to.include({ failedLoginCount: 0, locked: false });
      expect((await callFrom(user, '192.0.2.1')).status).to.equal(200);
      // From inside, wrong passwords count as ever.
      for (let attempt = 0; attempt < 5; attempt++) await callFrom({ ...user, password: 'Wr0ng-password' }, '192.0.2.1');
      expect(await getUser(user.id)).to.include({ failedLoginCount: 5, locked: true });
    });

    it('logs at most one ApiUserRefusedByAllowlist per user and address per hour, with the address, from every gateway', async function () {
      // Those hours are clock hours (UTC): all the refusals in one of them.
      await withinOneClockHour(this, 20_000);
      const user = await create({ ipAllowlist: ['192.0.2.0/24'] });
      const second = await startTestGateway({ databaseUri: gateway.databaseUri, env: { TRUST_PROXY: 'loopback' } });
      try {
        for (let attempt = 0; attempt < 4; attempt++) {
          await callFrom(user, '203.0.113.5');
          await restRequest(second.app, user, 'GET', '/v2/server-time', undefined, from('203.0.113.5'));
        }
        await callFrom({ ...user, password: 'Wr0ng-password' }, '203.0.113.6');
      } finally {
        await second.close();
      }
      const logged = await refusals(user.id);
      expect(logged.map((event) => event.clientIp).sort()).to.deep.equal(['203.0.113.5', '203.0.113.6']);
      for (const event of logged) expect(event.details).to.contain(event.clientIp!).and.contain('IP allowlist');
      expect(await refusals((await create({})).id), 'nothing for a user without a list').to.deep.equal([]);
    });

    it('logs the refusals of at most REFUSED_ADDRESSES_LOGGED addresses a user and hour one by one, then one event for all the others', async function () {
      await withinOneClockHour(this, 20_000);
      const user = await create({ ipAllowlist: ['192.0.2.0/24'] });
      // A burst from one address first: one address counted, not 25 calls.
      const burst = await Promise.all(Array.from({ length: 25 }, () => callFrom(user, '2001:db8:77::1').then((response) => response.status)));
      expect(new Set(burst)).to.deep.equal(new Set([401]));
      // Then calls from 40 addresses of one IPv6 prefix (the first among them), as anyone holding one can send.
      const addresses = Array.from({ length: 40 }, (_, index) => `2001:db8:77::${(index + 1).toString(16)}`);
      const statuses = await Promise.all(addresses.map((address) => callFrom(user, address).then((response) => response.status)));
      expect(new Set(statuses)).to.deep.equal(new Set([401]));
      const logged = await refusals(user.id);
      const byAddress = logged.filter((event) => event.clientIp !== null);
      expect(byAddress, 'one event an address, up to the cap').to.have.length(REFUSED_ADDRESSES_LOGGED);
      expect(new Set(byAddress.map((event) => event.clientIp)).size).to.equal(REFUSED_ADDRESSES_LOGGED);
      const others = logged.filter((event) => event.clientIp === null);
      expect(others, 'one for the others').to.have.length(1);
      expect(others[0]!.details).to.contain(`more than ${REFUSED_ADDRESSES_LOGGED} addresses`);
      await callFrom(user, '2001:db8:77::ffff');
      expect(await refusals(user.id), 'nothing more this hour').to.have.length(REFUSED_ADDRESSES_LOGGED + 1);
    });

    it('is seen by another gateway on the database within AUTH_STATE_TTL_MS', async () => {
      const user = await create({});
      const second = await startTestGateway({ databaseUri: gateway.databaseUri, env: { TRUST_PROXY: 'loopback' } });
      try {
        const onSecond = () => restRequest(second.app, user, 'GET', '/v2/server-time', undefined, from('198.51.100.1'));
        expect((await onSecond()).status).to.equal(200);
        await restRequest(gateway.app, owner, 'PUT', `/v2/api-users/${user.id}`, { ipAllowlist: ['192.0.2.0/24'] });
        // Seen within AUTH_STATE_TTL_MS (its polls run three times as often): waited for a little longer.
        await new Promise((resolve) => setTimeout(resolve, second.config.AUTH_STATE_TTL_MS + 500));
        expect((await onSecond()).status).to.equal(401);
      } finally {
        await second.close();
      }
    });
  });

  describe('client addresses', () => {
    /** A new account on the gateway, and a maker of its users with a given allowlist (checked created). */
    const allowlistedUsers = async (gateway: TestGateway) => {
      const owner = await gateway.createAccount();
      return async (ipAllowlist: string[]) => {
        const created = await restRequest(gateway.app, owner, 'POST', '/v2/api-users', { password: 'Allow3d-pw', ipAllowlist });
        expect(created.status, created.text).to.equal(201);
        return { username: (created.body as ApiUser).username, password: 'Allow3d-pw' };
      };
    };

    it('without TRUST_PROXY: the socket address, X-Forwarded-For ignored', async () => {
      const gateway = await startTestGateway();
      try {
        const userWith = await allowlistedUsers(gateway);
        const outside = await userWith(['192.0.2.0/24']);
        expect((await restRequest(gateway.app, outside, 'GET', '/v2/server-time', undefined, { 'X-Forwarded-For': '192.0.2.9' })).status, 'a header naming an allowed address').to.equal(401);
        const loopback = await userWith(['127.0.0.0/8']);
        expect((await restRequest(gateway.app, loopback, 'GET', '/v2/server-time', undefined, { 'X-Forwarded-For': '203.0.113.9' })).status, 'the socket, whatever the header').to.equal(200);
      } finally {
        await gateway.close();
      }
    });

    for (const trustProxy of ['1', 'loopback']) {
      it(`with TRUST_PROXY=${trustProxy}: the client the proxy appended, not what a caller put before it`, async () => {
        const gateway = await startTestGateway({ env: { TRUST_PROXY: trustProxy } });
        try {
          const userWith = await allowlistedUsers(gateway);
          // The caller sent "192.0.2.9"; the proxy (this loopback socket) appended the address it saw.
          const chain = { 'X-Forwarded-For': '192.0.2.9, 198.51.100.1' };
          const spoofed = await userWith(['192.0.2.0/24']);
          expect((await restRequest(gateway.app, spoofed, 'GET', '/v2/server-time', undefined, chain)).status, 'the address the caller wrote').to.equal(401);
          const real = await userWith(['198.51.100.0/24']);
          expect((await restRequest(gateway.app, real, 'GET', '/v2/server-time', undefined, chain)).status, 'the address the proxy saw').to.equal(200);
        } finally {
          await gateway.close();
        }
      });
    }

    it('matches a dual-stack socket (::ffff:127.0.0.1) to an IPv4 entry', async () => {
      const gateway = await startTestGateway();
      const dualStack = createHttpServer(gateway.app).listen(0, '::');
      try {
        await new Promise<void>((resolve) => dualStack.once('listening', resolve));
        const url = `http://127.0.0.1:${(dualStack.address() as AddressInfo).port}`;
        const owner = await gateway.createAccount();
        const created = await restRequest(url, owner, 'POST', '/v2/api-users', { password: 'Allow3d-pw', ipAllowlist: ['127.0.0.0/8'] });
        const user = created.body as ApiUser;
        expect((await restRequest(url, { username: user.username, password: 'Allow3d-pw' }, 'GET', '/v2/server-time')).status).to.equal(200);
        // The address the socket reported, as the audit log shows it: the mapped form.
        const log = (await restRequest(url, owner, 'GET', `/v2/audit-events?apiUserId=${user.id}`)).body as AuditEvent[];
        expect(log[0]?.clientIp).to.equal('::ffff:127.0.0.1');
      } finally {
        dualStack.closeAllConnections();
        await new Promise<void>((resolve) => dualStack.close(() => resolve()));
        await gateway.close();
      }
    });
  });
});
