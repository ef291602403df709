// The OpenAPI document at /v2/openapi.json, held against the live gateway: a valid OpenAPI
// 3.1 document (checked by a maintained validator, not by the code under test), describing
// exactly the REST routes the app serves, and walked call by call: each documented operation,
// called as the document says, answers what the document says, success and errors alike.
import { request as httpRequest } from 'node:http';
import { Validator } from '@seriousme/openapi-schema-validator';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import { expect } from 'chai';
import { z } from 'zod';
import type { AccountRecord } from '../src/db/models.js';
import { COMMAND_LINE } from '../src/domain/auditTrail.js';
import { defineOperation } from '../src/operations/define.js';
import { operations } from '../src/operations/index.js';
import { OWNER_PROTECTED_OPERATIONS } from '../src/openapi/errorCases.js';
import type { OpenApiDocument, OperationObject } from '../src/openapi/types.js';
import { withinOneClockHour } from './support/clockHour.js';
import { startTestGateway, type TestAccount, type TestGateway } from './support/gateway.js';
import { restRequest, type RestResponse } from './support/rest.js';
import type { Credentials } from './support/soap.js';

const OPENAPI_PATH = '/v2/openapi.json';
const SOAP_PATH = '/v2/api.svc';
const DOCUMENT_ID = 'urn:dualgate:openapi';
const NO_SUCH_ID = '000000000000000000000000';
const METHODS = ['get', 'post', 'put', 'delete'] as const;
/** Statuses that need a broken server to happen; every operation must still document them. */
const UNPROVOKABLE = ['500', '503'];

interface DocumentedRoute {
  method: (typeof METHODS)[number];
  path: string;
  operation: OperationObject;
}

/** What a call sends, by the document's names: parameters by name, and the body. */
interface CallInput {
  params?: Record<string, string | number>;
  body?: unknown;
}

interface Fixture {
  gateway: TestGateway;
  account: AccountRecord;
  owner: TestAccount & { id: string };
  /** A fresh API user of the owner's account (a mutating call acts on its own). */
  newUserId(): Promise<string>;
}

interface OperationRow {
  /** A valid call, answered with the documented success status. */
  valid(fixture: Fixture): Promise<CallInput>;
  /** A call refused to protect the owner (409), for the operations documenting it. */
  ownerProtected?(fixture: Fixture): Promise<CallInput>;
}

const rows: Record<string, OperationRow> = {
  GetServerTime: { valid: async () => ({}) },
  GetCurrentAccountInfo: { valid: async () => ({}) },
  GetApiUsers: { valid: async () => ({ params: { select: 5, skip: 0 } }) },
  GetApiUserById: { valid: async (fixture) => ({ params: { id: await fixture.newUserId() } }) },
  CreateApiUser: {
    valid: async () => ({ body: { description: 'Magento shop', password: 'Sh0p-integration!', canManageAccount: false } }),
  },
  UpdateApiUser: {
    valid: async (fixture) => ({ params: { id: await fixture.newUserId() }, body: { description: 'CRM sync', enabled: false } }),
    ownerProtected: async (fixture) => ({ params: { id: fixture.owner.id }, body: { enabled: false } }),
  },
  ResetApiUserPassword: {
    valid: async (fixture) => ({ params: { id: await fixture.newUserId() }, body: { password: 'N3w-secret!' } }),
  },
  DeleteApiUser: {
    valid: async (fixture) => ({ params: { id: await fixture.newUserId() } }),
    ownerProtected: async (fixture) => ({ params: { id: fixture.owner.id } }),
  },
  DeleteApiUsers: {
    valid: async (fixture) => ({ body: { ids: [await fixture.newUserId(), await fixture.newUserId()] } }),
    ownerProtected: async (fixture) => ({ body: { ids: [fixture.owner.id] } }),
  },
  GetAuditEvents: { valid: async () => ({ params: { select: 5 } }) },
};

function routesOf(document: OpenApiDocument): DocumentedRoute[] {
  return Object.entries(document.paths).flatMap(([path, item]) =>
    METHODS.flatMap((method) => (item[method] ? [{ method, path, operation: item[method] }] : [])),
  );
}

