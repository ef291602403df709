// Hostile input (OWASP Web Service Security, ASVS 5.0 V1.5.1): the gateway stays up, tells
// nothing of its internals, and answers each with the contract's error.
import { expect } from 'chai';
import { connect } from 'node:net';
import { startTestGateway, type TestAccount, type TestGateway } from './support/gateway.js';
import { expectRestError, expectSoapFault } from './support/expectations.js';
import { restRequest } from './support/rest.js';
import { send, type HttpExchange } from './support/http.js';
import { basicAuth, envelope, soapPost } from './support/soap.js';

const SOAP_ENV = 'http://schemas.xmlsoap.org/soap/envelope/';

/** A raw HTTP exchange, for what fetch refuses to send. */
function rawHttp(port: number, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let response = '';
    socket.on('data', (chunk) => (response += chunk.toString()));
    socket.on('end', () => resolve(response));
    socket.on('error', reject);
    socket.setTimeout(5000, () => socket.destroy(new Error('no answer within 5 s')));
    socket.end(request);
  });
}

describe('hostile input', () => {
  let gateway: TestGateway;
  let owner: TestAccount;
  const port = () => Number(new URL(gateway.baseUrl).port);

  before(async () => {
    gateway = await startTestGateway();
    owner = await gateway.createAccount({ name: 'Target Corp' });
  });
  after(() => gateway.close());
  afterEach(async () => {
    expect((await restRequest(gateway.app, owner, 'GET', '/v2/server-time')).status, 'the gateway is still up').to.equal(200);
  });

  describe('XML', () => {
    const refusedWith = async (body: string, sentence: RegExp, status = 400) => {
      const response = await soapPost(gateway.app, owner, body);
      expect(expectSoapFault(response, status, 'ERROR_PARAMETER_INVALID')).to.match(sentence);
      return response;
    };

    it('refuses an external entity (XXE) without reading it', async () => {
      const response = await refusedWith(
        `<?xml version="1.0"?><!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><soap:Envelope xmlns:soap="${SOAP_ENV}"><soap:Body><GetApiUserById xmlns="urn:dualgate:v2"><id>&xxe;</id></GetApiUserById></soap:Body></soap:Envelope>`,
        /DOCTYPE/,
      );
      expect(response.text).to.not.include('root:');
    });

    it("refuses entity expansion ('billion laughs') at once", async () => {
      const laughs = ['<!ENTITY l0 "lol">', ...Array.from({ length: 9 }, (_, i) => `<!ENTITY l${i + 1} "${`&l${i};`.repeat(10)}">`)].join('');
      await refusedWith(`<?xml version="1.0"?><!DOCTYPE x [${laughs}]><soap:Envelope xmlns:soap="${SOAP_ENV}"><soap:Body><GetServerTime xmlns="urn:dualgate:v2">&l9;</GetServerTime></soap:Body></soap:Envelope>`, /DOCTYPE/);
    });

    it('refuses any DOCTYPE, even an empty one, and an undeclared entity', async () => {
      await refusedWith(`<!DOCTYPE soap:Envelope><soap:Envelope xmlns:soap="${SOAP_ENV}"><soap:Body/></soap:Envelope>`, /DOCTYPE/);
      await refusedWith(envelope('GetApiUserById', '<id>&undeclared;</id>'), /not well-formed/);
    });

    it('refuses 100,000 nested elements quickly, with no stack overflow', async () => {
      const depth = 100_000;
      const body = `<soap:Envelope xmlns:soap="${SOAP_ENV}"><soap:Body>${'<a>'.repeat(depth)}${'</a>'.repeat(depth)}</soap:Body></soap:Envelope>`;
      await refusedWith(body, /nested deeper than 64/);
    });

    it('refuses over-long names and too many attributes', async () => {
      await refusedWith(envelope('GetServerTime', `<${'n'.repeat(300)}/>`), /name is longer/);
      const attributes = Array.from({ length: 100 }, (_, i) => `a${i}="x"`).join(' ');
      await refusedWith(envelope('GetServerTime', `<x ${attributes}/>`), /more than 64 attributes/);
    });

    it('refuses processing instructions', async () => {
      await refusedWith(`<?xml version="1.0"?><?xml-stylesheet href="http://evil.example/x.xsl"?><soap:Envelope xmlns:soap="${SOAP_ENV}"><soap:Body/></soap:Envelope>`, /Processing instructions/);
    });

    it('answers malformed XML, an empty body and a bare text body', async () => {
      await refusedWith(`<soap:Envelope xmlns:soap="${SOAP_ENV}"><soap:Body></soap:Envelop>`, /not well-formed/);
      await refusedWith('', /empty/);
      await refusedWith('hello', /not well-formed/);
      await refusedWith('<a><b></a>', /not well-formed/);
    });

    it('says clearly that SOAP 1.1 is served, to a SOAP 1.2 envelope', async () => {
      const body = '<env:Envelope xmlns:env="http://www.w3.org/2003/05/soap-envelope"><env:Body><GetServerTime xmlns="urn:dualgate:v2"/></env:Body></env:Envelope>';
      const response = await soapPost(gateway.app, owner, body);
      expect(expectSoapFault(response, 500, 'ERROR_PARAMETER_INVALID', 'soap:VersionMismatch')).to.include('SOAP 1.1');
    });

    it('answers an unknown operation, a body of two operations, and a non-envelope', async () => {
      expect(expectSoapFault(await soapPost(gateway.app, owner, envelope('DropDatabase')), 500, 'ERROR_PARAMETER_INVALID')).to.include('no operation');
      const two = `<soap:Envelope xmlns:soap="${SOAP_ENV}"><soap:Body><GetServerTime xmlns="urn:dualgate:v2"/><GetServerTime xmlns="urn:dualgate:v2"/></soap:Body></soap:Envelope>`;
      expectSoapFault(await soapPost(gateway.app, owner, two), 500, 'ERROR_PARAMETER_INVALID');
      expectSoapFault(await soapPost(gateway.app, owner, '<GetServerTime xmlns="urn:dualgate:v2"/>'), 500, 'ERROR_PARAMETER_INVALID');
    });

    it('refuses a header block it must understand and does not', async () => {
      const body = `<soap:Envelope xmlns:soap="${SOAP_ENV}"><soap:Header><x:Tx xmlns:x="urn:x" soap:mustUnderstand="1"/></soap:Header><soap:Body><GetServerTime xmlns="urn:dualgate:v2"/></soap:Body></soap:Envelope>`;
      expectSoapFault(await soapPost(gateway.app, owner, body), 500, 'ERROR_PARAMETER_INVALID', 'soap:MustUnderstand');
    });

    it('dispatches by the body, never by a SOAPAction that says otherwise (WS-I R1127)', async () => {
      const created = await restRequest(gateway.app, owner, 'POST', '/v2/api-users', { password: 'Sp00fed-action' });
      const id = (created.body as { id: string }).id;
      const response = await soapPost(gateway.app, owner, envelope('GetApiUserById', `<id>${id}</id>`), {
        SOAPAction: '"urn:dualgate:v2/ApiService/DeleteApiUser"',
      });
      expect(response.status).to.equal(200);
      expect(response.text).to.include('GetApiUserByIdResponse');
      expect((await restRequest(gateway.app, owner, 'GET', `/v2/api-users/${id}`)).status, 'not deleted').to.equal(200);
    });

    it('answers other methods on the SOAP path with 405, and a body in another charset with 415', async () => {
      const response = await send(gateway.app, 'PUT', '/v2/api.svc', { Authorization: basicAuth(owner) });
      expect(response.status).to.equal(405);
      expect(response.headers.get('allow')).to.equal('GET, POST');
      expectSoapFault(await soapPost(gateway.app, owner, envelope('GetServerTime'), { 'Content-Type': 'text/xml; charset=iso-8859-1' }), 415, 'ERROR_CONTENT_TYPE_IS_NOT_SUPPORTED');
    });
  });

  describe('JSON', () => {
    const cases: Array<[string, string, string, string | undefined]> = [
      ['malformed JSON', 'POST', '/v2/api-users', '{"password":'],
      ['a trailing comma', 'POST', '/v2/api-users', '{"password":"G00d-pass",}'],
      ['an array where an object goes', 'POST', '/v2/api-users', '[{"password":"G00d-pass"}]'],
      ['a string where an object goes', 'PUT', '/v2/api-users/000000000000000000000000', '"enabled"'],
      ['null as the body', 'POST', '/v2/api-users', 'null'],
      ['a number where a boolean goes', 'POST', '/v2/api-users', '{"password":"G00d-pass","enabled":1}'],
      ['an object where a string goes', 'POST', '/v2/api-users', '{"password":{"$ne":null}}'],
      ['a huge number', 'GET', '/v2/api-users?select=1e400', undefined],
      ['a numeric string with junk', 'GET', '/v2/api-users?select=10abc', undefined],
      ['a repeated query parameter', 'GET', '/v2/api-users?select=1&select=2', undefined],
      ['a nested query parameter', 'GET', '/v2/api-users?select[$gt]=1', undefined],
      ['__proto__', 'POST', '/v2/api-users', '{"password":"G00d-pass","__proto__":{"isOwner":true}}'],
      ['constructor.prototype', 'POST', '/v2/api-users', '{"password":"G00d-pass","constructor":{"prototype":{"isOwner":true}}}'],
      ['ids that are objects', 'POST', '/v2/api-users/delete', '{"ids":[{"$gt":""}]}'],
      ['too many ids', 'POST', '/v2/api-users/delete', JSON.stringify({ ids: Array.from({ length: 1001 }, () => '000000000000000000000000') })],
      ['an overlong id', 'GET', `/v2/api-users/${'a'.repeat(200)}`, undefined],
    ];
    for (const [what, method, path, body] of cases) {
      it(`answers ${what} with ERROR_PARAMETER_INVALID`, async () => {
        const response = await restRequest(gateway.app, owner, method, path, body);
        expectRestError(response, 400, 'ERROR_PARAMETER_INVALID');
      });
    }

    it('answers ids that are not ids like unknown ones', async () => {
      for (const id of ['%7B%22%24gt%22%3A%22%22%7D', '..%2F..%2Fetc', '-1', '0x10']) {
        expectRestError(await restRequest(gateway.app, owner, 'GET', `/v2/api-users/${id}`), 404, 'ERROR_APIUSER_NOT_FOUND');
      }
    });

    it('answers a path that is not percent-encoded UTF-8 with ERROR_PARAMETER_INVALID, signed in or not, never ERROR_UNKNOWN', async () => {
      const cases: Array<[string, string]> = [['GET', '/v2/api-users/%E0%A4%A'], ['DELETE', '/v2/api-users/%FF'], ['PUT', '/v2/api-users/%C3/password']];
      for (const [method, path] of cases) {
        for (const caller of [owner, null]) {
          const response = await restRequest(gateway.app, caller, method, path);
          expectRestError(response, 400, 'ERROR_PARAMETER_INVALID');
          expect(response.text, path).to.include('percent-encoded');
        }
      }
    });
  });

  describe('HTTP', () => {
    it("answers a body that says it is gzip, deflate or br and is not as the caller's fault (ERROR_PARAMETER_INVALID), not ERROR_UNKNOWN", async () => {
      const notCompressed = Buffer.from('{"certainly": "not compressed"}');
      for (const encoding of ['gzip', 'deflate', 'br']) {
        const rest = await send(gateway.app, 'POST', '/v2/api-users', { 'Content-Type': 'application/json', 'Content-Encoding': encoding, Authorization: basicAuth(owner) }, notCompressed);
        expectRestError(withBody(rest), 400, 'ERROR_PARAMETER_INVALID');
        expect(rest.text, encoding).to.include('not valid gzip, deflate or br data');
        const soap = await soapPost(gateway.app, owner, notCompressed, { 'Content-Encoding': encoding });
        expect(expectSoapFault(soap, 500, 'ERROR_PARAMETER_INVALID'), encoding).to.include('not valid gzip, deflate or br data');
      }
    });

    it('takes UTF-8 only, refusing bytes that are not (each would be read as U+FFFD, different bytes as the same text)', async () => {
      // A password with U+FFFD in it, and Basic credentials with another byte where it is.
      const created = await restRequest(gateway.app, owner, 'POST', '/v2/api-users', { password: 'Pw\ufffd-12345' });
      expect(created.status, created.text).to.equal(201);
      const { username } = created.body as { username: string };
      const credentials = (middle: Buffer) => `Basic ${Buffer.concat([Buffer.from(`${username}:Pw`), middle, Buffer.from('-12345')]).toString('base64')}`;
      const call = async (middle: Buffer) => (await send(gateway.app, 'GET', '/v2/server-time', { Authorization: credentials(middle) })).status;
      expect(await call(Buffer.from('\ufffd')), 'the password as set').to.equal(200);
      for (const byte of [0xff, 0xfe, 0xc3]) expect(await call(Buffer.from([byte])), `byte ${byte}`).to.equal(401);
      const json = Buffer.concat([Buffer.from('{"description":"bad'), Buffer.from([0xff, 0xfe]), Buffer.from('byte"}')]);
      const rest = await send(gateway.app, 'PUT', `/v2/api-users/${(created.body as { id: string }).id}`, { 'Content-Type': 'application/json', Authorization: basicAuth(owner) }, json);
      expectRestError(withBody(rest), 400, 'ERROR_PARAMETER_INVALID');
      expect(rest.text).to.include('not valid UTF-8');
      const xml = Buffer.concat([Buffer.from(envelope('GetServerTime', '<!-- bad')), Buffer.from([0xff]), Buffer.from(' -->')]);
      expect(expectSoapFault(await soapPost(gateway.app, owner, xml), 400, 'ERROR_PARAMETER_INVALID')).to.include('not valid UTF-8');
      // JSON in UTF-16 is JSON, but not what the API takes (RFC 8259: UTF-8), as SOAP takes none.
      const utf16 = Buffer.from('{"description":"wide"}', 'utf16le');
      const wide = await send(gateway.app, 'PUT', `/v2/api-users/${(created.body as { id: string }).id}`, { 'Content-Type': 'application/json; charset=utf-16le', Authorization: basicAuth(owner) }, utf16);
      expectRestError(withBody(wide), 415, 'ERROR_CONTENT_TYPE_IS_NOT_SUPPORTED');
    });

    it('answers a huge Authorization header with the same 401 as any bad credentials', async () => {
      const response = await restRequest(gateway.app, null, 'GET', '/v2/server-time', undefined, { Authorization: `Basic ${'Q'.repeat(32 * 1024)}` });
      expectRestError(response, 401, 'ERROR_INVALID_LOGIN');
    });

    it('answers headers past 64 KB and broken HTTP with the contract JSON shape, not a bare Node error', async () => {
      const huge = await rawHttp(port(), `GET /v2/server-time HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(70 * 1024)}\r\n\r\n`);
      expect(huge).to.match(/^HTTP\/1\.1 431 /);
      expect(huge).to.include('{"message":"The request headers are larger than 64 KB. ERROR_REQUEST_TOO_LARGE"}');
      const broken = await rawHttp(port(), 'NOT HTTP AT ALL\r\n\r\n');
      expect(broken).to.match(/^HTTP\/1\.1 400 /);
      expect(broken).to.include('ERROR_PARAMETER_INVALID');
    });
  });
});

/** An exchange sent as it is, with its body read as the JSON it must be. */
function withBody(exchange: HttpExchange) {
  return { ...exchange, body: JSON.parse(exchange.text) as unknown };
}
