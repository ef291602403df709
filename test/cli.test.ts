// The administration command line, run as a process against a real database.
import { expect } from 'chai';
import { uniqueDatabaseUri, startTestGateway, type TestGateway } from './support/gateway.js';
import { runEntry } from './support/processes.js';
import { restRequest } from './support/rest.js';

describe('command line', function () {
  this.timeout(60_000);
  let gateway: TestGateway;
  let env: Record<string, string>;
  const cli = (...args: string[]) => runEntry('cli.ts', args, env);

  before(async () => {
    const databaseUri = uniqueDatabaseUri();
    // The command line is another process: the gateway reads what it changed at once.
    gateway = await startTestGateway({ databaseUri, env: { AUTH_STATE_TTL_MS: '0' } });
    env = { MONGODB_URI: databaseUri };
  });
  after(() => gateway.close());

  it('creates an account and its owner, printing a working password once (--json)', async () => {
    const result = await cli('account', 'create', '--name', 'Acme Shop', '--email', 'ops@acme.example', '--calls-per-hour', '500', '--json');
    expect(result.code, result.stderr).to.equal(0);
    const lines = result.stdout.trim().split('\n');
    expect(lines).to.have.length(1);
    const created = JSON.parse(lines[0]!) as { accountId: string; username: string; password: string };
    expect(Object.keys(created)).to.deep.equal(['accountId', 'username', 'password']);
    const info = await restRequest(gateway.app, created, 'GET', '/v2/account-info');
    expect(info.status).to.equal(200);
    expect(info.headers.get('x-ratelimit-limit')).to.equal('500');
    const users = (await restRequest(gateway.app, created, 'GET', '/v2/api-users')).body as Array<{ isOwner: boolean; username: string }>;
    expect(users).to.have.length(1);
    expect(users[0]).to.include({ isOwner: true, username: created.username });
  });

  it('prints the same for people, one line each for username and password', async () => {
    const result = await cli('account', 'create', '--name', 'Human Co', '--email', 'me@human.example');
    expect(result.code, result.stderr).to.equal(0);
    expect(result.stdout).to.match(/^username: apiuser-[0-9a-f]{12}@dualgate\.local$/m);
    expect(result.stdout).to.match(/^password: \S{24}$/m);
  });

  it('lists accounts, disables and enables them; disabling locks every user until a reset', async () => {
    const created = JSON.parse((await cli('account', 'create', '--name', 'Switch Ltd', '--email', 's@x.example', '--json')).stdout) as {
      accountId: string;
      username: string;
      password: string;
    };
    const list = JSON.parse((await cli('account', 'list', '--json')).stdout) as Array<{ accountId: string; name: string; disabled: boolean }>;
    expect(list.find((account) => account.accountId === created.accountId)).to.include({ name: 'Switch Ltd', disabled: false });
    expect((await cli('account', 'list')).stdout).to.include('Switch Ltd');

    expect((await cli('account', 'disable', created.accountId)).code).to.equal(0);
    expect((await restRequest(gateway.app, created, 'GET', '/v2/server-time')).status).to.equal(401);
    const disabled = JSON.parse((await cli('account', 'list', '--json')).stdout) as Array<{ accountId: string; disabled: boolean }>;
    expect(disabled.find((account) => account.accountId === created.accountId)?.disabled).to.equal(true);

    expect((await cli('account', 'enable', created.accountId)).code).to.equal(0);
    expect((await restRequest(gateway.app, created, 'GET', '/v2/server-time')).status, 'still locked after enable').to.equal(401);

    const reset = await cli('api-user', 'reset-password', created.username, '--json');
    expect(reset.code, reset.stderr).to.equal(0);
    const { password } = JSON.parse(reset.stdout) as { password: string };
    expect(password).to.not.equal(created.password);
    expect((await restRequest(gateway.app, { username: created.username, password }, 'GET', '/v2/server-time')).status).to.equal(200);

    const chosen = await cli('api-user', 'reset-password', created.username, '--password', 'Ch0sen:pass');
    expect(chosen.code).to.equal(0);
    expect(chosen.stdout).to.not.include('Ch0sen');
    expect((await restRequest(gateway.app, { username: created.username, password: 'Ch0sen:pass' }, 'GET', '/v2/server-time')).status).to.equal(200);
  });

  it('fails clearly: usage and configuration errors exit 2, unknown things exit 1, weak passwords are refused', async () => {
    const usage = await cli('account', 'create', '--name', 'No Email');
    expect(usage.code).to.equal(2);
    expect(usage.stderr).to.include('needs --name and --email');
    expect((await cli('frobnicate')).code).to.equal(2);
    expect((await cli('account', 'create', '--bogus')).code).to.equal(2);
    // A quota is decimal digits: what Number() alone would read as 16 or 1000, or as 0, is refused.
    for (const calls of ['0x10', '1e3', '', '0', '10000001', '-1']) {
      const quota = await cli('account', 'create', '--name', 'Quota Co', '--email', 'q@x.example', '--calls-per-hour', calls);
      expect(quota.code, calls).to.equal(2);
      expect(quota.stderr, calls).to.match(calls === '-1' ? /argument is ambiguous/ : /--calls-per-hour must be a whole number/);
    }
    const unknown = await cli('account', 'disable', '000000000000000000000000');
    expect(unknown.code).to.equal(1);
    expect(unknown.stderr).to.include('No account with id');
    const nobody = await cli('api-user', 'reset-password', 'nobody@dualgate.local');
    expect(nobody.code).to.equal(1);
    const created = JSON.parse((await cli('account', 'create', '--name', 'Weak Inc', '--email', 'w@x.example', '--json')).stdout) as { username: string };
    const weak = await cli('api-user', 'reset-password', created.username, '--password', 'weak');
    expect(weak.code).to.equal(1);
    expect(weak.stderr).to.include('at least 8 characters');
    // As the server: the README's exit code 2 for a bad configuration.
    const badConfig = await runEntry('cli.ts', ['account', 'list'], { ...env, BCRYPT_COST: 'high' });
    expect(badConfig.code).to.equal(2);
    expect(badConfig.stderr).to.include('BCRYPT_COST must be');
  });
});