/** The request the document describes for this input: path and query from its parameters. */
function requestPath(route: DocumentedRoute, input: CallInput, extraQuery: Record<string, string> = {}): string {
  const params = input.params ?? {};
  const query = new URLSearchParams(extraQuery);
  let path = route.path;
  for (const parameter of route.operation.parameters ?? []) {
    const value = params[parameter.name];
    if (value === undefined) {
      expect(parameter.required, `${route.operation.operationId} needs ${parameter.name}`).to.equal(false);
      continue;
    }
    if (parameter.in === 'path') path = path.replace(`{${parameter.name}}`, encodeURIComponent(String(value)));
    else query.set(parameter.name, String(value));
  }
  const documented = new Set((route.operation.parameters ?? []).map((parameter) => parameter.name));
  expect(Object.keys(params).filter((name) => !documented.has(name)), 'parameters the document does not have').to.deep.equal([]);
  expect(path, 'every path parameter filled in').not.to.include('{');
  return query.size > 0 ? `${path}?${query}` : path;
}

/** A JSON Pointer to a place in the document, as a URI fragment ajv resolves. */
function pointer(...segments: string[]): string {
  return `${DOCUMENT_ID}#/${segments.map((segment) => encodeURIComponent(segment.replaceAll('~', '~0').replaceAll('/', '~1'))).join('/')}`;
}

/** Every route the Express app would answer, through its routers, as `METHOD path`. */
function appRoutes(stack: readonly unknown[]): string[] {
  return stack.flatMap((layer) => {
    const { route, handle } = layer as { route?: { path: unknown; methods: Record<string, boolean> }; handle?: { stack?: unknown } };
    if (route) {
      return Object.keys(route.methods).map((method) => `${method === '_all' ? 'ALL' : method.toUpperCase()} ${String(route.path)}`);
    }
    return Array.isArray(handle?.stack) ? appRoutes(handle.stack) : [];
  });
}

/** The document as served to a request carrying this Host header (fetch cannot set Host). */
function getWithHost(baseUrl: string, path: string, host: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const call = httpRequest(`${baseUrl}${path}`, { headers: { Host: host } }, (response) => {
      let text = '';
      response.setEncoding('utf8').on('data', (chunk: string) => (text += chunk)).on('end', () => resolve(text));
    });
    call.on('error', reject).end();
  });
}

