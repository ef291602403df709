// WS-Security 1.0 UsernameToken for SOAP (the contract's rule "WS-Security for SOAP"): a SOAP
// call may bring its credentials in a wsse:Security header instead of HTTP Basic, PasswordText
// only, checked by the same verifier (lockout, quota, the same 401); Basic wins when both are
// sent. node-soap's own client first, over a real port, then raw envelopes for the edge cases.
import { expect } from 'chai';
import * as soap from 'soap';
import { withinOneClockHour } from './support/clockHour.js';
import { startTestGateway, type TestAccount, type TestGateway } from './support/gateway.js';
import { expectSoapFault } from './support/expectations.js';
import { restRequest } from './support/rest.js';
import { send } from './support/http.js';
import { basicAuth, childElements, escapeText, readEnvelope, SOAP_ENV, soapPost, TNS, type Credentials } from './support/soap.js';
import { DOMParser } from '@xmldom/xmldom';

const WSSE = 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd';
const WSU = 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd';
const PROFILE = 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0';
const PASSWORD_TEXT = `${PROFILE}#PasswordText`;
const PASSWORD_DIGEST = `${PROFILE}#PasswordDigest`;

type Call = (args: unknown) => Promise<[Record<string, unknown>, string]>;
interface ClientFailure {
  response?: { status: number; headers: Record<string, string> };
  root?: { Envelope: { Body: { Fault: { faultcode: string; detail: { ErrorCode: string } } } } };
}

/** A UsernameToken as WSS writes it; `type` null leaves the Type attribute out. */
function usernameToken(credentials: Credentials, type: string | null = PASSWORD_TEXT): string {
  const typeAttribute = type === null ? '' : ` Type="${type}"`;
  return (
    `<wsse:UsernameToken><wsse:Username>${escapeText(credentials.username)}</wsse:Username>` +
    `<wsse:Password${typeAttribute}>${escapeText(credentials.password)}</wsse:Password></wsse:UsernameToken>`
  );
}

function security(inner: string, attributes = ''): string {
  return `<wsse:Security xmlns:wsse="${WSSE}" xmlns:wsu="${WSU}"${attributes}>${inner}</wsse:Security>`;
}

function withHeader(headerXml: string, operation = 'GetServerTime', innerXml = ''): string {
  return (
    '<?xml version="1.0" encoding="utf-8"?>' +
    `<soap:Envelope xmlns:soap="${SOAP_ENV}"><soap:Header>${headerXml}</soap:Header>` +
    `<soap:Body><${operation} xmlns="${TNS}">${innerXml}</${operation}></soap:Body></soap:Envelope>`
  );
}

const TIMESTAMP = `<wsu:Timestamp wsu:Id="TS-1"><wsu:Created>2020-01-01T00:00:00Z</wsu:Created><wsu:Expires>2020-01-01T00:05:00Z</wsu:Expires></wsu:Timestamp>`;

