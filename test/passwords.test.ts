// The password policy and how passwords are kept.
import { expect } from 'chai';
import bcrypt from 'bcrypt';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { passwordPolicyFailures } from '../src/domain/passwordPolicy.js';
import { PasswordHasher } from '../src/domain/passwords.js';
import { generatePassword } from '../src/domain/generatedSecrets.js';
import { startTestGateway, type TestAccount, type TestGateway } from './support/gateway.js';
import { expectRestError } from './support/expectations.js';
import { restRequest } from './support/rest.js';

const context = { username: 'apiuser-0123456789ab@dualgate.local', companyName: 'Acme Widgets' };

describe('password policy', () => {
  const cases: Array<[string, string[]]> = [
    ['Sh0rt!', ['must be at least 8 characters long']],
    ['x'.repeat(64) + '1', ['must be at most 64 characters long']],
    ['OnlyLettersHere', ['must contain at least one digit or non-alphanumeric character']],
    ['x1-apiuser-0123456789ab@dualgate.local', ['must not contain the username', 'must not contain the part of the username before the @']],
    ['x1-APIUSER-0123456789AB', ['must not contain the part of the username before the @']],
    ['my-acme widgets-1', ['must not contain the company name']],
    ['MyPassWord-1', ['must not contain the word "password"']],
    ['password', ['must contain at least one digit or non-alphanumeric character', 'must not contain the word "password"']],
  ];
  for (const [password, failures] of cases) {
    it(`refuses ${JSON.stringify(password.slice(0, 24))} naming: ${failures.join('; ')}`, () => {
      expect(passwordPolicyFailures(password, context)).to.deep.equal(failures);
    });
  }

  it('accepts a password that breaks no rule, exactly 8 and exactly 64 characters long', () => {
    expect(passwordPolicyFailures('Abcdefg1', context)).to.deep.equal([]);
    expect(passwordPolicyFailures('A1' + 'b'.repeat(62), context)).to.deep.equal([]);
    expect(passwordPolicyFailures('ünïcødé!', context), 'non-alphanumeric includes symbols, letters of any script count as letters').to.deep.equal([]);
  });

  it('counts characters, not bytes or UTF-16 units', () => {
    expect(passwordPolicyFailures('😀😀😀😀😀😀😀1', context)).to.deep.equal([]);
    expect(passwordPolicyFailures('😀'.repeat(64), context)).to.deep.equal([]);
    expect(passwordPolicyFailures('😀'.repeat(65), context)).to.deep.equal(['must be at most 64 characters long']);
  });

  it('makes generated passwords that pass it', () => {
    for (let i = 0; i < 50; i++) expect(passwordPolicyFailures(generatePassword(context), context)).to.deep.equal([]);
  });
});

