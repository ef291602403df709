// A standard SOAP client that has never seen this code: node-soap's client, built from the
// served WSDL over a real port, with HTTP Basic, calls every operation.
import { expect } from 'chai';
import * as soap from 'soap';
import { operations } from '../src/operations/index.js';
import { startTestGateway, type TestAccount, type TestGateway } from './support/gateway.js';

type Call = (args: unknown) => Promise<[unknown, string]>;

describe('node-soap client against the served WSDL', () => {
  let gateway: TestGateway;
  let owner: TestAccount;
  let client: soap.Client;
  const call = (operation: string, args: unknown = {}) => (client[`${operation}Async`] as Call)(args).then(([result]) => result as Record<string, any>);

  before(async () => {
    gateway = await startTestGateway();
    owner = await gateway.createAccount({ name: 'Client Corp' });
    client = await soap.createClientAsync(`${gateway.baseUrl}/v2/api.svc?wsdl`, { handleNilAsNull: true } as soap.IOptions);
    client.setSecurity(new soap.BasicAuthSecurity(owner.username, owner.password));
  });
  after(() => gateway.close());

  it('sees every operation of the table in the WSDL', () => {
    const described = client.describe() as { ApiService: { ApiServiceSoap: Record<string, unknown> } };
    expect(Object.keys(described.ApiService.ApiServiceSoap).sort()).to.deep.equal(operations.map((operation) => operation.name).sort());
  });

  it('calls every operation successfully', async () => {
    const time = await call('GetServerTime');
    expect(Math.abs(new Date(time.GetServerTimeResult).getTime() - Date.now())).to.be.below(60_000);

    const info = await call('GetCurrentAccountInfo');
    const properties = info.GetCurrentAccountInfoResult.Properties.ApiAccountProperty as Array<{ Name: string; Value: string }>;
    expect(properties.map((property) => property.Name)).to.deep.equal(['Name', 'MainEmail', 'ApiEndpoint', 'ApiCallsInLastHour', 'ApiCallsRemaining', 'APILocale']);
    expect(properties[0]!.Value).to.equal('Client Corp');
    expect(properties[2]!.Value).to.equal(gateway.baseUrl);

    const created = (await call('CreateApiUser', { apiUser: { Description: 'CRM sync', Password: 'Cl1ent:secret', Enabled: true } })).CreateApiUserResult;
    expect(created.Username).to.match(/^apiuser-[0-9a-f]{12}@dualgate\.local$/);
    expect(created.Enabled).to.equal(true);
    expect(created.LockReason).to.equal(null);
    expect(created.LastUsed).to.equal(null);

    const list = (await call('GetApiUsers', { select: 10, skip: 0 })).GetApiUsersResult.ApiUser as Array<{ Id: string }>;
    expect(list.map((user) => user.Id)).to.include(created.Id);

    const fetched = (await call('GetApiUserById', { id: created.Id })).GetApiUserByIdResult;
    expect(fetched.Description).to.equal('CRM sync');

    const updated = (await call('UpdateApiUser', { id: created.Id, apiUser: { Description: 'CRM sync (EU)', CanManageAccount: true } })).UpdateApiUserResult;
    expect(updated.Description).to.equal('CRM sync (EU)');
    expect(updated.CanManageAccount).to.equal(true);

    const reset = (await call('ResetApiUserPassword', { id: created.Id, password: 'An0ther:secret' })).ResetApiUserPasswordResult;
    expect(reset.Locked).to.equal(false);

    const other = (await call('CreateApiUser', { apiUser: { Password: 'Th1rd-secret' } })).CreateApiUserResult;
    await call('DeleteApiUser', { id: other.Id });
    const deleted = (await call('DeleteApiUsers', { ids: { string: [created.Id, other.Id] } })).DeleteApiUsersResult;
    expect(deleted.DeletedCount).to.equal(1);
  });

  it('receives faults it can read: ErrorCode in the detail, HTTP 500', async () => {
    const error: unknown = await call('GetApiUserById', { id: '000000000000000000000000' }).then(
      () => expect.fail('a fault was expected'),
      (thrown: unknown) => thrown,
    );
    const fault = error as { response?: { status: number }; root?: { Envelope: { Body: { Fault: { faultcode: string; detail: { ErrorCode: string } } } } } };
    expect(fault.response?.status).to.equal(500);
    expect(fault.root?.Envelope.Body.Fault.faultcode).to.equal('soap:Client');
    expect(fault.root?.Envelope.Body.Fault.detail.ErrorCode).to.equal('ERROR_APIUSER_NOT_FOUND');
  });

  it('is refused with a 401 fault when its credentials are wrong', async () => {
    const stranger = await soap.createClientAsync(`${gateway.baseUrl}/v2/api.svc?wsdl`);
    stranger.setSecurity(new soap.BasicAuthSecurity(owner.username, 'wrong-password1'));
    const error: unknown = await (stranger.GetServerTimeAsync as Call)({}).then(
      () => expect.fail('a fault was expected'),
      (thrown: unknown) => thrown,
    );
    const fault = error as { response?: { status: number; headers: Record<string, string> }; root?: { Envelope: { Body: { Fault: { detail: { ErrorCode: string } } } } } };
    expect(fault.response?.status).to.equal(401);
    expect(fault.response?.headers['www-authenticate']).to.equal('Basic realm="dualgate"');
    expect(fault.root?.Envelope.Body.Fault.detail.ErrorCode).to.equal('ERROR_INVALID_LOGIN');
  });
});
