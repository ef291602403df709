// Every row of the contract's error table, in both protocols: status, code, and a sentence
// that tells nothing of the internals.
import { expect } from 'chai';
import { gzipSync } from 'node:zlib';
import { startDatabaseServer } from '../src/db/databaseServer.js';
import { operations } from '../src/operations/index.js';
import { startTestGateway, type TestAccount, type TestGateway } from './support/gateway.js';
import { withinOneClockHour } from './support/clockHour.js';
import { expectRestError, expectSoapFault } from './support/expectations.js';
import { restRequest } from './support/rest.js';
import { send } from './support/http.js';
import { basicAuth, envelope, soapCall, soapPost, type Credentials } from './support/soap.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

describe('the contract error table, over REST and SOAP', () => {
  let gateway: TestGateway;
  let owner: TestAccount;
  let plain: Credentials & { id: string };
  let ownerId: string;

  before(async () => {
    gateway = await startTestGateway();
    owner = await gateway.createAccount({ name: 'Errors Ltd' });
    const created = await restRequest(gateway.app, owner, 'POST', '/v2/api-users', { description: 'no rights', password: 'Pl4in-user' });
    plain = { id: (created.body as { id: string }).id, username: (created.body as { username: string }).username, password: 'Pl4in-user' };
    const list = await restRequest(gateway.app, owner, 'GET', '/v2/api-users');
    ownerId = (list.body as Array<{ id: string; isOwner: boolean }>).find((user) => user.isOwner)!.id;
  });
  after(() => gateway.close());

  describe('400 ERROR_PARAMETER_INVALID', () => {
    const cases: Array<{ what: string; rest: [string, string, unknown?]; soap: [string, string]; field?: [string, string] }> = [
      {
        what: 'a required field missing',
        rest: ['POST', '/v2/api-users', { description: 'x' }],
        soap: ['CreateApiUser', '<apiUser><Description>x</Description></apiUser>'],
        field: ["'password' is required", "'apiUser/Password' is required"],
      },
      {
        what: 'a field of the wrong type',
        rest: ['POST', '/v2/api-users', { password: 'G00d-secret', enabled: 'yes' }],
        soap: ['CreateApiUser', '<apiUser><Password>G00d-secret</Password><Enabled>yes</Enabled></apiUser>'],
        field: ["'enabled' must be true or false", "'apiUser/Enabled' must be true or false"],
      },
      {
        what: 'a field too long',
        rest: ['POST', '/v2/api-users', { password: 'G00d-secret', description: 'd'.repeat(201) }],
        soap: ['CreateApiUser', `<apiUser><Description>${'d'.repeat(201)}</Description><Password>G00d-secret</Password></apiUser>`],
        field: ["'description' must be at most 200 characters long", "'apiUser/Description' must be at most 200 characters long"],
      },
      {
        what: 'an unknown field',
        rest: ['POST', '/v2/api-users', { password: 'G00d-secret', colour: 'red' }],
        soap: ['CreateApiUser', '<apiUser><Password>G00d-secret</Password><Colour>red</Colour></apiUser>'],
        field: ["'colour' is not a known field", "'apiUser/Colour' is not a known field"],
      },
      {
        what: "a field's name in the wrong case: named as sent, not as the known one",
        rest: ['POST', '/v2/api-users', { password: 'G00d-secret', Password: 'G00d-secret' }],
        soap: ['CreateApiUser', '<apiUser><Password>G00d-secret</Password><password>G00d-secret</password></apiUser>'],
        field: ["'Password' is not a known field", "'apiUser/password' is not a known field"],
      },
      {
        what: 'select out of range',
        rest: ['GET', '/v2/api-users?select=1001'],
        soap: ['GetApiUsers', '<select>1001</select>'],
        field: ["'select' must be at most 1000", "'select' must be at most 1000"],
      },
      {
        what: 'select zero',
        rest: ['GET', '/v2/api-users?select=0'],
        soap: ['GetApiUsers', '<select>0</select>'],
      },
      {
        what: 'a negative skip',
        rest: ['GET', '/v2/api-users?skip=-1'],
        soap: ['GetApiUsers', '<skip>-1</skip>'],
      },
      {
        what: 'a number that is not a whole number',
        rest: ['GET', '/v2/api-users?select=1.5'],
        soap: ['GetApiUsers', '<select>1.5</select>'],
      },
      {
        what: 'a huge number',
        rest: ['GET', '/v2/api-users?skip=99999999999999999999999'],
        soap: ['GetApiUsers', '<skip>99999999999999999999999</skip>'],
      },
      {
        what: 'an empty change',
        rest: ['PUT', '/v2/api-users/000000000000000000000000', {}],
        soap: ['UpdateApiUser', '<id>000000000000000000000000</id><apiUser/>'],
      },
      {
        what: 'an empty list of ids',
        rest: ['POST', '/v2/api-users/delete', { ids: [] }],
        soap: ['DeleteApiUsers', '<ids/>'],
      },
      {
        what: 'select out of range for the audit log',
        rest: ['GET', '/v2/audit-events?select=1001'],
        soap: ['GetAuditEvents', '<select>1001</select>'],
        field: ["'select' must be at most 1000", "'select' must be at most 1000"],
      },
      {
        what: 'a negative skip for the audit log',
        rest: ['GET', '/v2/audit-events?skip=-1'],
        soap: ['GetAuditEvents', '<skip>-1</skip>'],
        field: ["'skip' must be at least 0", "'skip' must be at least 0"],
      },
      {
        what: 'a value where the fields belong',
        rest: ['POST', '/v2/api-users', '"hello"'],
        soap: ['CreateApiUser', 'hello'],
        field: ['The request body must be an object', 'The element CreateApiUser holds text; it takes only the elements the WSDL declares for it'],
      },
      {
        what: 'a control character (REST: XML cannot carry one at all) and a repeated element (SOAP)',
        rest: ['POST', '/v2/api-users', { password: 'G00d-secret', description: 'bell\u0007' }],
        soap: ['CreateApiUser', '<apiUser><Password>G00d-secret</Password><Description>ok</Description><Description>twice</Description></apiUser>'],
      },
    ];
    for (const testCase of cases) {
      it(`answers ${testCase.what}`, async () => {
        const [method, path, body] = testCase.rest;
        const rest = expectRestError(await restRequest(gateway.app, owner, method, path, body), 400, 'ERROR_PARAMETER_INVALID');
        const soap = expectSoapFault(await soapCall(gateway.app, owner, ...testCase.soap), 500, 'ERROR_PARAMETER_INVALID');
        if (testCase.field) {
          expect(rest).to.include(testCase.field[0]);
          expect(soap).to.include(testCase.field[1]);
        }
      });
    }

    it('answers malformed JSON and malformed XML', async () => {
      const rest = await restRequest(gateway.app, owner, 'POST', '/v2/api-users', '{"password": "x",');
      expect(expectRestError(rest, 400, 'ERROR_PARAMETER_INVALID')).to.include('not valid JSON');
      const soap = await soapPost(gateway.app, owner, '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><GetServerTime');
      expect(expectSoapFault(soap, 400, 'ERROR_PARAMETER_INVALID')).to.include('not well-formed XML');
    });

    it('answers a JSON body that is not an object, and a body where none belongs', async () => {
      expectRestError(await restRequest(gateway.app, owner, 'POST', '/v2/api-users', [1, 2]), 400, 'ERROR_PARAMETER_INVALID');
      expectRestError(await restRequest(gateway.app, owner, 'POST', '/v2/api-users/delete', '"ids"'), 400, 'ERROR_PARAMETER_INVALID');
      expectRestError(await restRequest(gateway.app, owner, 'GET', '/v2/server-time?x=1'), 400, 'ERROR_PARAMETER_INVALID');
      expectRestError(await restRequest(gateway.app, owner, 'DELETE', `/v2/api-users/${plain.id}`, { really: true }), 400, 'ERROR_PARAMETER_INVALID');
    });

    it('answers prototype-polluting keys as unknown fields, and pollutes nothing', async () => {
      const response = await restRequest(gateway.app, owner, 'POST', '/v2/api-users', '{"password":"G00d-secret","__proto__":{"isOwner":true}}');
      expect(expectRestError(response, 400, 'ERROR_PARAMETER_INVALID')).to.include("'__proto__' is not a known field");
      const constructor = await restRequest(gateway.app, owner, 'PUT', `/v2/api-users/${plain.id}`, '{"constructor":{"prototype":{"isOwner":true}}}');
      expectRestError(constructor, 400, 'ERROR_PARAMETER_INVALID');
      expect(({} as Record<string, unknown>).isOwner).to.equal(undefined);
    });

    it('answers a SOAP element outside the service namespace', async () => {
      const soap = await soapPost(
        gateway.app,
        owner,
        envelope('GetApiUserById', '<id xmlns="urn:other">000000000000000000000000</id>'),
      );
      expect(expectSoapFault(soap, 500, 'ERROR_PARAMETER_INVALID')).to.include('not a known field');
    });
  });

  it('400 ERROR_WEAK_PASSWORD names every failing rule, in both protocols', async () => {
    const rest = expectRestError(
      await restRequest(gateway.app, owner, 'POST', '/v2/api-users', { password: 'password' }),
      400,
      'ERROR_WEAK_PASSWORD',
    );
    expect(rest).to.include('at least one digit');
    expect(rest).to.include('the word "password"');
    const soap = expectSoapFault(await soapCall(gateway.app, owner, 'CreateApiUser', '<apiUser><Password>password</Password></apiUser>'), 500, 'ERROR_WEAK_PASSWORD');
    expect(soap).to.equal(rest);
  });

  it('401 ERROR_INVALID_LOGIN with the challenge and the contract sentence', async () => {
    const rest = await restRequest(gateway.app, { username: owner.username, password: 'wrong' }, 'GET', '/v2/server-time');
    expect(expectRestError(rest, 401, 'ERROR_INVALID_LOGIN')).to.equal('Authorization has been denied for this request. ERROR_INVALID_LOGIN');
    expect(rest.headers.get('www-authenticate')).to.equal('Basic realm="dualgate"');
    const soap = await soapCall(gateway.app, { username: owner.username, password: 'wrong' }, 'GetServerTime');
    expect(expectSoapFault(soap, 401, 'ERROR_INVALID_LOGIN')).to.equal('Authorization has been denied for this request. ERROR_INVALID_LOGIN');
    expect(soap.headers.get('www-authenticate')).to.equal('Basic realm="dualgate"');
    expect(rest.headers.get('x-ratelimit-limit'), 'no quota headers before authentication').to.equal(null);
  });

  it('403 ERROR_PERMISSION_DENIED for every management operation, before any input check', async () => {
    for (const operation of operations.filter((candidate) => candidate.permission === 'manageAccount')) {
      const path = operation.rest.path.replace(':id', ownerId);
      const rest = await restRequest(gateway.app, plain, operation.rest.method, `/v2${path}`, operation.rest.method === 'GET' || operation.rest.method === 'DELETE' ? undefined : {});
      expectRestError(rest, 403, 'ERROR_PERMISSION_DENIED');
      expectSoapFault(await soapCall(gateway.app, plain, operation.name), 500, 'ERROR_PERMISSION_DENIED');
    }
    // Nor does bad input of any kind tell it more: unknown fields and query parameters, a body
    // that is not JSON, a body where none is taken, an unknown or repeated element.
    const badInputs: Array<[string, string, Record<string, string>?, (string | Buffer)?]> = [
      ['GET', '/v2/api-users?foo=1'],
      ['GET', `/v2/api-users/${ownerId}?select=1`],
      ['DELETE', `/v2/api-users/${ownerId}`, { 'Content-Type': 'application/json' }, '{}'],
      ['POST', '/v2/api-users/delete', { 'Content-Type': 'application/json' }, '{"foo":1}'],
      ['POST', '/v2/api-users/delete', { 'Content-Type': 'application/json' }, '{bad'],
      ['POST', '/v2/api-users', { 'Content-Type': 'text/plain' }, 'not json'],
    ];
    for (const [method, path, headers = {}, body] of badInputs) {
      const response = await send(gateway.app, method, path, { ...headers, Authorization: basicAuth(plain) }, body);
      expect(response.status, `${method} ${path} ${String(body)}: ${response.text}`).to.equal(403);
      expect(response.text).to.include('ERROR_PERMISSION_DENIED');
    }
    for (const [name, parameters] of [
      ['GetApiUsers', '<bogus/>'],
      ['GetApiUsers', '<select>1</select><select>2</select>'],
      ['UpdateApiUser', '<id>x</id><apiUser><Nope>1</Nope></apiUser>'],
    ] as const) {
      expectSoapFault(await soapCall(gateway.app, plain, name, parameters), 500, 'ERROR_PERMISSION_DENIED');
    }
    // What any API user may call, it may.
    expect((await restRequest(gateway.app, plain, 'GET', '/v2/account-info')).status).to.equal(200);
  });

  describe('404 ERROR_APIUSER_NOT_FOUND', () => {
    it('for an id that names no one, or is no id at all', async () => {
      for (const id of ['000000000000000000000000', 'not-an-id', '%24where']) {
        expectRestError(await restRequest(gateway.app, owner, 'GET', `/v2/api-users/${id}`), 404, 'ERROR_APIUSER_NOT_FOUND');
      }
      expectSoapFault(await soapCall(gateway.app, owner, 'GetApiUserById', '<id>not-an-id</id>'), 500, 'ERROR_APIUSER_NOT_FOUND');
      expectSoapFault(await soapCall(gateway.app, owner, 'GetApiUserById', '<id/>'), 500, 'ERROR_APIUSER_NOT_FOUND');
    });

    it("for another account's user: exactly like an id that does not exist", async () => {
      const other = await gateway.createAccount({ name: 'Other Co' });
      const theirs = await restRequest(gateway.app, other, 'POST', '/v2/api-users', { password: 'Th31rs-only' });
      const theirId = (theirs.body as { id: string }).id;
      const unknown = await restRequest(gateway.app, owner, 'GET', '/v2/api-users/000000000000000000000000');
      for (const [method, path, body] of [
        ['GET', `/v2/api-users/${theirId}`, undefined],
        ['PUT', `/v2/api-users/${theirId}`, { enabled: false }],
        ['PUT', `/v2/api-users/${theirId}/password`, { password: 'St0len-secret' }],
        ['DELETE', `/v2/api-users/${theirId}`, undefined],
      ] as const) {
        const response = await restRequest(gateway.app, owner, method, path, body);
        expectRestError(response, 404, 'ERROR_APIUSER_NOT_FOUND');
        expect(response.body).to.deep.equal(unknown.body);
      }
      const bulk = await restRequest(gateway.app, owner, 'POST', '/v2/api-users/delete', { ids: [theirId] });
      expect(bulk.body).to.deep.equal({ deletedCount: 0 });
      const soap = await soapCall(gateway.app, owner, 'GetApiUserById', `<id>${theirId}</id>`);
      expectSoapFault(soap, 500, 'ERROR_APIUSER_NOT_FOUND');
      // and they are untouched
      const still = await restRequest(gateway.app, other, 'GET', `/v2/api-users/${theirId}`);
      expect((still.body as { enabled: boolean }).enabled).to.equal(true);
    });
  });

  it('404 ERROR_NOT_FOUND for a REST route that does not exist', async () => {
    expectRestError(await restRequest(gateway.app, owner, 'GET', '/v2/no-such-thing'), 404, 'ERROR_NOT_FOUND');
    expectRestError(await restRequest(gateway.app, owner, 'PATCH', '/v2/api-users'), 404, 'ERROR_NOT_FOUND');
    expectRestError(await restRequest(gateway.app, null, 'GET', '/elsewhere'), 404, 'ERROR_NOT_FOUND');
    // Under /v2 only a caller who may know learns which routes exist.
    expectRestError(await restRequest(gateway.app, null, 'GET', '/v2/no-such-thing'), 401, 'ERROR_INVALID_LOGIN');
    expectRestError(await restRequest(gateway.app, { username: 'nobody@example.com', password: 'x' }, 'PATCH', '/v2/api-users'), 401, 'ERROR_INVALID_LOGIN');
  });

  describe('409 ERROR_OPERATION_NOT_ALLOWED protects the owner', () => {
    it('from being deleted, disabled or losing its permission, in both protocols', async () => {
      expectRestError(await restRequest(gateway.app, owner, 'DELETE', `/v2/api-users/${ownerId}`), 409, 'ERROR_OPERATION_NOT_ALLOWED');
      expectRestError(await restRequest(gateway.app, owner, 'PUT', `/v2/api-users/${ownerId}`, { enabled: false }), 409, 'ERROR_OPERATION_NOT_ALLOWED');
      expectRestError(await restRequest(gateway.app, owner, 'PUT', `/v2/api-users/${ownerId}`, { canManageAccount: false }), 409, 'ERROR_OPERATION_NOT_ALLOWED');
      expectSoapFault(await soapCall(gateway.app, owner, 'DeleteApiUser', `<id>${ownerId}</id>`), 500, 'ERROR_OPERATION_NOT_ALLOWED');
      expectSoapFault(await soapCall(gateway.app, owner, 'UpdateApiUser', `<id>${ownerId}</id><apiUser><Enabled>false</Enabled></apiUser>`), 500, 'ERROR_OPERATION_NOT_ALLOWED');
      const self = await restRequest(gateway.app, owner, 'GET', `/v2/api-users/${ownerId}`);
      expect(self.body).to.include({ enabled: true, canManageAccount: true, isOwner: true });
    });

    it('and a bulk delete naming the owner deletes no one', async () => {
      const response = await restRequest(gateway.app, owner, 'POST', '/v2/api-users/delete', { ids: [plain.id, ownerId] });
      expectRestError(response, 409, 'ERROR_OPERATION_NOT_ALLOWED');
      expectSoapFault(await soapCall(gateway.app, owner, 'DeleteApiUsers', `<ids><string>${plain.id}</string><string>${ownerId}</string></ids>`), 500, 'ERROR_OPERATION_NOT_ALLOWED');
      expect((await restRequest(gateway.app, owner, 'GET', `/v2/api-users/${plain.id}`)).status).to.equal(200);
    });

    it('while its description can still be changed', async () => {
      const response = await restRequest(gateway.app, owner, 'PUT', `/v2/api-users/${ownerId}`, { description: 'The boss', enabled: true });
      expect(response.status).to.equal(200);
      expect(response.body).to.include({ description: 'The boss', isOwner: true });
    });
  });

  it('413 ERROR_REQUEST_TOO_LARGE past 100 KB (REST) and 1 MB (SOAP), compressed or not', async () => {
    const big = { password: 'G00d-secret', description: 'x'.repeat(110 * 1024) };
    expectRestError(await restRequest(gateway.app, owner, 'POST', '/v2/api-users', big), 413, 'ERROR_REQUEST_TOO_LARGE');
    const hugeEnvelope = envelope('GetServerTime', `<!-- ${'x'.repeat(1024 * 1024)} -->`);
    expectSoapFault(await soapPost(gateway.app, owner, hugeEnvelope), 413, 'ERROR_REQUEST_TOO_LARGE');
    const bomb = gzipSync(Buffer.from(hugeEnvelope));
    expect(bomb.length).to.be.below(10 * 1024);
    expectSoapFault(await soapPost(gateway.app, owner, bomb, { 'Content-Encoding': 'gzip' }), 413, 'ERROR_REQUEST_TOO_LARGE');
    const jsonBomb = gzipSync(Buffer.from(JSON.stringify(big)));
    const response = await send(
      gateway.app,
      'POST',
      '/v2/api-users',
      { 'Content-Type': 'application/json', 'Content-Encoding': 'gzip', Authorization: basicAuth(owner) },
      jsonBomb,
    );
    expect(response.status).to.equal(413);
  });

  it('415 ERROR_CONTENT_TYPE_IS_NOT_SUPPORTED: REST body not JSON, SOAP body not XML (or SOAP 1.2)', async () => {
    expectRestError(
      await restRequest(gateway.app, owner, 'POST', '/v2/api-users', 'password=x', { 'Content-Type': 'application/x-www-form-urlencoded' }),
      415,
      'ERROR_CONTENT_TYPE_IS_NOT_SUPPORTED',
    );
    const json = await soapPost(gateway.app, owner, '{"GetServerTime":{}}', { 'Content-Type': 'application/json' });
    expectSoapFault(json, 415, 'ERROR_CONTENT_TYPE_IS_NOT_SUPPORTED');
    const soap12 = await soapPost(gateway.app, owner, envelope('GetServerTime'), { 'Content-Type': 'application/soap+xml; charset=utf-8' });
    expect(expectSoapFault(soap12, 415, 'ERROR_CONTENT_TYPE_IS_NOT_SUPPORTED')).to.include('SOAP 1.1');
  });

  it('429 ERROR_APIUSAGE_EXCEEDED with Retry-After once the hourly quota is spent, across both protocols', async function () {
    await withinOneClockHour(this, 10_000);
    const small = await gateway.createAccount({ callsPerHour: 3 });
    expect((await restRequest(gateway.app, small, 'GET', '/v2/server-time')).status).to.equal(200);
    expect((await soapCall(gateway.app, small, 'GetServerTime')).status).to.equal(200);
    const third = await restRequest(gateway.app, small, 'GET', '/v2/server-time');
    expect(third.headers.get('x-ratelimit-remaining')).to.equal('0');
    const rest = await restRequest(gateway.app, small, 'GET', '/v2/server-time');
    expectRestError(rest, 429, 'ERROR_APIUSAGE_EXCEEDED');
    const retryAfter = Number(rest.headers.get('retry-after'));
    expect(retryAfter).to.be.within(1, 3600);
    expect(rest.headers.get('x-ratelimit-limit')).to.equal('3');
    expect(rest.headers.get('x-ratelimit-remaining')).to.equal('0');
    expect(Number(rest.headers.get('x-ratelimit-reset'))).to.equal(retryAfter);
    const soap = await soapCall(gateway.app, small, 'GetServerTime');
    expectSoapFault(soap, 429, 'ERROR_APIUSAGE_EXCEEDED');
    expect(Number(soap.headers.get('retry-after'))).to.be.within(1, 3600);
    // Another account is not touched by it.
    expect((await restRequest(gateway.app, owner, 'GET', '/v2/server-time')).status).to.equal(200);
  });

  it('500 ERROR_UNKNOWN: logged with a request id, never shown', async () => {
    const broken = operations.map((operation) =>
      operation.name === 'GetServerTime'
        ? { ...operation, handle: async () => { throw new TypeError('secret detail at /srv/internal/path.ts:12'); } }
        : operation,
    );
    const lines: string[] = [];
    const faulty = await startTestGateway({ operations: broken, logLines: lines });
    try {
      const account = await faulty.createAccount();
      const rest = await restRequest(faulty.app, account, 'GET', '/v2/server-time', undefined, { 'X-Request-Id': 'trace-me-123' });
      expect(expectRestError(rest, 500, 'ERROR_UNKNOWN')).to.include('trace-me-123');
      expect(rest.headers.get('x-request-id')).to.equal('trace-me-123');
      expect(rest.text).to.not.include('secret detail');
      const soap = await soapCall(faulty.app, account, 'GetServerTime');
      expectSoapFault(soap, 500, 'ERROR_UNKNOWN', 'soap:Server');
      expect(soap.fault!.faultstring).to.include(soap.headers.get('x-request-id')!);
      expect(soap.text).to.not.include('secret detail');
    } finally {
      await faulty.close();
    }
    const logged = lines.map(
      (line) => JSON.parse(line) as { requestId?: string; msg: string; err?: { message: string }; level: number; status?: number; operation?: string; error?: string },
    );
    const entry = logged.find((line) => line.requestId === 'trace-me-123');
    expect(entry?.msg).to.equal('unexpected error');
    expect(entry?.err?.message).to.include('secret detail');
    // The request lines of both doors are errors: the server was at fault.
    const requestLines = logged.filter((line) => line.msg === 'request' && line.operation === 'GetServerTime');
    expect(requestLines.map(({ level, status, error }) => ({ level, status, error }))).to.deep.equal([
      { level: 50, status: 500, error: 'ERROR_UNKNOWN' },
      { level: 50, status: 500, error: 'ERROR_UNKNOWN' },
    ]);
  });

  it('503 ERROR_SYSTEM_SERVICETEMPORARILYUNAVAILABLE when the database cannot be reached', async function () {
    this.timeout(60_000);
    const dataDir = mkdtempSync(join(tmpdir(), 'dualgate-503-'));
    const server = await startDatabaseServer({ dataDir, databaseName: 'gone' });
    const lines: string[] = [];
    const doomed = await startTestGateway({ databaseUri: server.uri, logLines: lines });
    try {
      const account = await doomed.createAccount();
      expect((await restRequest(doomed.app, account, 'GET', '/v2/server-time')).status).to.equal(200);
      await server.stop();
      const started = Date.now();
      expectRestError(await restRequest(doomed.app, account, 'GET', '/v2/account-info'), 503, 'ERROR_SYSTEM_SERVICETEMPORARILYUNAVAILABLE');
      expectSoapFault(await soapCall(doomed.app, account, 'GetCurrentAccountInfo'), 500, 'ERROR_SYSTEM_SERVICETEMPORARILYUNAVAILABLE', 'soap:Server');
      expect(Date.now() - started, 'answered without hanging').to.be.below(15_000);
      // Both answers were chosen (with Retry-After), not faults of the code: their lines are
      // warnings, the SOAP one too although its fault is HTTP 500.
      const requestLines = lines.map((line) => JSON.parse(line) as Record<string, unknown>).filter((line) => line.msg === 'request' && line.error);
      expect(requestLines.map(({ level, protocol, status, error }) => ({ level, protocol, status, error }))).to.deep.equal([
        { level: 40, protocol: 'rest', status: 503, error: 'ERROR_SYSTEM_SERVICETEMPORARILYUNAVAILABLE' },
        { level: 40, protocol: 'soap', status: 500, error: 'ERROR_SYSTEM_SERVICETEMPORARILYUNAVAILABLE' },
      ]);
    } finally {
      await doomed.close().catch(() => {});
      await server.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
