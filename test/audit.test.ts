// The audit log: what managers need to run integrations, written with every change, readable
// through GetAuditEvents in both protocols; never a password, never one line per failed login.
import { expect } from 'chai';
import type { z } from 'zod';
import type { auditEvent } from '../src/operations/schemas.js';
import { AuditTrail } from '../src/domain/auditTrail.js';
import { operations } from '../src/operations/index.js';
import { toJsonSchema } from '../src/operations/jsonSchema.js';
import { startTestGateway, type TestAccount, type TestGateway } from './support/gateway.js';
import { restRequest } from './support/rest.js';
import { soapCall, soapResult } from './support/soap.js';

type AuditEvent = z.output<typeof auditEvent>;

describe('audit log', () => {
  let gateway: TestGateway;
  let owner: TestAccount;
  const events = async (credentials = owner, query = '') =>
    (await restRequest(gateway.app, credentials, 'GET', `/v2/audit-events${query}`)).body as AuditEvent[];
  const create = async (body: Record<string, unknown>) =>
    (await restRequest(gateway.app, owner, 'POST', '/v2/api-users', body)).body as { id: string; username: string };

  before(async () => {
    gateway = await startTestGateway();
    owner = await gateway.createAccount({ name: 'Audited Ltd' });
  });
  after(() => gateway.close());

  it('records the account and its owner being created, from the command line', async () => {
    const log = await events();
    expect(log.map((event) => event.type)).to.include.members(['AccountCreated', 'ApiUserCreated']);
    const ownerCreated = log.find((event) => event.type === 'ApiUserCreated')!;
    expect(ownerCreated).to.include({ actorUsername: '(command line)', targetUsername: owner.username, actorId: null });
  });

  it('records every change with time, actor, target and client IP, newest first', async () => {
    const user = await create({ password: 'Aud1t-me-now', description: 'CRM' });
    await restRequest(gateway.app, owner, 'PUT', `/v2/api-users/${user.id}`, { description: 'CRM (EU)', canManageAccount: true });
    await restRequest(gateway.app, owner, 'PUT', `/v2/api-users/${user.id}`, { enabled: false });
    await restRequest(gateway.app, owner, 'PUT', `/v2/api-users/${user.id}`, { enabled: true });
    await restRequest(gateway.app, owner, 'PUT', `/v2/api-users/${user.id}/password`, { password: 'Aud1t-me-again' });
    await restRequest(gateway.app, owner, 'DELETE', `/v2/api-users/${user.id}`);
    const about = (await events()).filter((event) => event.targetId === user.id);
    expect(about.map((event) => event.type)).to.deep.equal([
      'ApiUserDeleted',
      'ApiUserPasswordReset',
      'ApiUserEnabled',
      'ApiUserDisabled',
      'ApiUserUpdated',
      'ApiUserCreated',
    ]);
    const times = about.map((event) => Date.parse(event.time));
    expect(times).to.deep.equal([...times].sort((a, b) => b - a));
    const ownerId = ((await restRequest(gateway.app, owner, 'GET', '/v2/api-users?select=1')).body as Array<{ id: string }>)[0]!.id;
    for (const event of about) {
      expect(event).to.include({ actorId: ownerId, actorUsername: owner.username, targetUsername: user.username });
      expect(event.clientIp).to.match(/127\.0\.0\.1/);
    }
    expect(about.find((event) => event.type === 'ApiUserUpdated')?.details).to.equal('description="CRM (EU)", canManageAccount=true');
  });

  it('never holds a password', async () => {
    const user = await create({ password: 'N3ver-in-the-log', description: 'secretive' });
    await restRequest(gateway.app, owner, 'PUT', `/v2/api-users/${user.id}/password`, { password: 'N3ver-in-the-log-2' });
    const raw = JSON.stringify(await gateway.database.models.AuditEvent.find().lean());
    expect(raw).to.not.include('N3ver-in-the-log');
    expect(raw).to.not.match(/\$2[aby]\$/);
  });

  it('records a lock once, not each failed login, and an unlock by reset; the count is on the user', async () => {
    const user = await create({ password: 'L0ck-and-log' });
    const before = (await events()).length;
    for (let i = 0; i < 12; i++) await restRequest(gateway.app, { username: user.username, password: `wrong-${i}` }, 'GET', '/v2/server-time');
    const after = await events();
    const locks = after.filter((event) => event.type === 'ApiUserLocked' && event.targetId === user.id);
    expect(locks).to.have.length(1);
    const { created } = (await restRequest(gateway.app, owner, 'GET', `/v2/api-users/${user.id}`)).body as { created: string };
    expect(locks[0]).to.include({ actorId: null, details: `5 wrong passwords in a row after its password was set (${created})` });
    expect(after.length - before, 'one event for twelve failures').to.equal(1);
    const record = (await restRequest(gateway.app, owner, 'GET', `/v2/api-users/${user.id}`)).body as { failedLoginCount: number; lastFailedLogin: string; locked: boolean };
    expect(record).to.include({ failedLoginCount: 5, locked: true });
    expect(Date.parse(record.lastFailedLogin)).to.be.closeTo(Date.now(), 60_000);
    await restRequest(gateway.app, owner, 'PUT', `/v2/api-users/${user.id}/password`, { password: 'L0ck-and-log' });
    const unlocked = (await events()).filter((event) => event.targetId === user.id).map((event) => event.type);
    expect(unlocked.slice(0, 2).sort()).to.deep.equal(['ApiUserPasswordReset', 'ApiUserUnlocked']);
    const reset = (await restRequest(gateway.app, owner, 'GET', `/v2/api-users/${user.id}`)).body as { failedLoginCount: number };
    expect(reset.failedLoginCount).to.equal(0);
  });

  it('keeps a lock once, whichever processes write it and from whichever start they count its run; a later lock besides', async () => {
    const { id } = await create({ password: 'Tw1ce-written' });
    const { models } = gateway.database;
    const user = (await models.ApiUser.findById(id).lean().exec())!;
    const after = (ms: number) => new Date(user.unlockedAt.getTime() + ms);
    // Three processes (each with its own memory of what it wrote): two at once, one counting the
    // run from the user's creation and one from a success it had not written yet; a third later.
    const [first, second, third] = [gateway.gateway.services.auditTrail, new AuditTrail(models), new AuditTrail(models)];
    await Promise.all([first.recordLock(user, user.unlockedAt, after(5_000), 5), second.recordLock(user, after(1_000), after(5_000), 5)]);
    await third.recordLock(user, after(2_000), after(5_001), 5);
    const locks = async () => (await models.AuditEvent.find({ type: 'ApiUserLocked', targetId: id }).sort({ at: 1 }).lean().exec()).map((event) => event._id);
    expect(await locks(), 'one lock').to.deep.equal([`lock-${id}-${user.unlockedAt.getTime()}-1`]);
    // A success after it (let in by a process that had not heard of the lock) and five more.
    await third.recordLock(user, after(6_000), after(9_000), 5);
    expect(await locks(), 'two locks').to.deep.equal([1, 2].map((n) => `lock-${id}-${user.unlockedAt.getTime()}-${n}`));
  });

  it('records a bulk delete as one event per user, and account switches', async () => {
    const [a, b] = [await create({ password: 'Bu1k-one-x' }), await create({ password: 'Bu1k-two-x' })];
    await restRequest(gateway.app, owner, 'POST', '/v2/api-users/delete', { ids: [a.id, b.id] });
    const deleted = (await events()).filter((event) => event.type === 'ApiUserDeleted' && (event.targetId === a.id || event.targetId === b.id));
    expect(deleted).to.have.length(2);
    expect(new Set(deleted.map((event) => event.id)).size).to.equal(2);

    await gateway.gateway.services.accounts.disable(owner.accountId);
    await gateway.gateway.services.accounts.enable(owner.accountId);
    const raw = await gateway.database.models.AuditEvent.find({ accountId: owner.accountId, type: /^Account(Disabled|Enabled)$/ }).lean();
    expect(raw.map((event) => event.type).sort()).to.deep.equal(['AccountDisabled', 'AccountEnabled']);
    // back in, for the tests after this one
    const ownerRecord = await gateway.gateway.services.apiUsers.findByUsername(owner.username);
    const account = await gateway.gateway.services.accounts.findById(ownerRecord!.accountId);
    const { COMMAND_LINE } = await import('../src/domain/auditTrail.js');
    await gateway.gateway.services.apiUsers.setPassword(ownerRecord!, account!, owner.password, COMMAND_LINE);
  });

  it('pages with select and skip, and shows each account only its own events', async () => {
    const all = await events();
    const page = await events(owner, '?select=2&skip=1');
    expect(page.map((event) => event.id)).to.deep.equal(all.slice(1, 3).map((event) => event.id));
    const other = await gateway.createAccount({ name: 'Nosy Co' });
    const theirs = await events(other);
    expect(theirs.every((event) => event.targetUsername !== owner.username)).to.equal(true);
    expect(theirs.map((event) => event.type).sort()).to.deep.equal(['AccountCreated', 'ApiUserCreated']);
  });

  it("filters by API user: the events by it and about it, of the caller's account only", async () => {
    const manager = await create({ password: 'Manag3r-audit', canManageAccount: true });
    const managerCredentials = { username: manager.username, password: 'Manag3r-audit' };
    const managed = await create({ password: 'Manag3d-audit' });
    await restRequest(gateway.app, managerCredentials, 'PUT', `/v2/api-users/${managed.id}`, { description: 'by the manager' });
    await restRequest(gateway.app, owner, 'PUT', `/v2/api-users/${manager.id}`, { description: 'by the owner' });
    const byOrAbout = await events(owner, `?apiUserId=${manager.id}`);
    expect(byOrAbout.map((event) => [event.type, event.actorId === manager.id ? 'by' : 'about'])).to.deep.equal([
      ['ApiUserUpdated', 'about'],
      ['ApiUserUpdated', 'by'],
      ['ApiUserCreated', 'about'],
    ]);
    expect(byOrAbout.every((event) => event.actorId === manager.id || event.targetId === manager.id)).to.equal(true);
    expect(await events(owner, `?apiUserId=${manager.id.toUpperCase()}`), 'the id in upper case, as GetApiUserById takes it').to.deep.equal(byOrAbout);
    expect((await events(owner, `?apiUserId=${managed.id}&select=1`)).map((event) => event.details)).to.deep.equal(['description="by the manager"']);
    const other = await gateway.createAccount({ name: 'Other Audit Co' });
    expect(await events(other, `?apiUserId=${manager.id}`), "another account's user: nothing").to.deep.equal([]);
    expect(await events(owner, '?apiUserId=no-such-user')).to.deep.equal([]);
  });

  it('reads the same over SOAP', async () => {
    const operation = operations.find((candidate) => candidate.name === 'GetAuditEvents')!;
    const rest = await events(owner, '?select=3');
    const soap = await soapCall(gateway.app, owner, 'GetAuditEvents', '<select>3</select>');
    expect(soapResult(soap, 'GetAuditEvents', toJsonSchema(operation.result!, 'output'))).to.deep.equal(rest);
  });

  it('finishes a change a crash left with its event unpublished', async () => {
    const { models } = gateway.database;
    const user = await create({ password: 'Cr4sh-halfway' });
    const { auditTrail } = gateway.gateway.services;
    // As if the process died right after the change's write: event pending, document soft-deleted.
    await models.ApiUser.updateOne({ _id: user.id }, { $set: { deletedAt: new Date() }, $push: { pendingAudit: auditTrail.event('ApiUserDeleted', { id: null, username: 'x', clientIp: null }) } });
    expect((await restRequest(gateway.app, owner, 'GET', `/v2/api-users/${user.id}`)).status, 'already gone for the API').to.equal(404);
    await auditTrail.recover();
    expect(await models.ApiUser.exists({ _id: user.id })).to.equal(null);
    expect(await models.AuditEvent.exists({ targetId: user.id, type: 'ApiUserDeleted' })).to.not.equal(null);
    await auditTrail.recover(); // twice is harmless
    expect(await models.AuditEvent.countDocuments({ targetId: user.id, type: 'ApiUserDeleted' })).to.equal(1);
  });

  it('answers a create whose event could not be published yet with the user, whole: it logs in, and the recovery publishes its event', async () => {
    const { models } = gateway.database;
    const { auditTrail } = gateway.gateway.services;
    // The event's publication fails once, as against a database that went away right after
    // the user's insert (the database itself is not touched).
    failsOnce(auditTrail, 'publishUsers');
    const response = await restRequest(gateway.app, owner, 'POST', '/v2/api-users', { password: 'Publ1sh-later' });
    expect(response.status, response.text).to.equal(201);
    const user = response.body as { id: string; username: string };
    expect((await restRequest(gateway.app, { username: user.username, password: 'Publ1sh-later' }, 'GET', '/v2/server-time')).status, 'it logs in').to.equal(200);
    expect(await models.AuditEvent.exists({ targetId: user.id, type: 'ApiUserCreated' }), 'not published yet').to.equal(null);
    await auditTrail.recover();
    expect(await models.AuditEvent.countDocuments({ targetId: user.id, type: 'ApiUserCreated' })).to.equal(1);
  });

  /** Another gateway on the database, and a new user it has let in: where a change must be heard of. */
  const withUserKnownElsewhere = async (password: string, body: (other: TestGateway, user: { id: string }, credentials: { username: string; password: string }) => Promise<void>) => {
    const other = await startTestGateway({ databaseUri: gateway.databaseUri, env: { AUTH_STATE_TTL_MS: '200' } });
    try {
      const user = await create({ password });
      const credentials = { username: user.username, password };
      expect((await restRequest(other.app, credentials, 'GET', '/v2/server-time')).status, 'known there').to.equal(200);
      await body(other, user, credentials);
    } finally {
      await other.close();
    }
  };

  it('answers a disable whose events could not be published with the change made: another process refuses the user at once, and the events follow a second later', () =>
    withUserKnownElsewhere('Publ1sh-soon', async (other, user, credentials) => {
      const { models } = gateway.database;
      // The events' insert fails once (the change and its announcement are written).
      failsOnce(models.AuditEvent, 'insertMany');
      const disabled = await restRequest(gateway.app, owner, 'PUT', `/v2/api-users/${user.id}`, { enabled: false });
      expect(disabled.status, disabled.text).to.equal(200);
      expect((disabled.body as { enabled: boolean }).enabled).to.equal(false);
      expect(await models.AuditEvent.exists({ targetId: user.id, type: 'ApiUserDisabled' }), 'not published yet').to.equal(null);
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect((await restRequest(other.app, credentials, 'GET', '/v2/server-time')).status, 'refused within the TTL').to.equal(401);
      let published = null;
      for (let waited = 0; !published && waited < 5_000; waited += 100) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        published = await models.AuditEvent.exists({ targetId: user.id, type: 'ApiUserDisabled' });
      }
      expect(published, 'published by the retry, before the recovery (30 s)').to.not.equal(null);
    }));

  it('answers a disable whose announcement to the other processes failed with a 503: the change stands, and the same call again tells them', () =>
    withUserKnownElsewhere('T3ll-them-pw', async (other, user, credentials) => {
      const { models } = gateway.database;
      // The change row's insert fails once.
      failsOnce(models.AuthChange.collection, 'insertOne');
      const failed = await restRequest(gateway.app, owner, 'PUT', `/v2/api-users/${user.id}`, { enabled: false });
      expect(failed.status, failed.text).to.equal(503);
      expect((await models.ApiUser.findById(user.id).lean().exec())?.enabled, 'the change stands').to.equal(false);
      const again = await restRequest(gateway.app, owner, 'PUT', `/v2/api-users/${user.id}`, { enabled: false });
      expect(again.status, again.text).to.equal(200);
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect((await restRequest(other.app, credentials, 'GET', '/v2/server-time')).status, 'refused there within the TTL').to.equal(401);
    }));

  it('keeps every change and every event of concurrent management calls on one user (FerretDB rewrites a whole document per update)', async () => {
    const { models } = gateway.database;
    const user = await create({ password: 'C0ncurrent-edits' });
    const descriptions = Array.from({ length: 12 }, (_, index) => `edit ${index}`);
    const answers = await Promise.all([
      ...descriptions.map((description) => restRequest(gateway.app, owner, 'PUT', `/v2/api-users/${user.id}`, { description })),
      restRequest(gateway.app, owner, 'PUT', `/v2/api-users/${user.id}`, { enabled: false }),
      restRequest(gateway.app, owner, 'PUT', `/v2/api-users/${user.id}/password`, { password: 'C0ncurrent-reset' }),
    ]);
    expect(answers.map((answer) => answer.status)).to.deep.equal(answers.map(() => 200));
    const stored = await models.ApiUser.findById(user.id).lean();
    expect(stored?.enabled, 'the acknowledged disable').to.equal(false);
    expect(descriptions).to.include(stored?.description);
    expect(stored?.pendingAudit, 'every event published').to.deep.equal([]);
    const types = (await models.AuditEvent.find({ targetId: user.id }).lean()).map((event) => event.type);
    expect(types.filter((type) => type === 'ApiUserUpdated'), 'one event per update').to.have.length(12);
    expect(types.filter((type) => type === 'ApiUserDisabled')).to.have.length(1);
    expect(types.filter((type) => type === 'ApiUserPasswordReset')).to.have.length(1);
  });

  it('leaves no account behind whose owner could not be created, nor its event: nothing could ever manage it', async () => {
    const { models } = gateway.database;
    const { accounts, apiUsers } = gateway.gateway.services;
    failsOnce(apiUsers, 'create');
    const before = await accounts.count();
    const failed = await accounts.create({ name: 'Ownerless Ltd', mainEmail: 'o@example.com' }).then(
      () => 'created',
      (error: Error) => error.name,
    );
    expect(failed).to.equal('MongoNetworkTimeoutError');
    expect(await accounts.count(), 'no account without an owner').to.equal(before);
    expect(await models.AuditEvent.exists({ type: 'AccountCreated', details: 'name="Ownerless Ltd"' })).to.equal(null);
    // And the next try makes it whole.
    const { account, owner } = await accounts.create({ name: 'Ownerless Ltd', mainEmail: 'o@example.com' });
    expect(owner.isOwner).to.equal(true);
    expect(await models.AuditEvent.countDocuments({ type: 'AccountCreated', accountId: account._id })).to.equal(1);
  });
});

/**
 * Makes the next call of `target[method]` fail, as against a database that went away for that
 * one call (the database itself is not touched), and puts the method back as it does.
 */
function failsOnce<T extends object, K extends keyof T>(target: T, method: K): void {
  const original = target[method];
  target[method] = (async () => {
    target[method] = original;
    throw Object.assign(new Error('connection timed out'), { name: 'MongoNetworkTimeoutError' });
  }) as T[K];
}