describe('password hashing', () => {
  const hasher = new PasswordHasher(4);

  it('never lets two different passwords verify for each other, even past bcrypt 72 bytes', async () => {
    // 64 characters of 3-byte UTF-8 are 192 bytes: plain bcrypt would read only the first 72.
    const common = '€'.repeat(30); // 90 bytes
    const first = `${common}-first-1`;
    const second = `${common}-second-2`;
    expect(Buffer.byteLength(common)).to.be.above(72);
    expect(await bcrypt.compare(second, await bcrypt.hash(first, 4)), 'plain bcrypt would confuse them').to.equal(true);
    const hash = await hasher.hash(first);
    expect(await hasher.verify(first, hash)).to.equal(true);
    expect(await hasher.verify(second, hash)).to.equal(false);
  });

  it('reads differently composed accents as the same password (NFC)', async () => {
    const hash = await hasher.hash('Caf\u00e9-latte1');
    expect(await hasher.verify('Cafe\u0301-latte1', hash)).to.equal(true);
  });

  it('runs bcrypt on threads of lower priority (BCRYPT_NICE) than the one serving calls', async () => {
    // Field 19 of a task's stat is its nice value. The listing is sorted as text, so the main
    // thread (tid = pid) is not always first: it is read by its own id.
    const niceOf = (tid: string | number) => Number(readFileSync(`/proc/self/task/${tid}/stat`, 'utf8').split(') ')[1]!.split(' ')[16]);
    const niceOfThreads = () => readdirSync('/proc/self/task').map(niceOf);
    const niceOfMainThread = niceOf(process.pid);
    const hasher = new PasswordHasher(4, { slots: 1, nice: 7 });
    try {
      expect(niceOfThreads(), 'no bcrypt thread before the first job').to.not.include(7);
      const hash = await hasher.hash('Nice-and-slow-1');
      expect(await hasher.verify('Nice-and-slow-1', hash)).to.equal(true);
      expect(await hasher.verify('Nice-and-slow-2', hash)).to.equal(false);
      expect(niceOfThreads(), 'the worker thread is niced').to.include(7);
      expect(niceOf(process.pid), 'the main thread is not').to.equal(niceOfMainThread);
    } finally {
      await hasher.close();
    }
  });

  it('lets a process that checked a password end by itself, after the answer', () => {
    const run = spawnSync(process.execPath, ['--import', 'tsx', 'test/support/hashOnce.ts'], { encoding: 'utf8', timeout: 30_000 });
    expect(run.status, run.stderr).to.equal(0);
    expect(run.stdout.trim()).to.equal('true');
  });

  it('hashes at BCRYPT_COST, 12 by default', async function () {
    this.timeout(20_000);
    const defaults = new PasswordHasher(12);
    const hash = await defaults.hash('Def4ult-cost');
    expect(bcrypt.getRounds(hash)).to.equal(12);
    expect(await defaults.verify('Def4ult-cost', hash)).to.equal(true);
    expect(await defaults.verify('Def4ult-cosT', hash)).to.equal(false);
  });
});

describe('passwords over the API', () => {
  let gateway: TestGateway;
  let owner: TestAccount;
  before(async () => {
    gateway = await startTestGateway();
    owner = await gateway.createAccount({ name: 'Policy Partners' });
  });
  after(() => gateway.close());

  it('checks the policy against the account name on create and on reset', async () => {
    const weak = await restRequest(gateway.app, owner, 'POST', '/v2/api-users', { password: 'policy partners 1' });
    expect(expectRestError(weak, 400, 'ERROR_WEAK_PASSWORD')).to.include('company name');
    const created = await restRequest(gateway.app, owner, 'POST', '/v2/api-users', { password: 'G00d-enough' });
    const { id, username } = created.body as { id: string; username: string };
    const reset = await restRequest(gateway.app, owner, 'PUT', `/v2/api-users/${id}/password`, { password: username.split('@')[0] + '!' });
    expect(expectRestError(reset, 400, 'ERROR_WEAK_PASSWORD')).to.include('before the @');
    // nothing changed: the old password still works
    expect((await restRequest(gateway.app, { username, password: 'G00d-enough' }, 'GET', '/v2/server-time')).status).to.equal(200);
  });

  it('never returns or stores the password, only a bcrypt hash', async () => {
    const created = await restRequest(gateway.app, owner, 'POST', '/v2/api-users', { password: 'N0t-in-output' });
    expect(created.text).to.not.include('N0t-in-output');
    expect(created.text).to.not.match(/\$2[aby]\$/);
    const record = await gateway.database.models.ApiUser.findById((created.body as { id: string }).id).lean();
    expect(record?.passwordHash).to.match(/^\$2b\$04\$/);
    expect(JSON.stringify(record)).to.not.include('N0t-in-output');
  });

  it('resets to a new password: the old one stops working at once', async () => {
    const created = await restRequest(gateway.app, owner, 'POST', '/v2/api-users', { password: 'Old-secret-1' });
    const { id, username } = created.body as { id: string; username: string };
    await restRequest(gateway.app, owner, 'PUT', `/v2/api-users/${id}/password`, { password: 'New-secret-2' });
    expectRestError(await restRequest(gateway.app, { username, password: 'Old-secret-1' }, 'GET', '/v2/server-time'), 401, 'ERROR_INVALID_LOGIN');
    expect((await restRequest(gateway.app, { username, password: 'New-secret-2' }, 'GET', '/v2/server-time')).status).to.equal(200);
  });
});
