// Managing API users: what the contract promises beyond the error table.
import { expect } from 'chai';
import { startTestGateway, type TestAccount, type TestGateway } from './support/gateway.js';
import { restRequest } from './support/rest.js';
import { soapCall, soapResult } from './support/soap.js';
import { toJsonSchema } from '../src/operations/jsonSchema.js';
import { apiUser } from '../src/operations/schemas.js';

const userSchema = toJsonSchema(apiUser, 'output');

interface ApiUser {
  id: string;
  username: string;
  description: string;
  enabled: boolean;
  locked: boolean;
  lockReason: string | null;
  canManageAccount: boolean;
  isOwner: boolean;
  created: string;
  lastUsed: string | null;
  failedLoginCount: number;
  lastFailedLogin: string | null;
}

describe('API user management', () => {
  let gateway: TestGateway;
  let owner: TestAccount;
  const create = async (body: Record<string, unknown>) => {
    const response = await restRequest(gateway.app, owner, 'POST', '/v2/api-users', body);
    expect(response.status, response.text).to.equal(201);
    return response.body as ApiUser;
  };

  before(async () => {
    gateway = await startTestGateway({ env: { API_USER_DOMAIN: 'API.Example.com' } });
    owner = await gateway.createAccount({ name: 'Manage Me' });
  });
  after(() => gateway.close());

  it('creates with a generated username on API_USER_DOMAIN and the contract defaults', async () => {
    const user = await create({ password: 'Cr3ate-me' });
    expect(user.username).to.match(/^apiuser-[0-9a-f]{12}@api\.example\.com$/);
    expect(user).to.include({ description: '', enabled: true, locked: false, lockReason: null, canManageAccount: false, isOwner: false, lastUsed: null });
    expect(Date.parse(user.created)).to.be.closeTo(Date.now(), 60_000);
    expect(Object.keys(user)).to.deep.equal(['id', 'username', 'description', 'enabled', 'locked', 'lockReason', 'canManageAccount', 'isOwner', 'created', 'lastUsed', 'failedLoginCount', 'lastFailedLogin', 'ipAllowlist', 'previousPasswordExpires']);
    expect(user).to.deep.include({ ipAllowlist: [], previousPasswordExpires: null });
  });

  it('gives every user a different username', async () => {
    const users = await Promise.all(Array.from({ length: 10 }, () => create({ password: 'Un1que-name' })));
    expect(new Set(users.map((user) => user.username)).size).to.equal(10);
  });

  it('creates a manager that can manage, and a disabled user that cannot log in', async () => {
    const manager = await create({ password: 'Manag3r-x', canManageAccount: true, description: 'CRM' });
    const list = await restRequest(gateway.app, { username: manager.username, password: 'Manag3r-x' }, 'GET', '/v2/api-users');
    expect(list.status).to.equal(200);
    const disabled = await create({ password: 'D1sabled-x', enabled: false });
    expect(disabled.enabled).to.equal(false);
    expect((await restRequest(gateway.app, { username: disabled.username, password: 'D1sabled-x' }, 'GET', '/v2/server-time')).status).to.equal(401);
  });

  it('lists oldest first, with select and skip, the owner first of all', async () => {
    const all = (await restRequest(gateway.app, owner, 'GET', '/v2/api-users')).body as ApiUser[];
    expect(all[0]!.isOwner).to.equal(true);
    const created = all.map((user) => user.created);
    expect(created).to.deep.equal([...created].sort());
    const page = (await restRequest(gateway.app, owner, 'GET', '/v2/api-users?select=2&skip=1')).body as ApiUser[];
    expect(page.map((user) => user.id)).to.deep.equal(all.slice(1, 3).map((user) => user.id));
    const beyond = (await restRequest(gateway.app, owner, 'GET', `/v2/api-users?skip=${all.length}`)).body as ApiUser[];
    expect(beyond).to.deep.equal([]);
  });

  it('updates only the fields given', async () => {
    const user = await create({ password: 'Upd4te-me', description: 'before', canManageAccount: true });
    const updated = (await restRequest(gateway.app, owner, 'PUT', `/v2/api-users/${user.id}`, { enabled: false })).body as ApiUser;
    expect(updated).to.include({ description: 'before', enabled: false, canManageAccount: true });
    expect(updated.username).to.equal(user.username);
    const again = (await restRequest(gateway.app, owner, 'PUT', `/v2/api-users/${user.id}`, { description: '' })).body as ApiUser;
    expect(again).to.include({ description: '', enabled: false });
  });

  it('keeps descriptions exactly, whitespace and markup included, in both protocols', async () => {
    const description = '  Shop <EU> & "Co" \u00e9\n';
    const user = await create({ password: 'Exact-text1', description });
    expect(user.description).to.equal(description);
    const soap = await soapCall(gateway.app, owner, 'GetApiUserById', `<id>${user.id}</id>`);
    expect((soapResult(soap, 'GetApiUserById', userSchema) as ApiUser).description).to.equal(description);
    const soapCreated = await soapCall(gateway.app, owner, 'CreateApiUser', '<apiUser><Description>  padded  </Description><Password>Exact-text1</Password></apiUser>');
    expect((soapResult(soapCreated, 'CreateApiUser', userSchema) as ApiUser).description).to.equal('  padded  ');
  });

  it('cannot inject XML into a SOAP response through a description', async () => {
    for (const description of ['<![CDATA[x]]><Injected/><![CDATA[y]]>', '<![CDATA[]]>', ']]></Description><Injected/>']) {
      const user = await create({ password: 'Inj3ction-x', description });
      const soap = await soapCall(gateway.app, owner, 'GetApiUserById', `<id>${user.id}</id>`);
      expect(soap.status, soap.text).to.equal(200);
      expect((soapResult(soap, 'GetApiUserById', userSchema) as ApiUser).description).to.equal(description);
      expect(soap.body.getElementsByTagName('Injected').length).to.equal(0);
    }
  });

  it('reads xs:boolean as XML Schema says: true, false, 1, 0', async () => {
    const soap = await soapCall(gateway.app, owner, 'CreateApiUser', '<apiUser><Password>B00lean-x</Password><Enabled> 0 </Enabled><CanManageAccount>1</CanManageAccount></apiUser>');
    expect(soap.status, soap.text).to.equal(200);
    expect(soap.text).to.include('<Enabled>false</Enabled>');
    expect(soap.text).to.include('<CanManageAccount>true</CanManageAccount>');
  });

  it('deletes one, and several at once counting only those that existed', async () => {
    const [a, b, c] = await Promise.all([create({ password: 'D3lete-a1' }), create({ password: 'D3lete-b1' }), create({ password: 'D3lete-c1' })]);
    expect((await restRequest(gateway.app, owner, 'DELETE', `/v2/api-users/${a!.id}`)).status).to.equal(204);
    expect((await restRequest(gateway.app, owner, 'GET', `/v2/api-users/${a!.id}`)).status).to.equal(404);
    expect((await restRequest(gateway.app, owner, 'DELETE', `/v2/api-users/${a!.id}`)).status).to.equal(404);
    const bulk = await restRequest(gateway.app, owner, 'POST', '/v2/api-users/delete', { ids: [a!.id, b!.id, c!.id, c!.id, 'junk'] });
    expect(bulk.status).to.equal(200);
    expect(bulk.body).to.deep.equal({ deletedCount: 2 });
  });

  it('lets a manager manage the owner, except to disable, demote or delete it', async () => {
    const manager = await create({ password: 'Manag3r-y', canManageAccount: true });
    const credentials = { username: manager.username, password: 'Manag3r-y' };
    const ownerUser = ((await restRequest(gateway.app, owner, 'GET', '/v2/api-users?select=1')).body as ApiUser[])[0]!;
    expect((await restRequest(gateway.app, credentials, 'PUT', `/v2/api-users/${ownerUser.id}`, { description: 'Owner' })).status).to.equal(200);
    expect((await restRequest(gateway.app, credentials, 'PUT', `/v2/api-users/${ownerUser.id}`, { enabled: false })).status).to.equal(409);
    expect((await restRequest(gateway.app, credentials, 'DELETE', `/v2/api-users/${ownerUser.id}`)).status).to.equal(409);
  });

  it('takes a lost permission away at the next call', async () => {
    const manager = await create({ password: 'Dem0te-me', canManageAccount: true });
    const credentials = { username: manager.username, password: 'Dem0te-me' };
    expect((await restRequest(gateway.app, credentials, 'GET', '/v2/api-users')).status).to.equal(200);
    await restRequest(gateway.app, owner, 'PUT', `/v2/api-users/${manager.id}`, { canManageAccount: false });
    expect((await restRequest(gateway.app, credentials, 'GET', '/v2/api-users')).status).to.equal(403);
  });
});
