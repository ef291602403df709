// The same call over REST and over SOAP gives the same data, field for field: one row per
// operation of the table, and a test that fails when an operation has no row.
import { expect } from 'chai';
import { operations } from '../src/operations/index.js';
import { COMMAND_LINE } from '../src/domain/auditTrail.js';
import type { Operation } from '../src/operations/define.js';
import { toJsonSchema } from '../src/operations/jsonSchema.js';
import { startTestGateway, type TestAccount, type TestGateway } from './support/gateway.js';
import { restCall } from './support/rest.js';
import { inputXml, soapCall, soapResult, type Credentials } from './support/soap.js';

interface ParityFixture {
  gateway: TestGateway;
  owner: TestAccount;
  /** A user made for one protocol's call, so that mutating calls each act on a twin. */
  newUser(description?: string): Promise<TwinUser>;
  /** The user whose audit events both protocols read. */
  audited?: TwinUser;
}

interface TwinUser {
  id: string;
  username: string;
  password: string;
}

interface ParityRow {
  /** The input, in REST shape; called once per protocol. */
  input(fixture: ParityFixture): Promise<Record<string, unknown>>;
  /** Drops what must differ between two calls (the time, the twin's id and name). */
  comparable?(result: unknown, fixture: ParityFixture): unknown;
}

const withoutIdentity = (result: unknown) => {
  const { id: _id, username: _username, created: _created, ...rest } = result as Record<string, unknown>;
  return rest;
};

/** The caller's own lastUsed moves with every call, and so do the call counts. */
const withoutCallerTraces = (result: unknown, fixture: ParityFixture): unknown => {
  if (Array.isArray(result)) return result.map((item) => withoutCallerTraces(item, fixture));
  const record = result as Record<string, unknown>;
  if (record.username === fixture.owner.username) return { ...record, lastUsed: 'moves' };
  return record;
};

const rows: Record<string, ParityRow> = {
  GetServerTime: {
    input: async () => ({}),
    comparable: (result) => {
      const time = Date.parse(result as string);
      expect(Math.abs(time - Date.now())).to.be.below(60_000);
      return 'a time within the minute';
    },
  },
  GetCurrentAccountInfo: {
    input: async () => ({}),
    comparable: (result) => {
      const info = result as { id: string; properties: Array<{ name: string; type: string; value: string }> };
      return {
        ...info,
        properties: info.properties.map((property) =>
          property.name.startsWith('ApiCalls') ? { ...property, value: 'moves by one a call' } : property,
        ),
      };
    },
  },
  GetApiUsers: {
    input: async () => ({ select: 2, skip: 0 }),
    comparable: withoutCallerTraces,
  },
  GetApiUserById: {
    input: async (fixture) => ({ id: (await fixture.newUser('looked up')).id }),
    comparable: withoutIdentity,
  },
  CreateApiUser: {
    input: async () => ({
      apiUser: {
        description: 'Magento shop <eu> & "co"',
        password: 'Tr1cky:pass&<word>',
        canManageAccount: true,
        ipAllowlist: ['192.0.2.0/24', '2001:db8::7'],
      },
    }),
    comparable: withoutIdentity,
  },
  UpdateApiUser: {
    input: async (fixture) => ({
      id: (await fixture.newUser('before')).id,
      apiUser: { description: 'after', enabled: false, canManageAccount: true, ipAllowlist: [' 198.51.100.7 ', '::ffff:203.0.113.0/120'] },
    }),
    comparable: withoutIdentity,
  },
  ResetApiUserPassword: {
    input: async (fixture) => ({ id: (await fixture.newUser('reset me')).id, password: 'N3w-secret!', keepPreviousForHours: 36 }),
    comparable: (result) => {
      const { previousPasswordExpires, ...rest } = withoutIdentity(result);
      expect(Date.parse(previousPasswordExpires as string) - Date.now()).to.be.closeTo(36 * 3_600_000, 60_000);
      return { ...rest, previousPasswordExpires: 'in 36 hours' };
    },
  },
  DeleteApiUser: {
    input: async (fixture) => ({ id: (await fixture.newUser('delete me')).id }),
  },
  DeleteApiUsers: {
    input: async (fixture) => ({
      ids: [(await fixture.newUser('a')).id, (await fixture.newUser('b')).id, '000000000000000000000000'],
    }),
  },
  GetAuditEvents: {
    // One user's events (both calls read the same ones: nothing happens to it in between).
    input: async (fixture) => ({ select: 5, skip: 0, apiUserId: (fixture.audited ??= await fixture.newUser('audited')).id }),
    comparable: (result) => {
      expect((result as Array<{ type: string }>).map((event) => event.type)).to.deep.equal(['ApiUserCreated']);
      return result;
    },
  },
};

describe('REST and SOAP parity, walking the operation table', () => {
  let gateway: TestGateway;
  let fixture: ParityFixture;
  let credentials: Credentials;

  before(async () => {
    gateway = await startTestGateway();
    const owner = await gateway.createAccount();
    credentials = owner;
    const account = (await gateway.gateway.services.accounts.list())[0]!;
    fixture = {
      gateway,
      owner,
      async newUser(description = 'twin') {
        const password = 'Tw1n-secret-x';
        const user = await gateway.gateway.services.apiUsers.create(account, { description, password }, COMMAND_LINE);
        return { id: user._id.toHexString(), username: user.username, password };
      },
    };
  });
  after(() => gateway.close());

  it('has a parity row for every operation, and none for an operation that does not exist', () => {
    expect(Object.keys(rows).sort()).to.deep.equal(operations.map((operation) => operation.name).sort());
  });

  for (const operation of operations) {
    it(`${operation.name} answers the same over REST and SOAP`, async () => {
      const row = rows[operation.name];
      if (!row) throw new Error(`no parity row for ${operation.name}`);
      const resultSchema = operation.result && toJsonSchema(operation.result, 'output');

      const rest = await restCall(gateway.app, credentials, operation, await row.input(fixture));
      expect(rest.status, rest.text).to.equal(operation.rest.successStatus);

      const soapInput = await row.input(fixture);
      const soap = await soapCall(gateway.app, credentials, operation.name, inputXml(soapInput, toJsonSchema(operation.input, 'input')));
      expect(soap.status, soap.text).to.equal(200);
      expect(soap.fault, soap.text).to.equal(undefined);

      const soapValue = soapResult(soap, operation.name, resultSchema);
      if (operation.rest.successStatus === 204) {
        expect(rest.text).to.equal('');
        expect(soapValue).to.equal(undefined);
        return;
      }
      const comparable = row.comparable ?? ((result: unknown) => result);
      expect(comparable(soapValue, fixture)).to.deep.equal(comparable(rest.body, fixture));
      if (resultSchema) expect(operation.result!.safeParse(rest.body).success, 'the REST result matches its schema').to.equal(true);
    });
  }

  it('GetApiUsers pages the same way in both protocols', async () => {
    const operation = operations.find((candidate) => candidate.name === 'GetApiUsers') as Operation;
    const schema = toJsonSchema(operation.result!, 'output');
    const rest = await restCall(gateway.app, credentials, operation, { select: 3, skip: 2 });
    const soap = await soapCall(gateway.app, credentials, 'GetApiUsers', '<select>3</select><skip>2</skip>');
    const ids = (list: unknown) => (list as Array<{ id: string }>).map((user) => user.id);
    expect(ids(rest.body)).to.have.length(3);
    expect(ids(soapResult(soap, 'GetApiUsers', schema))).to.deep.equal(ids(rest.body));
  });
});
