// Rules of the contract's data that the error table and the parity rows do not pin down: what
// GetCurrentAccountInfo holds, value by value and type by type; that a list shows the caller's
// own account only; that generated and fixed fields cannot be set; and the REST body limit from
// both sides. Over REST and SOAP alike.
import { expect } from 'chai';
import { operations } from '../src/operations/index.js';
import { toJsonSchema } from '../src/operations/jsonSchema.js';
import { expectRestError, expectSoapFault } from './support/expectations.js';
import { startTestGateway, type TestAccount, type TestGateway } from './support/gateway.js';
import { restRequest } from './support/rest.js';
import { soapCall, soapResult } from './support/soap.js';

const resultSchema = (name: string) => toJsonSchema(operations.find((operation) => operation.name === name)!.result!, 'output');

interface AccountInfo {
  id: string;
  properties: Array<{ name: string; type: string; value: string }>;
}

describe('the contract, field by field', () => {
  let gateway: TestGateway;
  let owner: TestAccount;
  let other: TestAccount;

  before(async () => {
    gateway = await startTestGateway({ env: { PUBLIC_URL: 'https://api.example.com/' } });
    owner = await gateway.createAccount({ name: 'Fields Ltd', callsPerHour: 5000 });
    other = await gateway.createAccount({ name: 'Elsewhere Ltd' });
  });
  after(() => gateway.close());

  it('GetCurrentAccountInfo: the id, then the six properties in order, each with its type and value, in both protocols', async () => {
    const rest = await restRequest(gateway.app, owner, 'GET', '/v2/account-info');
    expect(rest.status, rest.text).to.equal(200);
    const info = rest.body as AccountInfo;
    expect(info.id).to.equal(owner.accountId);
    const used = Number(info.properties.find((property) => property.name === 'ApiCallsInLastHour')?.value);
    expect(info.properties).to.deep.equal([
      { name: 'Name', type: 'String', value: 'Fields Ltd' },
      { name: 'MainEmail', type: 'String', value: (await gateway.database.models.Account.findById(owner.accountId).lean().exec())?.mainEmail },
      { name: 'ApiEndpoint', type: 'String', value: 'https://api.example.com' },
      { name: 'ApiCallsInLastHour', type: 'Int', value: String(used) },
      { name: 'ApiCallsRemaining', type: 'Int', value: String(5000 - used) },
      { name: 'APILocale', type: 'String', value: 'en-GB' },
    ]);
    expect(used, 'this call counted').to.be.at.least(1);
    const soap = soapResult(await soapCall(gateway.app, owner, 'GetCurrentAccountInfo'), 'GetCurrentAccountInfo', resultSchema('GetCurrentAccountInfo')) as AccountInfo;
    expect(soap.id).to.equal(owner.accountId);
    expect(soap.properties.map(({ name, type }) => [name, type])).to.deep.equal(info.properties.map(({ name, type }) => [name, type]));
    expect(soap.properties.find((property) => property.name === 'ApiCallsInLastHour')?.value, 'the SOAP call counted too').to.equal(String(used + 1));
  });

  it('GetApiUsers shows the caller its own account only, in both protocols', async () => {
    for (const account of [owner, other]) {
      for (const description of ['one', 'two']) {
        const created = await restRequest(gateway.app, account, 'POST', '/v2/api-users', { password: 'Ten4ncy-pw-1', description: `${account.name} ${description}` });
        expect(created.status, created.text).to.equal(201);
      }
    }
    const listed = async (account: TestAccount) => {
      const rest = (await restRequest(gateway.app, account, 'GET', '/v2/api-users')).body as Array<{ id: string; description: string }>;
      const soap = soapResult(await soapCall(gateway.app, account, 'GetApiUsers'), 'GetApiUsers', resultSchema('GetApiUsers')) as Array<{ id: string }>;
      expect(soap.map((user) => user.id), 'the same over SOAP').to.deep.equal(rest.map((user) => user.id));
      return rest.map((user) => user.description);
    };
    expect(await listed(owner)).to.deep.equal(['Account owner', 'Fields Ltd one', 'Fields Ltd two']);
    expect(await listed(other)).to.deep.equal(['Account owner', 'Elsewhere Ltd one', 'Elsewhere Ltd two']);
  });

  it('refuses to set what is generated or fixed (username, isOwner), in both protocols, and changes nothing', async () => {
    const created = await restRequest(gateway.app, owner, 'POST', '/v2/api-users', { password: 'F1xed-fields' });
    expect(created.status, created.text).to.equal(201);
    const user = created.body as { id: string };
    const attempts: Array<[string, string, Record<string, unknown>, string, string]> = [
      ['POST', '/v2/api-users', { password: 'F1xed-fields', username: 'chosen@dualgate.local' }, 'CreateApiUser', '<apiUser><Password>F1xed-fields</Password><Username>chosen@dualgate.local</Username></apiUser>'],
      ['POST', '/v2/api-users', { password: 'F1xed-fields', isOwner: true }, 'CreateApiUser', '<apiUser><Password>F1xed-fields</Password><IsOwner>true</IsOwner></apiUser>'],
      ['PUT', `/v2/api-users/${user.id}`, { username: 'chosen@dualgate.local' }, 'UpdateApiUser', `<id>${user.id}</id><apiUser><Username>chosen@dualgate.local</Username></apiUser>`],
      ['PUT', `/v2/api-users/${user.id}`, { isOwner: true }, 'UpdateApiUser', `<id>${user.id}</id><apiUser><IsOwner>true</IsOwner></apiUser>`],
    ];
    // Every field but the last use (the owner's own calls here move it).
    const users = async () =>
      ((await restRequest(gateway.app, owner, 'GET', '/v2/api-users')).body as Array<Record<string, unknown>>).map(({ lastUsed: _lastUsed, ...fields }) => fields);
    const before = await users();
    for (const [method, path, body, operation, xml] of attempts) {
      expect(expectRestError(await restRequest(gateway.app, owner, method, path, body), 400, 'ERROR_PARAMETER_INVALID'), path).to.match(/is not a known field/);
      expect(expectSoapFault(await soapCall(gateway.app, owner, operation, xml), 500, 'ERROR_PARAMETER_INVALID'), operation).to.match(/is not a known field/);
    }
    expect(await users(), 'no user made, none changed').to.deep.equal(before);
  });

  it('marks every answer, success or error, REST or SOAP or the WSDL, nosniff and not to be stored', async () => {
    const answers = [
      await restRequest(gateway.app, owner, 'GET', '/v2/account-info'),
      await restRequest(gateway.app, { ...owner, password: 'wrong' }, 'GET', '/v2/account-info'),
      await soapCall(gateway.app, owner, 'GetServerTime'),
      await restRequest(gateway.app, null, 'GET', '/v2/api.svc?wsdl'),
    ];
    for (const answer of answers) {
      expect(answer.headers.get('x-content-type-options'), String(answer.status)).to.equal('nosniff');
      expect(answer.headers.get('cache-control'), String(answer.status)).to.equal('no-store');
    }
  });

  it('takes a REST body up to its limit (100 KB), and answers 413 only past it', async () => {
    const json = (bytes: number) => `{"password":"B0dy-limit-1","description":"${'d'.repeat(bytes - 45)}"}`;
    const within = await restRequest(gateway.app, owner, 'POST', '/v2/api-users', json(99 * 1024));
    expect(Buffer.byteLength(json(99 * 1024))).to.be.within(99 * 1024 - 10, 99 * 1024 + 10);
    // Read whole and checked: a description that long is the caller's fault, not the size.
    expect(expectRestError(within, 400, 'ERROR_PARAMETER_INVALID')).to.match(/description/);
    expectRestError(await restRequest(gateway.app, owner, 'POST', '/v2/api-users', json(101 * 1024)), 413, 'ERROR_REQUEST_TOO_LARGE');
  });
});
