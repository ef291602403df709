// What node-soap does that the SOAP door must not let through, one test per hazard (the
// README's design notes say, for each, "node-soap does X; we do Y"). In-process, through
// supertest: these are about what the app answers.
import { expect } from 'chai';
import { DOMParser } from '@xmldom/xmldom';
import { gzipSync } from 'node:zlib';
import { operations } from '../src/operations/index.js';
import { toJsonSchema } from '../src/operations/jsonSchema.js';
import { withinOneClockHour } from './support/clockHour.js';
import { expectNoInternals, expectSoapFault } from './support/expectations.js';
import { startTestGateway, type TestAccount, type TestGateway } from './support/gateway.js';
import { send } from './support/http.js';
import { basicAuth, envelope, escapeText, soapCall, soapPost, soapResult, SOAP_ENV } from './support/soap.js';

const apiUserSchema = toJsonSchema(operations.find((operation) => operation.name === 'GetApiUserById')!.result!, 'output');

describe("node-soap's hazards, closed around it", () => {
  let gateway: TestGateway;
  let owner: TestAccount;

  before(async () => {
    gateway = await startTestGateway();
    owner = await gateway.createAccount({ name: 'Hazard Ltd' });
  });
  after(() => gateway.close());

  const createOverSoap = async (apiUserXml: string) => {
    const response = await soapCall(gateway.app, owner, 'CreateApiUser', `<apiUser>${apiUserXml}</apiUser>`);
    expect(response.status, response.text).to.equal(200);
    return soapResult(response, 'CreateApiUser', apiUserSchema) as { id: string; description: string; enabled: boolean };
  };

  it('reads bodies without a limit and inflates gzip without a cap: the size-limited read answers 413 before it', async () => {
    const huge = envelope('GetServerTime', `<!-- ${'x'.repeat(1024 * 1024)} -->`);
    expectSoapFault(await soapPost(gateway.app, owner, huge), 413, 'ERROR_REQUEST_TOO_LARGE');
    const bomb = gzipSync(Buffer.from(huge));
    expect(bomb.length).to.be.below(10 * 1024);
    expectSoapFault(await soapPost(gateway.app, owner, bomb, { 'Content-Encoding': 'gzip' }), 413, 'ERROR_REQUEST_TOO_LARGE');
  });

  it('waits forever for an empty body a body parser has read: an empty body is answered before it, at once', async () => {
    for (const body of ['', '   \r\n  ']) {
      expect(expectSoapFault(await soapPost(gateway.app, owner, body), 400, 'ERROR_PARAMETER_INVALID')).to.match(/empty/);
    }
    const chunked = await send(gateway.app, 'POST', '/v2/api.svc', { 'Content-Type': 'text/xml', 'Transfer-Encoding': 'chunked', Authorization: basicAuth(owner) }, '');
    expect(chunked.status).to.equal(400);
  });

  it('drops a nil element, and with a nil body or wrapper fails quoting its internals: refused before it, with a fault of the contract', async () => {
    const xsi = 'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"';
    const wrapper = `<soap:Envelope xmlns:soap="${SOAP_ENV}"><soap:Body><GetServerTime xmlns="urn:dualgate:v2" ${xsi} xsi:nil="true"/></soap:Body></soap:Envelope>`;
    const body = `<soap:Envelope xmlns:soap="${SOAP_ENV}" ${xsi}><soap:Body xsi:nil="1"><GetServerTime xmlns="urn:dualgate:v2"/></soap:Body></soap:Envelope>`;
    const whole = `<soap:Envelope xmlns:soap="${SOAP_ENV}" ${xsi} xsi:nil="TRUE"><soap:Body><GetServerTime xmlns="urn:dualgate:v2"/></soap:Body></soap:Envelope>`;
    for (const sent of [wrapper, body, whole]) {
      expect(expectSoapFault(await soapPost(gateway.app, owner, sent), 500, 'ERROR_PARAMETER_INVALID')).to.match(/xsi:nil/);
    }
    // A field's xsi:nil is an xs:boolean: "TRUE" is none (node-soap would drop the field, this door read it as sent).
    const spelled = await soapCall(gateway.app, owner, 'CreateApiUser', `<apiUser ${xsi}><Description xsi:nil="TRUE"/><Password>Nil-spelt-1x</Password></apiUser>`);
    expect(expectSoapFault(spelled, 500, 'ERROR_PARAMETER_INVALID')).to.match(/must be true, false, 1 or 0/);
    const nil = await soapCall(gateway.app, owner, 'CreateApiUser', `<apiUser ${xsi}><Description xsi:nil=" true "/><Password>Nil-spelt-1x</Password></apiUser>`);
    expect(expectSoapFault(nil, 500, 'ERROR_PARAMETER_INVALID'), 'nil, and description takes no null').to.match(/apiUser\/Description/);
  });

  it('accepts a DOCTYPE and has no depth bound: DTDs, deep nesting and long names are refused before it parses', async () => {
    const doctype = `<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e "boom">]><soap:Envelope xmlns:soap="${SOAP_ENV}"><soap:Body><GetServerTime xmlns="urn:dualgate:v2">&e;</GetServerTime></soap:Body></soap:Envelope>`;
    expect(expectSoapFault(await soapPost(gateway.app, owner, doctype), 400, 'ERROR_PARAMETER_INVALID')).to.match(/DOCTYPE/);
    // 140,000 levels fit in the 1 MB limit; node-soap would build all of them (~400 MB a million).
    const depth = 140_000;
    const deep = `<soap:Envelope xmlns:soap="${SOAP_ENV}"><soap:Body>${'<a>'.repeat(depth)}${'</a>'.repeat(depth)}</soap:Body></soap:Envelope>`;
    expect(expectSoapFault(await soapPost(gateway.app, owner, deep), 400, 'ERROR_PARAMETER_INVALID')).to.match(/nested deeper than 64/);
    expectSoapFault(await soapPost(gateway.app, owner, envelope('GetServerTime', `<${'n'.repeat(300)}/>`)), 400, 'ERROR_PARAMETER_INVALID');
  });

  it('answers a fault with HTTP 200 unless told otherwise: an operation fault is 500, 401 and 429 keep theirs, with no stack', async function () {
    await withinOneClockHour(this, 10_000);
    const notFound = await soapCall(gateway.app, owner, 'GetApiUserById', '<id>000000000000000000000000</id>');
    expectSoapFault(notFound, 500, 'ERROR_APIUSER_NOT_FOUND');
    expectSoapFault(await soapCall(gateway.app, { ...owner, password: 'wrong-one-1' }, 'GetServerTime'), 401, 'ERROR_INVALID_LOGIN');
    const spent = await gateway.createAccount({ callsPerHour: 1 });
    await soapCall(gateway.app, spent, 'GetServerTime');
    expectSoapFault(await soapCall(gateway.app, spent, 'GetServerTime'), 429, 'ERROR_APIUSAGE_EXCEEDED');
    // expectSoapFault has checked each for stacks, paths and library names.
  });

  it('trims text and reads xs:boolean "yes" as false and xs:int "12abc" as 12: values are read as XML Schema says', async () => {
    const yes = await soapCall(gateway.app, owner, 'CreateApiUser', '<apiUser><Password>G00d-secret</Password><Enabled>yes</Enabled></apiUser>');
    expect(expectSoapFault(yes, 500, 'ERROR_PARAMETER_INVALID')).to.include("'apiUser/Enabled' must be true or false");
    const junk = await soapCall(gateway.app, owner, 'GetApiUsers', '<select>12abc</select>');
    expect(expectSoapFault(junk, 500, 'ERROR_PARAMETER_INVALID')).to.include("'select'");
    // xs:boolean's lexical forms (whitespace collapses), and a string's text kept whole.
    expect((await createOverSoap('<Password>G00d-secret</Password><Enabled> 0 </Enabled>')).enabled).to.equal(false);
    expect((await createOverSoap('<Password>G00d-secret</Password><Enabled>1</Enabled>')).enabled).to.equal(true);
    const spaced = '  Magento\tshop  ';
    expect((await createOverSoap(`<Description>${spaced}</Description><Password>G00d-secret</Password>`)).description).to.equal(spaced);
  });

  it('writes strings shaped like a CDATA section unescaped: such values go out as text that round-trips', async () => {
    const injection = '<![CDATA[x]]><evil/><![CDATA[y]]>';
    const created = await createOverSoap(`<Description>${escapeText(injection)}</Description><Password>G00d-secret</Password>`);
    expect(created.description).to.equal(injection);
    const fetched = await soapCall(gateway.app, owner, 'GetApiUserById', `<id>${created.id}</id>`);
    expect((soapResult(fetched, 'GetApiUserById', apiUserSchema) as { description: string }).description).to.equal(injection);
    const document = new DOMParser().parseFromString(fetched.text, 'text/xml');
    expect(document.getElementsByTagName('evil').length, fetched.text).to.equal(0);
  });

  it("copies the request's content type onto the response: every SOAP answer is text/xml; charset=utf-8", async () => {
    for (const contentType of ['text/xml', 'text/xml; charset=UTF-8', 'TEXT/XML;charset="utf-8"', 'text/xml; charset=utf8']) {
      const success = await soapPost(gateway.app, owner, envelope('GetServerTime'), { 'Content-Type': contentType });
      expect(success.status).to.equal(200);
      expect(success.headers.get('content-type'), contentType).to.equal('text/xml; charset=utf-8');
      const fault = await soapPost(gateway.app, owner, envelope('GetApiUserById', '<id>nobody</id>'), { 'Content-Type': contentType });
      expect(fault.status).to.equal(500);
      expect(fault.headers.get('content-type'), contentType).to.equal('text/xml; charset=utf-8');
    }
  });

  it('answers every method but GET and POST with an empty 200: they get 405, with Allow', async () => {
    for (const method of ['PUT', 'DELETE', 'PATCH', 'OPTIONS']) {
      const response = await send(gateway.app, method, '/v2/api.svc', { Authorization: basicAuth(owner) });
      expect(response.status, method).to.equal(405);
      expect(response.headers.get('allow')).to.equal('GET, POST');
      expect(response.text).to.include('<faultcode>soap:Client</faultcode>');
    }
    expect((await send(gateway.app, 'GET', '/v2/api.svc', {})).status, 'GET without ?wsdl').to.equal(405);
  });

  it('picks the method by SOAPAction when one is sent: the gateway goes by the body element, whatever SOAPAction says', async () => {
    const target = await createOverSoap('<Description>keep me</Description><Password>G00d-secret</Password>');
    for (const soapAction of ['"urn:dualgate:v2/ApiService/DeleteApiUser"', '"urn:nothing/Unknown"', '""']) {
      const response = await soapPost(gateway.app, owner, envelope('GetApiUserById', `<id>${target.id}</id>`), { SOAPAction: soapAction });
      expect(response.status, soapAction).to.equal(200);
      expect((soapResult(response, 'GetApiUserById', apiUserSchema) as { id: string }).id).to.equal(target.id);
    }
  });

  it('adds its route only once it has parsed the WSDL: a gateway answers SOAP as soon as it is made', async () => {
    const fresh = await startTestGateway();
    try {
      const account = await fresh.createAccount();
      const response = await soapCall(fresh.app, account, 'GetServerTime');
      expect(response.status, response.text).to.equal(200);
      expect(response.headers.get('content-type')).to.equal('text/xml; charset=utf-8');
    } finally {
      await fresh.close();
    }
  });

  it('trips over XML the envelope reader accepted before: mixed content, names of Object.prototype members (elements, ids, hrefs, xsi:types), XML inside CDATA are refused first', async () => {
    const header = (block: string) =>
      `<soap:Envelope xmlns:soap="${SOAP_ENV}"><soap:Header>${block}</soap:Header><soap:Body><GetServerTime xmlns="urn:dualgate:v2"/></soap:Body></soap:Envelope>`;
    const cases: Array<[string, number]> = [
      [`<soap:Envelope xmlns:soap="${SOAP_ENV}"><soap:Body>text<GetServerTime xmlns="urn:dualgate:v2"/></soap:Body></soap:Envelope>`, 500],
      [envelope('GetApiUserById', 'text<id>1</id>'), 500],
      [header('<constructor/>'), 400],
      [header('<h><toString>1</toString></h>'), 400],
      [header('<h href="#__proto__"/>'), 400],
      [header('<h id="constructor"/>'), 400],
      ...['t:constructor', 't:toString', 't:__proto__', 'constructor:ApiUser', 'hasOwnProperty'].map((type): [string, number] => [
        envelope('GetApiUserById', `<id xmlns:t="urn:dualgate:v2" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="${type}">x</id>`),
        400,
      ]),
      [header('<h><![CDATA[<?xml version="1.0"?><a>]]></h>'), 400],
      [envelope('GetServerTime', '<![CDATA[<?xml version="1.0"?><a/>]]>'), 400],
    ];
    for (const [body, status] of cases) {
      const response = await soapPost(gateway.app, owner, body);
      expectSoapFault(response, status, 'ERROR_PARAMETER_INVALID');
      expectNoInternals(response.text, body);
    }
  });

  it('answers an operation of the WSDL without a method with an empty envelope: the door hands it only what the table serves', async () => {
    const partial = await startTestGateway({ operations: operations.filter((operation) => operation.name !== 'GetServerTime') });
    try {
      const account = await partial.createAccount();
      expect(expectSoapFault(await soapCall(partial.app, account, 'GetServerTime'), 500, 'ERROR_PARAMETER_INVALID')).to.include('names no operation');
      expect((await soapCall(partial.app, account, 'GetCurrentAccountInfo')).status).to.equal(200);
    } finally {
      await partial.close();
    }
  });
});