describe('WS-Security UsernameToken for SOAP', () => {
  let gateway: TestGateway;
  let owner: TestAccount;
  const wsdlUrl = () => `${gateway.baseUrl}/v2/api.svc?wsdl`;

  const createUser = async (password: string) => {
    const response = await restRequest(gateway.app, owner, 'POST', '/v2/api-users', { password });
    expect(response.status, response.text).to.equal(201);
    const body = response.body as { id: string; username: string };
    return { id: body.id, username: body.username, password };
  };
  const getUser = async (id: string) => (await restRequest(gateway.app, owner, 'GET', `/v2/api-users/${id}`)).body as Record<string, unknown>;
  const clientWith = async (security: soap.ISecurity, basic?: Credentials) => {
    const client = await soap.createClientAsync(wsdlUrl());
    client.setSecurity(security);
    if (basic) client.addHttpHeader('Authorization', basicAuth(basic));
    return client;
  };
  const serverTime = (client: soap.Client) => (client.GetServerTimeAsync as Call)({}).then(([result]) => result);
  const refused = async (client: soap.Client): Promise<ClientFailure> => {
    try {
      await serverTime(client);
    } catch (error) {
      return error as ClientFailure;
    }
    throw new Error('a fault was expected');
  };
  const expectRefusedByClient = (failure: ClientFailure) => {
    expect(failure.response?.status).to.equal(401);
    expect(failure.response?.headers['www-authenticate']).to.equal('Basic realm="dualgate"');
    expect(failure.root?.Envelope.Body.Fault.detail.ErrorCode).to.equal('ERROR_INVALID_LOGIN');
  };
  /** A raw envelope without HTTP Basic. */
  const post = (body: string, headers: Record<string, string> = {}) => soapPost(gateway.app, null, body, headers);

  before(async () => {
    gateway = await startTestGateway();
    owner = await gateway.createAccount({ name: 'Token Ltd' });
  });
  after(() => gateway.close());

  it('is documented in the WSDL, which stays plain Basic Profile: no header declared, no policy', async () => {
    const wsdl = (await send(gateway.app, 'GET', '/v2/api.svc?wsdl', {})).text;
    const root = new DOMParser().parseFromString(wsdl, 'text/xml').documentElement!;
    const WSDL = 'http://schemas.xmlsoap.org/wsdl/';
    const documentation = (parent: string) => {
      const element = root.getElementsByTagNameNS(WSDL, parent)[0]!;
      const first = childElements(element)[0];
      return first?.localName === 'documentation' && first.namespaceURI === WSDL ? (first.textContent ?? '') : '';
    };
    expect(documentation('binding')).to.include('HTTP Basic').and.include('UsernameToken').and.include('#PasswordText').and.include('PasswordDigest is refused');
    expect(documentation('port')).to.include('UsernameToken');
    expect(root.getElementsByTagNameNS('http://schemas.xmlsoap.org/wsdl/soap/', 'header')).to.have.length(0);
    expect(wsdl).to.not.match(/Policy/);
  });

  describe("with node-soap's WSSecurity client", () => {
    it('lets the right password in with the default options (a Timestamp), and the answer is the WSDL’s: no header added', async () => {
      const client = await clientWith(new soap.WSSecurity(owner.username, owner.password));
      const result = await serverTime(client);
      expect(Math.abs(new Date(String(result.GetServerTimeResult)).getTime() - Date.now())).to.be.below(60_000);
      expect(client.lastRequest).to.include('<wsu:Timestamp');
      const answer = new DOMParser().parseFromString(String(client.lastResponse), 'text/xml').documentElement;
      expect(childElements(answer!).map((part) => part.localName)).to.deep.equal(['Body']);
      expect(client.lastResponseHeaders?.['x-ratelimit-limit']).to.match(/^\d+$/);
      expect(client.lastResponseHeaders?.['x-ratelimit-remaining']).to.match(/^\d+$/);
      expect(client.lastResponseHeaders?.['x-ratelimit-reset']).to.match(/^\d+$/);
    });

    it('lets the right password in without a Timestamp, and with the Security header marked mustUnderstand', async () => {
      const plain = await clientWith(new soap.WSSecurity(owner.username, owner.password, { hasTimeStamp: false }));
      expect(await serverTime(plain)).to.have.property('GetServerTimeResult');
      expect(plain.lastRequest).to.not.include('Timestamp');
      const marked = await clientWith(new soap.WSSecurity(owner.username, owner.password, { mustUnderstand: true, hasNonce: true }));
      expect(await serverTime(marked)).to.have.property('GetServerTimeResult');
      expect(marked.lastRequest).to.include('soap:mustUnderstand="1"');
    });

    it('counts the call toward the account’s quota like any other', async function () {
      await withinOneClockHour(this, 10_000);
      const client = await clientWith(new soap.WSSecurity(owner.username, owner.password));
      await serverTime(client);
      const before = Number(client.lastResponseHeaders?.['x-ratelimit-remaining']);
      await serverTime(client);
      expect(Number(client.lastResponseHeaders?.['x-ratelimit-remaining'])).to.equal(before - 1);
    });

    it('is answered 429 with Retry-After once the account’s hourly quota is spent, by token as by Basic', async function () {
      await withinOneClockHour(this, 10_000);
      const small = await gateway.createAccount({ callsPerHour: 2 });
      const client = await clientWith(new soap.WSSecurity(small.username, small.password));
      await serverTime(client);
      expect((await soapPost(gateway.app, small, withHeader(''))).status).to.equal(200);
      const failure = await refused(client);
      expect(failure.response?.status).to.equal(429);
      expect(failure.response?.headers['retry-after']).to.match(/^\d+$/);
      expect(failure.response?.headers['x-ratelimit-remaining']).to.equal('0');
      expect(failure.root?.Envelope.Body.Fault.detail.ErrorCode).to.equal('ERROR_APIUSAGE_EXCEEDED');
    });

    it('refuses a wrong password with the 401 fault, counted toward the lockout: five lock, exactly as HTTP Basic', async () => {
      const user = await createUser('T0ken-secret');
      const wrong = await clientWith(new soap.WSSecurity(user.username, 'Wr0ng-secret'));
      expectRefusedByClient(await refused(wrong));
      expect(await getUser(user.id)).to.include({ failedLoginCount: 1, locked: false });
      for (let attempt = 2; attempt <= 5; attempt++) expectRefusedByClient(await refused(wrong));
      expect(await getUser(user.id)).to.include({ failedLoginCount: 5, locked: true, lockReason: 'FailedLogins' });
      // Locked now, for both ways in, even with the right password.
      expectRefusedByClient(await refused(await clientWith(new soap.WSSecurity(user.username, user.password))));
      expectRefusedByClient(await refused(await clientWith(new soap.BasicAuthSecurity(user.username, user.password))));
    });

    it('refuses a PasswordDigest with the 401 fault even with the right password, and does not count it as a wrong one', async () => {
      const user = await createUser('D1gest-secret');
      const digest = await clientWith(new soap.WSSecurity(user.username, user.password, { passwordType: 'PasswordDigest' }));
      for (let attempt = 0; attempt < 6; attempt++) expectRefusedByClient(await refused(digest));
      expect(digest.lastRequest).to.include('#PasswordDigest');
      expect(await getUser(user.id)).to.include({ failedLoginCount: 0, locked: false });
      expect(await serverTime(await clientWith(new soap.WSSecurity(user.username, user.password)))).to.have.property('GetServerTimeResult');
    });

    it("applies the user's IP allowlist and a rotation's grace as HTTP Basic does", async () => {
      const user = await createUser('T0ken-fenced-pw');
      await restRequest(gateway.app, owner, 'PUT', `/v2/api-users/${user.id}`, { ipAllowlist: ['192.0.2.0/24'] });
      // The tests call from 127.0.0.1: outside. Refused with the right password, counting nothing.
      expectRefusedByClient(await refused(await clientWith(new soap.WSSecurity(user.username, user.password))));
      expect(await getUser(user.id)).to.include({ failedLoginCount: 0 });
      await restRequest(gateway.app, owner, 'PUT', `/v2/api-users/${user.id}`, { ipAllowlist: ['127.0.0.0/8', '::1'] });
      expect(await serverTime(await clientWith(new soap.WSSecurity(user.username, user.password)))).to.have.property('GetServerTimeResult');
      await restRequest(gateway.app, owner, 'PUT', `/v2/api-users/${user.id}/password`, { password: 'T0ken-rotated-pw', keepPreviousForHours: 2 });
      for (const password of [user.password, 'T0ken-rotated-pw']) {
        expect(await serverTime(await clientWith(new soap.WSSecurity(user.username, password)))).to.have.property('GetServerTimeResult');
      }
    });

    it('uses HTTP Basic when both are sent: right Basic and a wrong token pass, wrong Basic and a right token do not', async () => {
      const user = await createUser('B0th-secret');
      const rightBasic = await clientWith(new soap.WSSecurity(user.username, 'Wr0ng-token'), user);
      expect(await serverTime(rightBasic)).to.have.property('GetServerTimeResult');
      expect(await getUser(user.id), 'the token was not checked').to.include({ failedLoginCount: 0 });
      const wrongBasic = await clientWith(new soap.WSSecurity(user.username, user.password), { ...user, password: 'Wr0ng-basic' });
      expectRefusedByClient(await refused(wrongBasic));
      expect(await getUser(user.id), 'the wrong Basic password counts').to.include({ failedLoginCount: 1 });
    });
  });

  describe('raw envelopes', () => {
    it('takes a Password without a Type as PasswordText, under any prefixes or default namespaces', async () => {
      const user = await createUser('Pr3fix<&>:"secret"');
      const password = escapeText(user.password);
      const spellings = [
        security(usernameToken(user, null)),
        // Default namespaces all the way down, and the Password's text in pieces (CDATA, references).
        `<Security xmlns="${WSSE}"><UsernameToken><Username>${user.username}</Username><Password Type="${PASSWORD_TEXT}"><![CDATA[Pr3fix<&>]]>&#58;&quot;secret"</Password></UsernameToken></Security>`,
        // Other prefixes, declared on elements further out, a Type with surrounding whitespace.
        `<s:Security xmlns:s="${WSSE}" xmlns:soap2="${SOAP_ENV}" soap2:mustUnderstand="true"><s:UsernameToken xmlns:u="${WSU}" u:Id="t1"><s:Username>${user.username}</s:Username><s:Password Type=" ${PASSWORD_TEXT} ">${password}</s:Password><s:Nonce>bm9uY2U=</s:Nonce><u:Created>2020-01-01T00:00:00Z</u:Created></s:UsernameToken></s:Security>`,
        // The actor "next" is this service too.
        security(TIMESTAMP + usernameToken(user), ` soap:actor="http://schemas.xmlsoap.org/soap/actor/next" soap:mustUnderstand="1"`),
      ];
      for (const header of spellings) {
        const response = await post(withHeader(header));
        expect(response.status, `${header}\n${response.text}`).to.equal(200);
        expect(childElements(response.body)[0]?.localName).to.equal('GetServerTimeResponse');
      }
      const outside = withHeader(security(usernameToken(user)).replace('<wsse:Security ', `<wsse:Security xmlns:soap="${SOAP_ENV}" `));
      expect((await post(outside)).status).to.equal(200);
    });

    it('refuses tokens that cannot be checked with the same 401, at once, counting nothing toward the lockout', async () => {
      const user = await createUser('Unch3cked-secret');
      const token = usernameToken(user);
      const uncheckable = {
        'no header': '',
        'a PasswordDigest': security(usernameToken(user, PASSWORD_DIGEST)),
        'another Type': security(usernameToken(user, 'wsse:PasswordText')),
        'no Password': security(`<wsse:UsernameToken><wsse:Username>${user.username}</wsse:Username></wsse:UsernameToken>`),
        'no Username': security(`<wsse:UsernameToken><wsse:Password>${user.password}</wsse:Password></wsse:UsernameToken>`),
        'an empty Username': security(`<wsse:UsernameToken><wsse:Username/><wsse:Password>${user.password}</wsse:Password></wsse:UsernameToken>`),
        'two Passwords': security(token.replace('</wsse:UsernameToken>', `<wsse:Password>${user.password}</wsse:Password></wsse:UsernameToken>`)),
        'two tokens': security(token + token),
        'two Security blocks': security(token) + security(token),
        'a token beside a signature': security(token + '<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"/>'),
        'a Username holding elements': security(token.replace(user.username, `<b>${user.username}</b>`)),
        'a Security block of another namespace': token.replace('<wsse:UsernameToken>', '<wsse:Security xmlns:wsse="http://schemas.xmlsoap.org/ws/2002/07/secext"><wsse:UsernameToken>').replace('</wsse:UsernameToken>', '</wsse:UsernameToken></wsse:Security>'),
        'a Security block for another actor': security(token, ` soap:actor="urn:somebody-else" soap:mustUnderstand="1"`),
        'a token outside the Security block': `<wsse:UsernameToken xmlns:wsse="${WSSE}"><wsse:Username>${user.username}</wsse:Username><wsse:Password>${user.password}</wsse:Password></wsse:UsernameToken>`,
      };
      const reference = await post(withHeader(''));
      expectSoapFault(reference, 401, 'ERROR_INVALID_LOGIN');
      for (const [what, header] of Object.entries(uncheckable)) {
        const response = await post(withHeader(header));
        expectSoapFault(response, 401, 'ERROR_INVALID_LOGIN');
        expect(response.text, what).to.equal(reference.text);
        expect(response.headers.get('www-authenticate'), what).to.equal('Basic realm="dualgate"');
      }
      expect(await getUser(user.id)).to.include({ failedLoginCount: 0, locked: false });
    });

    it('checks an empty Password as the empty password, a wrong one, as HTTP Basic checks "username:"', async () => {
      const user = await createUser('Empt1-secret');
      const empty = security(`<wsse:UsernameToken><wsse:Username>${user.username}</wsse:Username><wsse:Password Type="${PASSWORD_TEXT}"/></wsse:UsernameToken>`);
      expectSoapFault(await post(withHeader(empty)), 401, 'ERROR_INVALID_LOGIN');
      expect(await getUser(user.id)).to.include({ failedLoginCount: 1 });
      expectSoapFault(await soapPost(gateway.app, { ...user, password: '' }, withHeader('')), 401, 'ERROR_INVALID_LOGIN');
      expect(await getUser(user.id)).to.include({ failedLoginCount: 2 });
    });

    it('still refuses a header block marked mustUnderstand that it does not understand, and ignores the rest', async () => {
      const token = security(usernameToken(owner));
      const unknown = (attributes: string) => `<x:Transaction xmlns:x="urn:x"${attributes}>5</x:Transaction>`;
      for (const value of ['1', 'true', ' 1 ']) {
        const response = await post(withHeader(token + unknown(` soap:mustUnderstand="${value}"`)));
        expectSoapFault(response, 500, 'ERROR_PARAMETER_INVALID', 'soap:MustUnderstand');
      }
      for (const attributes of ['', ' soap:mustUnderstand="0"', ' soap:mustUnderstand="false"', ' soap:actor="urn:somebody-else" soap:mustUnderstand="1"']) {
        const response = await post(withHeader(token + unknown(attributes)));
        expect(response.status, `${attributes}: ${response.text}`).to.equal(200);
      }
      // With HTTP Basic alike: the header rules are the envelope's, whatever the credentials.
      const withBasic = await soapPost(gateway.app, owner, withHeader(unknown(' soap:mustUnderstand="1"')));
      expectSoapFault(withBasic, 500, 'ERROR_PARAMETER_INVALID', 'soap:MustUnderstand');
    });

    it('refuses a mustUnderstand value SOAP 1.1 does not define, as the caller’s fault', async () => {
      for (const value of ['yes', '', '2']) {
        const response = await post(withHeader(security(usernameToken(owner), ` soap:mustUnderstand="${value}"`)));
        const sentence = expectSoapFault(response, 500, 'ERROR_PARAMETER_INVALID', 'soap:Client');
        expect(sentence).to.include('mustUnderstand');
      }
    });

    it('adds no header to an answer or a fault when the request’s Security header holds a Timestamp', async () => {
      const header = security(TIMESTAMP + usernameToken(owner));
      const ok = await post(withHeader(header));
      expect(ok.status).to.equal(200);
      const fault = await post(withHeader(header, 'GetApiUserById', '<id>000000000000000000000000</id>'));
      expectSoapFault(fault, 500, 'ERROR_APIUSER_NOT_FOUND');
      for (const response of [ok, fault]) {
        const root = new DOMParser().parseFromString(response.text, 'text/xml').documentElement;
        expect(childElements(root!).map((part) => part.localName), response.text).to.deep.equal(['Body']);
        expect(response.text).to.not.include('Timestamp');
      }
    });

    it('answers a caller without credentials 401 before naming operations or reading their input', async () => {
      expectSoapFault(await post(withHeader('', 'NoSuchOperation')), 401, 'ERROR_INVALID_LOGIN');
      expectSoapFault(await post(withHeader('', 'GetApiUsers', '<unknownField>1</unknownField>')), 401, 'ERROR_INVALID_LOGIN');
      // Once authenticated by the token, the same envelopes get their own faults.
      const token = security(usernameToken(owner));
      expectSoapFault(await post(withHeader(token, 'NoSuchOperation')), 500, 'ERROR_PARAMETER_INVALID');
      const unknownField = expectSoapFault(await post(withHeader(token, 'GetApiUsers', '<unknownField>1</unknownField>')), 500, 'ERROR_PARAMETER_INVALID');
      expect(unknownField).to.include('unknownField');
    });

    it('reads the body of a call without an Authorization header first (within the limit), and never that of one with a failing one', async () => {
      const big = withHeader(security(usernameToken(owner)), 'GetServerTime', `<!-- ${'x'.repeat(gateway.config.SOAP_BODY_LIMIT_BYTES)} -->`);
      expectSoapFault(await post(big), 413, 'ERROR_REQUEST_TOO_LARGE');
      expectSoapFault(await soapPost(gateway.app, { ...owner, password: 'Wr0ng-basic' }, big), 401, 'ERROR_INVALID_LOGIN');
      // Hostile or broken XML is the XML's fault, answered before any token is looked for.
      expectSoapFault(await post(`<!DOCTYPE x [<!ENTITY a "a">]>${withHeader(security(usernameToken(owner)))}`), 400, 'ERROR_PARAMETER_INVALID');
      expectSoapFault(await post('<soap:Envelope'), 400, 'ERROR_PARAMETER_INVALID');
      const wrongType = await post(withHeader(security(usernameToken(owner))), { 'Content-Type': 'application/soap+xml' });
      expect(wrongType.status).to.equal(415);
    });

    it('refuses a wrong token password as HTTP Basic refuses a wrong password: the same answer', async () => {
      const wrongToken = await post(withHeader(security(usernameToken({ ...owner, password: 'Wr0ng-token' }))));
      const wrongBasic = await soapPost(gateway.app, { ...owner, password: 'Wr0ng-basic' }, withHeader(''));
      expectSoapFault(wrongToken, 401, 'ERROR_INVALID_LOGIN');
      expect(wrongToken.text).to.equal(wrongBasic.text);
      expect(readEnvelope(wrongToken.text).fault).to.deep.equal(readEnvelope(wrongBasic.text).fault);
    });
  });
});
