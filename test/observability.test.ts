// Eyes on it: one log line per request with the fields operators need and never a secret;
// Prometheus metrics behind a bearer token; probes for load balancers.
import { expect } from 'chai';
import { withinOneClockHour } from './support/clockHour.js';
import { startTestGateway, type TestAccount, type TestGateway } from './support/gateway.js';
import { restRequest } from './support/rest.js';
import { send } from './support/http.js';
import { expectSoapFault } from './support/expectations.js';
import { counterValue } from './support/metrics.js';
import { envelope, escapeText, soapCall, soapPost } from './support/soap.js';

const TOKEN = 'metrics-token-0123456789';

describe('observability', () => {
  let gateway: TestGateway;
  let owner: TestAccount;
  const lines: string[] = [];
  const logged = () => lines.map((line) => JSON.parse(line) as Record<string, unknown>);

  before(async () => {
    gateway = await startTestGateway({ env: { METRICS_TOKEN: TOKEN }, logLines: lines });
    owner = await gateway.createAccount({ name: 'Watched Inc', callsPerHour: 40 });
  });
  after(() => gateway.close());

  it('logs one line per request: request id, protocol, operation, status, duration, account and user', async () => {
    const rest = await restRequest(gateway.app, owner, 'GET', '/v2/account-info', undefined, { 'X-Request-Id': 'trace-abc.1' });
    expect(rest.headers.get('x-request-id')).to.equal('trace-abc.1');
    const soap = await soapCall(gateway.app, owner, 'GetServerTime');
    const soapId = soap.headers.get('x-request-id');
    expect(soapId).to.match(/^[0-9a-f-]{36}$/);
    const restLine = logged().find((line) => line.requestId === 'trace-abc.1');
    expect(restLine).to.include({ msg: 'request', protocol: 'rest', operation: 'GetCurrentAccountInfo', status: 200, accountId: owner.accountId, method: 'GET', path: '/v2/account-info' });
    expect(restLine?.apiUserId).to.match(/^[0-9a-f]{24}$/);
    expect(restLine?.durationMs).to.be.a('number');
    expect(logged().filter((line) => line.requestId === soapId)).to.have.length(1);
    expect(logged().find((line) => line.requestId === soapId)).to.include({ protocol: 'soap', operation: 'GetServerTime', status: 200 });
    const refused = await restRequest(gateway.app, { username: owner.username, password: 'nope' }, 'GET', '/v2/server-time');
    expect(logged().find((line) => line.requestId === refused.headers.get('x-request-id'))).to.include({ status: 401, error: 'ERROR_INVALID_LOGIN', accountId: null, level: 30 });
    // A SOAP fault is HTTP 500 for the caller's mistakes too: its line says whose it was.
    const missing = await soapCall(gateway.app, owner, 'GetApiUserById', '<id>000000000000000000000000</id>');
    expect(missing.status).to.equal(500);
    expect(logged().find((line) => line.requestId === missing.headers.get('x-request-id'))).to.include({ status: 500, error: 'ERROR_APIUSER_NOT_FOUND', level: 30 });
    expect(restLine).to.not.have.property('error');
  });

  it('never logs a password, a hash or an Authorization header', async () => {
    const secrets = ['L0gged-never-1', 'L0gged-never-2', 'S0ap-never-3', 'wrong-never-4'];
    const created = await restRequest(gateway.app, owner, 'POST', '/v2/api-users', { password: secrets[0] });
    const id = (created.body as { id: string }).id;
    await restRequest(gateway.app, owner, 'PUT', `/v2/api-users/${id}/password`, { password: secrets[1] });
    await soapCall(gateway.app, owner, 'CreateApiUser', `<apiUser><Password>${escapeText(secrets[2]!)}</Password></apiUser>`);
    await restRequest(gateway.app, { username: owner.username, password: secrets[3]! }, 'GET', '/v2/server-time');
    await restRequest(gateway.app, owner, 'POST', '/v2/api-users', '{"password": "L0gged-never-1", broken');
    await soapPost(gateway.app, owner, envelope('CreateApiUser', '<apiUser><Password>L0gged-never-1</Password><Bad/></apiUser>'));
    const all = lines.join('\n');
    for (const secret of [...secrets, owner.password]) expect(all).to.not.include(secret);
    expect(all).to.not.match(/\$2[aby]\$/);
    expect(all.toLowerCase()).to.not.include('authorization');
    expect(all).to.not.include(Buffer.from(`${owner.username}:${owner.password}`).toString('base64'));
  });

  it('serves Prometheus metrics to the token only', async () => {
    expect((await send(gateway.app, 'GET', '/metrics', {})).status).to.equal(401);
    expect((await send(gateway.app, 'GET', '/metrics', { Authorization: 'Bearer wrong-token-0123456789' })).status).to.equal(401);
    const user = (await restRequest(gateway.app, owner, 'POST', '/v2/api-users', { password: 'M3tered-user' })).body as { username: string };
    for (let i = 0; i < 5; i++) await restRequest(gateway.app, { username: user.username, password: 'bad' }, 'GET', '/v2/server-time');
    const response = await send(gateway.app, 'GET', '/metrics', { Authorization: `Bearer ${TOKEN}` });
    expect(response.status).to.equal(200);
    expect(response.headers.get('content-type')).to.match(/^text\/plain/);
    const text = response.text;
    expect(text).to.match(/dualgate_requests_total\{protocol="rest",operation="GetCurrentAccountInfo",status="200"\} [1-9]/);
    expect(text).to.match(/dualgate_requests_total\{protocol="soap",operation="GetServerTime",status="200"\} [1-9]/);
    // The histogram is there with the call in it (the +Inf bucket: how fast it was is no test's business).
    expect(text).to.match(/dualgate_request_duration_seconds_bucket\{le="0\.05",protocol="rest",operation="GetCurrentAccountInfo"\} \d+/);
    expect(text).to.match(/dualgate_request_duration_seconds_bucket\{le="\+Inf",protocol="rest",operation="GetCurrentAccountInfo"\} [1-9]/);
    expect(text).to.match(/dualgate_auth_failures_total [1-9]/);
    expect(text).to.match(/dualgate_lockouts_total 1\n/);
    expect(text).to.match(/dualgate_credential_cache_lookups_total\{result="hit"\} [1-9]/);
    expect(text).to.match(/dualgate_credential_cache_hit_ratio 0\.\d+/);
    expect(text).to.match(/dualgate_process_resident_memory_bytes \d+/);
    expect(text).to.include('dualgate_quota_rejections_total');
    expect(text).to.include('dualgate_database_errors_total');
  });

  it('counts a call the database could not serve in either protocol as a database error, and a shed compare not', async () => {
    // Every call reads the database (no auth-state cache); one bcrypt slot and no waiting, so
    // that while a compare runs the next caller needing one is shed.
    const env = { METRICS_TOKEN: TOKEN, AUTH_STATE_TTL_MS: '0', BCRYPT_COST: '12', BCRYPT_POOL_SIZE: '1', BCRYPT_QUEUE_MAX_WAIT_MS: '0' };
    const watched = await startTestGateway({ env });
    const databaseErrors = async () => counterValue((await send(watched.app, 'GET', '/metrics', { Authorization: `Bearer ${TOKEN}` })).text, 'dualgate_database_errors_total');
    try {
      const manager = await watched.createAccount();
      expect((await restRequest(watched.app, manager, 'GET', '/v2/account-info')).status).to.equal(200);
      const newcomer = (await restRequest(watched.app, manager, 'POST', '/v2/api-users', { password: 'Newcomer-secret-1' })).body as { username: string };
      const cold = restRequest(watched.app, { username: newcomer.username, password: 'Newcomer-secret-1' }, 'GET', '/v2/account-info');
      const { hasher } = watched.gateway.services;
      for (let waited = 0; !hasher.overloaded() && waited < 10_000; waited += 2) await new Promise((resolve) => setTimeout(resolve, 2));
      const shed = await restRequest(watched.app, { username: manager.username, password: 'not-the-password-1' }, 'GET', '/v2/account-info');
      expect(shed.status, shed.text).to.equal(503);
      expect((await cold).status).to.equal(200);
      expect(await databaseErrors(), 'a shed compare is no database error').to.equal(0);

      const client = watched.database.connection.getClient();
      await client.close(); // the database, as far as this gateway can tell, is gone
      try {
        expect((await restRequest(watched.app, manager, 'GET', '/v2/account-info')).status).to.equal(503);
        expectSoapFault(await soapCall(watched.app, manager, 'GetCurrentAccountInfo'), 500, 'ERROR_SYSTEM_SERVICETEMPORARILYUNAVAILABLE', 'soap:Server');
        expect(await databaseErrors(), 'the REST 503 and the SOAP fault').to.equal(2);
      } finally {
        await client.connect();
      }
    } finally {
      await watched.close();
    }
  });

  it("counts the bcrypt threads' time and the serving thread's busy time, the two that share the cores", async () => {
    // The time asked (`sent`) and answered (`answered`), so that the counters' reading lies between.
    const read = async () => {
      const sent = performance.now();
      const { text } = await send(gateway.app, 'GET', '/metrics', { Authorization: `Bearer ${TOKEN}` });
      return {
        sent,
        answered: performance.now(),
        bcrypt: counterValue(text, 'dualgate_bcrypt_busy_seconds_total'),
        busy: counterValue(text, 'dualgate_event_loop_busy_seconds_total'),
      };
    };
    const before = await read();
    // A hash (the new user) and a compare (its first call): bcrypt work, as the hasher timed it.
    const user = (await restRequest(gateway.app, owner, 'POST', '/v2/api-users', { password: 'Tim3d-user' })).body as { username: string };
    expect((await restRequest(gateway.app, { username: user.username, password: 'Tim3d-user' }, 'GET', '/v2/server-time')).status).to.equal(200);
    const after = await read();
    expect(after.bcrypt).to.be.greaterThan(before.bcrypt);
    expect(after.busy).to.be.greaterThan(before.busy);
    // A utilisation: never more busy time than time went by.
    expect(after.busy - before.busy).to.be.at.most((after.answered - before.sent) / 1000);
  });

  it('counts quota rejections', async function () {
    await withinOneClockHour(this, 10_000);
    const small = await gateway.createAccount({ callsPerHour: 1 });
    await restRequest(gateway.app, small, 'GET', '/v2/server-time');
    expect((await restRequest(gateway.app, small, 'GET', '/v2/server-time')).status).to.equal(429);
    const { text } = await send(gateway.app, 'GET', '/metrics', { Authorization: `Bearer ${TOKEN}` });
    expect(text).to.match(/dualgate_quota_rejections_total [1-9]/);
  });

  it('answers the probes without credentials, and not at all about metrics without a token configured', async () => {
    const live = await send(gateway.app, 'GET', '/healthz', {});
    expect(live.status).to.equal(200);
    expect(JSON.parse(live.text)).to.deep.equal({ status: 'alive' });
    const ready = await send(gateway.app, 'GET', '/readyz', {});
    expect(ready.status).to.equal(200);
    expect(JSON.parse(ready.text)).to.deep.equal({ status: 'ready' });
    gateway.gateway.health.draining();
    const draining = await send(gateway.app, 'GET', '/readyz', {});
    expect(draining.status).to.equal(503);
    expect((JSON.parse(draining.text) as { message: string }).message).to.match(/ERROR_SYSTEM_SERVICETEMPORARILYUNAVAILABLE$/);
    const untokened = await startTestGateway();
    try {
      expect((await send(untokened.app, 'GET', '/metrics', {})).status).to.equal(404);
    } finally {
      await untokened.close();
    }
  });
});