describe('the OpenAPI document (GET /v2/openapi.json)', () => {
  let gateway: TestGateway;
  let fixture: Fixture;
  let served: RestResponse;
  let document: OpenApiDocument;
  let ajv: Ajv2020;

  before(async () => {
    gateway = await startTestGateway();
    const owner = await gateway.createAccount();
    const account = (await gateway.gateway.services.accounts.list()).find((candidate) => candidate._id.toHexString() === owner.accountId)!;
    const ownerRecord = (await gateway.gateway.services.apiUsers.list(account._id, { select: 1, skip: 0 }))[0]!;
    fixture = {
      gateway,
      account,
      owner: { ...owner, id: ownerRecord._id.toHexString() },
      async newUserId() {
        const user = await gateway.gateway.services.apiUsers.create(account, { description: 'walked', password: 'W4lk-the-doc' }, COMMAND_LINE);
        return user._id.toHexString();
      },
    };
    // Over the socket: the document names the URL it was reached at.
    served = await restRequest(gateway.baseUrl, null, 'GET', OPENAPI_PATH);
    document = served.body as OpenApiDocument;
    // The date-time strings are checked by the pattern next to each format; formats are
    // annotations here. Strict otherwise, so that a keyword ajv does not know fails the test.
    ajv = new Ajv2020({ strict: true, allErrors: true, formats: { 'date-time': true } });
    ajv.addVocabulary(['openapi', 'info', 'servers', 'security', 'paths', 'components']);
    ajv.addSchema(document, DOCUMENT_ID);
  });
  after(() => gateway.close());

  function validator(...segments: string[]): ValidateFunction {
    const validate = ajv.getSchema(pointer(...segments));
    if (!validate) throw new Error(`The document has no schema at ${segments.join('/')}.`);
    return validate;
  }

  const requestBodySchema = (route: DocumentedRoute) =>
    validator('paths', route.path, route.method, 'requestBody', 'content', 'application/json', 'schema');
  const responseSchema = (route: DocumentedRoute, status: string) =>
    validator('paths', route.path, route.method, 'responses', status, 'content', 'application/json', 'schema');

  function expectMatches(validate: ValidateFunction, value: unknown, what: string): void {
    validate(value);
    expect(validate.errors ?? [], `${what}: ${JSON.stringify(value)}`).to.deep.equal([]);
  }

  /** The answer is documented for the route, and matches the documented body and headers. */
  function expectDocumentedAnswer(route: DocumentedRoute, response: RestResponse, what: string): void {
    const status = String(response.status);
    const documented = route.operation.responses[status];
    expect(documented, `${what}: status ${status} (${response.text}) is documented`).to.not.equal(undefined);
    for (const header of Object.keys(documented!.headers ?? {})) {
      expect(response.headers.has(header), `${what}: header ${header}`).to.equal(true);
    }
    if (documented!.content) {
      expect(response.headers.get('content-type')).to.match(/^application\/json/);
      expectMatches(responseSchema(route, status), response.body, what);
    } else {
      expect(response.text, `${what}: no content`).to.equal('');
    }
  }

  function call(route: DocumentedRoute, credentials: Credentials | null, input: CallInput, options: { query?: Record<string, string>; body?: unknown; headers?: Record<string, string> } = {}) {
    const body = options.body ?? input.body;
    return restRequest(gateway.app, credentials, route.method.toUpperCase(), requestPath(route, input, options.query), body, options.headers);
  }

  it('is served without credentials, as JSON, its server the base URL the WSDL gives', async () => {
    expect(served.status).to.equal(200);
    expect(served.headers.get('content-type')).to.match(/^application\/json(;|$)/);
    expect(document.servers).to.deep.equal([{ url: gateway.baseUrl }]);
    const host = 'api.example.test:8443';
    const viaHost = JSON.parse(await getWithHost(gateway.baseUrl, OPENAPI_PATH, host)) as OpenApiDocument;
    const wsdl = await getWithHost(gateway.baseUrl, `${SOAP_PATH}?wsdl`, host);
    const soapAddress = /<soap:address\s+location="([^"]*)"/.exec(wsdl)?.[1];
    expect(viaHost.servers).to.deep.equal([{ url: 'http://api.example.test:8443' }]);
    expect(`${viaHost.servers[0]!.url}${SOAP_PATH}`).to.equal(soapAddress);
    // The rest of the document does not depend on the URL it is fetched at.
    expect({ ...viaHost, servers: [] }).to.deep.equal({ ...document, servers: [] });
  });

  it('names PUBLIC_URL as its server when it is set', async () => {
    const behindProxy = await startTestGateway({ env: { PUBLIC_URL: 'https://api.example.com' } });
    try {
      const response = await restRequest(behindProxy.app, null, 'GET', OPENAPI_PATH);
      expect((response.body as OpenApiDocument).servers).to.deep.equal([{ url: 'https://api.example.com' }]);
    } finally {
      await behindProxy.close();
    }
  });

  it('is a valid OpenAPI 3.1 document', async () => {
    const validator = new Validator();
    const result = await validator.validate(JSON.parse(served.text) as Record<string, unknown>);
    expect(result.errors ?? [], JSON.stringify(result.errors)).to.deep.equal([]);
    expect(result.valid).to.equal(true);
    expect(validator.version).to.equal('3.1');
    expect(document.openapi).to.match(/^3\.1\./);
    // The validator does refuse a broken document: a parameter in a place HTTP has not.
    const broken = JSON.parse(served.text) as OpenApiDocument;
    Object.assign(broken.paths['/v2/api-users/{id}']!.get!.parameters![0]!, { in: 'body' });
    expect((await new Validator().validate(broken as unknown as Record<string, unknown>)).valid).to.equal(false);
  });

  it('documents every operation of the table, by its name, where the table routes it', () => {
    const documented = routesOf(document).map((route) => `${route.operation.operationId} ${route.method.toUpperCase()} ${route.path}`);
    const table = operations.map(
      (operation) => `${operation.name} ${operation.rest.method} /v2${operation.rest.path.replace(/:(\w+)/g, '{$1}')}`,
    );
    expect(documented.sort()).to.deep.equal(table.sort());
    expect(Object.keys(rows).sort(), 'a row in this test for every operation').to.deep.equal(operations.map((operation) => operation.name).sort());
  });

  it('documents exactly the REST routes the Express app serves', () => {
    const served = appRoutes(gateway.gateway.app.router.stack)
      // Under /v2, but for the SOAP endpoint (its own document, the WSDL) and this document.
      .filter((route) => / \/v2\//.test(route) && !route.includes(` ${SOAP_PATH}`) && !route.endsWith(` ${OPENAPI_PATH}`))
      .map((route) => route.replace(/:(\w+)/g, '{$1}'));
    const documented = routesOf(document).map((route) => `${route.method.toUpperCase()} ${route.path}`);
    expect([...new Set(served)].sort()).to.deep.equal(documented.sort());
    expect(served.length, 'each route once').to.equal(documented.length);
  });

  it('puts HTTP Basic on every operation, and every error status of the contract that applies', () => {
    expect(document.components.securitySchemes.basicAuth).to.include({ type: 'http', scheme: 'basic' });
    for (const route of routesOf(document)) {
      const { operationId, security, responses, requestBody } = route.operation;
      const table = operations.find((operation) => operation.name === operationId)!;
      expect(security, operationId).to.deep.equal([{ basicAuth: [] }]);
      const expected = ['400', '401', '429', '500', '503', String(table.rest.successStatus)];
      if (table.permission === 'manageAccount') expected.push('403');
      if (route.path.includes('{')) expected.push('404');
      if (OWNER_PROTECTED_OPERATIONS.has(operationId)) expected.push('409');
      if (requestBody) expected.push('413', '415');
      expect(Object.keys(responses).sort(), operationId).to.deep.equal(expected.sort());
    }
    const names = operations.map((operation) => operation.name);
    expect([...OWNER_PROTECTED_OPERATIONS].filter((name) => !names.includes(name)), 'owner-protected names the table knows').to.deep.equal([]);
  });

  it('describes what each operation takes and answers, as the live routes do', async () => {
    for (const route of routesOf(document)) {
      const name = route.operation.operationId;
      const input = await rows[name]!.valid(fixture);
      // What the test sends must be what the document allows...
      for (const [index, parameter] of (route.operation.parameters ?? []).entries()) {
        const value = input.params?.[parameter.name];
        if (value !== undefined) expectMatches(validator('paths', route.path, route.method, 'parameters', String(index), 'schema'), value, `${name} ${parameter.name}`);
      }
      expect(input.body !== undefined, `${name} takes a body`).to.equal(route.operation.requestBody !== undefined);
      if (input.body !== undefined) {
        expectMatches(requestBodySchema(route), input.body, `${name} request`);
      }
      // ...and the answer what it promises.
      const response = await call(route, fixture.owner, input);
      const success = Object.keys(route.operation.responses).filter((status) => status.startsWith('2'));
      expect([String(response.status)], `${name}: ${response.text}`).to.deep.equal(success);
      expectDocumentedAnswer(route, response, name);
      if (response.status !== 204) {
        // The schema the answer matched is no empty one that any value would match.
        expect(responseSchema(route, String(response.status))({ unexpected: true }), `${name}: a made-up body`).to.equal(false);
      }
    }
  });

  it('refuses an UpdateApiUser that changes nothing, as the live route does', async () => {
    const route = routesOf(document).find((candidate) => candidate.operation.operationId === 'UpdateApiUser')!;
    expect(requestBodySchema(route)({}), 'the document refuses {}').to.equal(false);
    expect(requestBodySchema(route)({ enabled: true }), 'and takes one change').to.equal(true);
    const input = await rows.UpdateApiUser!.valid(fixture);
    const response = await call(route, fixture.owner, input, { body: {} });
    expect(response.status, response.text).to.equal(400);
  });

  it('refuses what its request schemas refuse: a field the body schema does not have is a 400', async () => {
    for (const route of routesOf(document).filter((candidate) => candidate.operation.requestBody)) {
      const name = route.operation.operationId;
      const input = await rows[name]!.valid(fixture);
      const body = { ...(input.body as Record<string, unknown>), unexpected: true };
      expect(requestBodySchema(route)(body), `${name}: the document refuses it`).to.equal(false);
      const response = await call(route, fixture.owner, input, { body });
      expect(response.status, `${name}: ${response.text}`).to.equal(400);
      expectDocumentedAnswer(route, response, `${name} with an unknown field`);
    }
  });

  it('answers every documented error status (but 500 and 503) with the documented body and headers', async function () {
    await withinOneClockHour(this, 60_000);
    const account = await gateway.createAccount({ callsPerHour: 1 });
    const spent = { username: account.username, password: account.password };
    expect((await restRequest(gateway.app, spent, 'GET', '/v2/server-time')).status).to.equal(200);
    const plainPassword = 'Pl4in-user-pw';
    const plainUser = await gateway.gateway.services.apiUsers.create(fixture.account, { password: plainPassword }, COMMAND_LINE);
    const plain = { username: plainUser.username, password: plainPassword };
    // An unknown user: wrong passwords of a real one would count towards its lockout.
    const badCredentials = { username: 'apiuser-000000000000@dualgate.local', password: 'not-the-password-1' };

    for (const route of routesOf(document)) {
      const name = route.operation.operationId;
      const row = rows[name]!;
      const documented = Object.keys(route.operation.responses).filter((status) => !status.startsWith('2'));
      const provoked = new Map<string, RestResponse>();
      const provoke = async (what: string, response: Promise<RestResponse>) => {
        const answer = await response;
        expectDocumentedAnswer(route, answer, `${name}, ${what}`);
        provoked.set(String(answer.status), answer);
        return answer;
      };
      const valid = await row.valid(fixture);

      expect((await provoke('bad credentials', call(route, badCredentials, valid))).status).to.equal(401);
      expect((await provoke('an unknown query parameter', call(route, fixture.owner, valid, { query: { sort: 'name' } }))).status).to.equal(400);
      expect((await provoke('quota spent', call(route, spent, valid))).status).to.equal(429);
      if (documented.includes('403')) {
        expect((await provoke('without the permission', call(route, plain, valid))).status).to.equal(403);
      }
      if (documented.includes('404')) {
        const unknown = { ...valid, params: { ...valid.params, id: NO_SUCH_ID } };
        expect((await provoke('an unknown id', call(route, fixture.owner, unknown))).status).to.equal(404);
      }
      if (documented.includes('409')) {
        expect(row.ownerProtected, `${name} needs an ownerProtected row`).to.be.a('function');
        expect((await provoke('the owner', call(route, fixture.owner, await row.ownerProtected!(fixture)))).status).to.equal(409);
      }
      if (route.operation.requestBody) {
        const tooLarge = JSON.stringify({ padding: 'x'.repeat(gateway.config.REST_BODY_LIMIT_BYTES) });
        expect((await provoke('a body over the limit', call(route, fixture.owner, valid, { body: tooLarge }))).status).to.equal(413);
        const asText = { body: JSON.stringify(valid.body), headers: { 'Content-Type': 'text/plain' } };
        expect((await provoke('a body that is not JSON', call(route, fixture.owner, valid, asText))).status).to.equal(415);
        const broken = await provoke('malformed JSON', call(route, fixture.owner, valid, { body: '{"description": ' }));
        expect(broken.status).to.equal(400);
      }
      const examples = Object.keys(route.operation.responses['400']?.content?.['application/json']?.examples ?? {});
      if (examples.includes('ERROR_WEAK_PASSWORD')) {
        const weak = JSON.parse(JSON.stringify(valid.body).replace(/"password":"[^"]*"/, '"password":"weak"')) as unknown;
        const answer = await provoke('a weak password', call(route, fixture.owner, valid, { body: weak }));
        expect((answer.body as { message: string }).message).to.match(/ ERROR_WEAK_PASSWORD$/);
      }
      expect([...provoked.keys()].sort(), name).to.deep.equal(documented.filter((status) => !UNPROVOKABLE.includes(status)).sort());
    }
  });

  it('follows the table it is given: a gateway with another table documents that one', async () => {
    const getThing = defineOperation({
      name: 'GetThing',
      summary: 'A thing.',
      permission: 'anyApiUser',
      rest: { method: 'GET', path: '/things/:id', successStatus: 200, sources: { id: 'path' } },
      input: z.strictObject({ id: z.string() }),
      result: z.strictObject({ id: z.string(), size: z.int() }).meta({ xmlType: 'Thing' }),
      handle: async (_context, input) => ({ id: input.id, size: 3 }),
    });
    const other = await startTestGateway({ operations: [getThing] });
    try {
      const owner = await other.createAccount();
      const response = await restRequest(other.app, null, 'GET', OPENAPI_PATH);
      const otherDocument = response.body as OpenApiDocument;
      expect(Object.keys(otherDocument.paths)).to.deep.equal(['/v2/things/{id}']);
      const operation = otherDocument.paths['/v2/things/{id}']!.get!;
      expect(operation.operationId).to.equal('GetThing');
      expect(operation.responses['200']!.content!['application/json']!.schema).to.deep.equal({ $ref: '#/components/schemas/Thing' });
      expect(Object.keys(operation.responses).sort()).to.deep.equal(['200', '400', '401', '404', '429', '500', '503']);
      const thing = await restRequest(other.app, owner, 'GET', '/v2/things/abc');
      expect(thing.body).to.deep.equal({ id: 'abc', size: 3 });
      const result = await new Validator().validate(JSON.parse(response.text) as Record<string, unknown>);
      expect(result.errors ?? [], JSON.stringify(result.errors)).to.deep.equal([]);
    } finally {
      await other.close();
    }
  });
});
