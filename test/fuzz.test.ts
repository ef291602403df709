// Thousands of generated bad inputs per protocol (fast-check): truncated, mutated and random
// envelopes and JSON bodies. Each gets a client error of the contract, promptly, no internals
// in it; the process stays up and its memory flat.
import { expect } from 'chai';
import fc from 'fast-check';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { startTestGateway, type TestAccount, type TestGateway } from './support/gateway.js';
import { expectNoInternals } from './support/expectations.js';
import { send } from './support/http.js';
import { basicAuth, envelope } from './support/soap.js';

const RUNS = Math.max(100, Number(process.env.FUZZ_RUNS ?? 2500)); // fewer would prove little

setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;

function heapUsedAfterGc(): number {
  collectGarbage();
  collectGarbage();
  return process.memoryUsage().heapUsed;
}

const validEnvelopes = [
  envelope('GetServerTime'),
  envelope('GetApiUsers', '<select>10</select><skip>0</skip>'),
  envelope('CreateApiUser', '<apiUser><Description>x</Description><Password>G00d-pass</Password><Enabled>true</Enabled></apiUser>'),
  envelope('DeleteApiUsers', '<ids><string>000000000000000000000000</string></ids>'),
  envelope('UpdateApiUser', '<id>000000000000000000000000</id><apiUser><Enabled>false</Enabled></apiUser>'),
  // A header block: node-soap parses headers too.
  '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Header><t:Trace xmlns:t="urn:trace" id="t1">1</t:Trace></soap:Header>' +
    '<soap:Body><GetApiUserById xmlns="urn:dualgate:v2"><id>000000000000000000000000</id></GetApiUserById></soap:Body></soap:Envelope>',
];
const validBodies = ['{"password":"G00d-pass","description":"x","enabled":true}', '{"ids":["000000000000000000000000"]}', '{"password":"G00d-pass"}'];

/** Truncations, byte mutations, insertions of markup, and plain random strings. */
function mutated(seeds: string[]): fc.Arbitrary<string> {
  const seed = fc.constantFrom(...seeds);
  const markup = fc.constantFrom('<', '>', '&', '"', '<!DOCTYPE a>', '<!ENTITY e "x">', '&e;', ']]>', '<![CDATA[', '\u0000', '\uD800', '<?pi?>', 'xmlns:a="b"', '</soap:Body>',
    // What node-soap's parser trips over (src/transports/soap/envelopeReader.ts):
    '<constructor/>', '<__proto__>1</__proto__>', ' href="#__proto__"', ' id="toString"', '<![CDATA[<?xml version="1.0"?><a>]]>', 'text', '<x>', '{', '}', '[', ']', ',', ':', 'null', '1e999', '"__proto__":{}');
  return fc.oneof(
    fc.tuple(seed, fc.nat()).map(([text, cut]) => text.slice(0, cut % Math.max(1, text.length))),
    fc.tuple(seed, fc.nat(), fc.string({ minLength: 1, maxLength: 3 })).map(([text, at, noise]) => {
      const position = at % Math.max(1, text.length);
      return text.slice(0, position) + noise + text.slice(position + noise.length);
    }),
    fc.tuple(seed, fc.nat(), markup).map(([text, at, insert]) => {
      const position = at % Math.max(1, text.length);
      return text.slice(0, position) + insert + text.slice(position);
    }),
    fc.string({ maxLength: 200 }),
    fc.json({ maxDepth: 4 }),
  );
}

describe('fuzzing both doors', function () {
  this.timeout(300_000);
  let gateway: TestGateway;
  let owner: TestAccount;

  before(async () => {
    gateway = await startTestGateway({ env: { QUOTA_SYNC_MS: '250' } });
    owner = await gateway.createAccount({ callsPerHour: 10_000_000 });
  });
  after(() => gateway.close());

  // send() bounds every answer's wait: no input may make the gateway hang (not a speed check).
  const post = (path: string, contentType: string, body: string) =>
    send(gateway.app, 'POST', path, { 'Content-Type': contentType, Authorization: basicAuth(owner) }, body);

  it(`answers ${RUNS} mutated SOAP envelopes with client faults only`, async () => {
    const before = heapUsedAfterGc();
    let refused = 0;
    await fc.assert(
      fc.asyncProperty(mutated(validEnvelopes), async (body) => {
        const { status, text } = await post('/v2/api.svc', 'text/xml; charset=utf-8', body);
        expectNoInternals(text, body);
        if (status === 200) return; // the mutation left a valid call
        refused++;
        // A fault the caller caused: 400 before the message is SOAP, 500 after (WS-I R1126).
        expect([400, 500], text).to.include(status);
        expect(text).to.match(/<faultcode>soap:(Client|VersionMismatch|MustUnderstand)<\/faultcode>/);
        expect(text).to.not.include('ERROR_UNKNOWN');
      }),
      { numRuns: RUNS },
    );
    // Most mutations break the envelope: a door that let everything through would fail here.
    expect(refused / RUNS, `${refused} of ${RUNS} refused`).to.be.above(0.5);
    expect(heapUsedAfterGc() - before, 'heap growth in bytes').to.be.below(30 * 1024 * 1024);
  });

  it(`answers ${RUNS} mutated JSON bodies with 4xx only`, async () => {
    const before = heapUsedAfterGc();
    const paths = fc.constantFrom('/v2/api-users', '/v2/api-users/delete');
    let refused = 0;
    await fc.assert(
      fc.asyncProperty(paths, mutated(validBodies), async (path, body) => {
        const { status, text } = await post(path, 'application/json', body);
        expectNoInternals(text, body);
        if (status === 200 || status === 201) return;
        refused++;
        expect(status, text).to.be.within(400, 499);
        expect(JSON.parse(text)).to.have.property('message').that.matches(/ ERROR_[A-Z_]+$/);
      }),
      { numRuns: RUNS },
    );
    expect(refused / RUNS, `${refused} of ${RUNS} refused`).to.be.above(0.5);
    expect(heapUsedAfterGc() - before, 'heap growth in bytes').to.be.below(30 * 1024 * 1024);
  });

  it('still serves afterwards', async () => {
    const response = await send(gateway.app, 'GET', '/v2/server-time', { Authorization: basicAuth(owner) });
    expect(response.status).to.equal(200);
  });
});
