// The Access page's Audit log view in Chromium: reached and used with the keyboard alone,
// every event of the account shown in words, page by page and for one user, and checked
// against what GET /v2/audit-events says.
import { expect } from 'chai';
import { mkdirSync } from 'node:fs';
import type { Page } from 'playwright-core';
import {
  createOverRest,
  isFocused,
  signInByKeyboard,
  startConsoleBrowser,
  tabTo,
  unlabelledControls,
  type ConsoleAuditEvent,
  type ConsoleBrowser,
  type ConsoleUser,
} from './support/consoleBrowser.js';
import { REFUSED_ADDRESSES_LOGGED } from '../src/domain/auditTrail.js';
import { restRequest } from './support/rest.js';

const PAGE_SIZE = 25;

describe('the Access page audit log in Chromium', function () {
  this.timeout(90_000);
  let session: ConsoleBrowser;
  let page: Page;
  let shop: ConsoleUser;
  let erp: ConsoleUser;

  const rest = (method: string, path: string, body?: unknown) => restRequest(session.gateway.baseUrl, session.owner, method, path, body);
  const eventsOverRest = async (query: string) => (await rest('GET', `/v2/audit-events${query}`)).body as ConsoleAuditEvent[];
  const shownIds = () => page.locator('#audit-body tr').evaluateAll((rows: Array<{ dataset: Record<string, string> }>) => rows.map((row) => row.dataset.eventId));
  const rowOf = (event: ConsoleAuditEvent) => page.locator(`#audit-body tr[data-event-id="${event.id}"]`);

  /** The sentence the page is to show for an event, from what the API says of it. */
  function expectedSentence(event: ConsoleAuditEvent): string | RegExp {
    const remark = event.details ? ` (${event.details})` : '';
    const who = event.actorUsername === '(command line)' ? 'The command line' : (event.actorUsername ?? 'The gateway');
    const whom = event.targetUsername ?? '';
    switch (event.type) {
      case 'AccountCreated':
        return `${who} created the account${remark}.`;
      case 'ApiUserCreated':
        return `${who} created ${whom}${remark}.`;
      case 'ApiUserUpdated':
        return `${who} changed ${whom}: ${event.details}.`;
      case 'ApiUserDisabled':
        return `${who} disabled ${whom}${remark}.`;
      case 'ApiUserEnabled':
        return `${who} enabled ${whom}${remark}.`;
      case 'ApiUserPasswordReset':
        // A reset with a grace says until when, in local time (its <time> is checked apart).
        if (event.details?.includes('keeps working until')) return new RegExp(`^${escaped(`${who} reset the password of ${whom} (the old one keeps working until `)}.*\\d.*\\)\\.$`);
        return `${who} reset the password of ${whom}${remark}.`;
      case 'ApiUserUnlocked':
        expect(event.details).to.equal('was locked: FailedLogins');
        return `${who} unlocked ${whom} (it was locked by too many wrong passwords).`;
      case 'ApiUserRefusedByAllowlist':
        return `${whom} was refused from ${event.clientIp} (not in its IP allowlist).`;
      case 'ApiUserDeleted':
        return `${who} deleted ${whom}${remark}.`;
      case 'ApiUserLocked':
        return `${whom} was locked after 5 wrong passwords.`;
      case 'ApiUserFrobbedTwice': // made up by a test below: a kind the page does not know
        return `${who}: api user frobbed twice of ${whom}${remark}.`;
      default:
        throw new Error(`no expectation for ${event.type}`);
    }
  }

  const escaped = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

  /** Every row shown against the API's page: order, sentence, address and time. */
  async function expectPageShows(events: readonly ConsoleAuditEvent[]): Promise<void> {
    expect(await shownIds()).to.deep.equal(events.map((event) => event.id));
    for (const event of events) {
      const cells = rowOf(event).locator('td');
      const sentence = expectedSentence(event);
      const shown = (await cells.nth(1).textContent())?.trim() ?? '';
      if (typeof sentence === 'string') expect(shown, event.type).to.equal(sentence);
      else expect(shown, event.type).to.match(sentence);
      const until = /until (\S+)$/.exec(event.details ?? '')?.[1];
      if (until) expect(await cells.nth(1).locator('time').getAttribute('datetime')).to.equal(until);
      expect(await cells.nth(2).textContent(), event.type).to.equal(event.clientIp ?? 'Not recorded');
      const time = cells.nth(0).locator('time');
      expect(await time.getAttribute('datetime')).to.equal(event.time);
      expect(await time.getAttribute('title')).to.equal(event.time);
      expect(await time.textContent()).to.match(/\d/);
    }
  }

  before(async () => {
    session = await startConsoleBrowser('Contoso Audit');
    const { gateway, owner } = session;
    // A history: a user created, changed (with markup in its description), switched off and
    // on, reset; one locked by wrong passwords; one deleted; then enough changes for two pages.
    shop = await createOverRest(gateway, owner, 'Magento shop');
    await rest('PUT', `/v2/api-users/${shop.id}`, { description: 'Magento <b>shop</b> "EU"' });
    await rest('PUT', `/v2/api-users/${shop.id}`, { enabled: false });
    await rest('PUT', `/v2/api-users/${shop.id}`, { enabled: true });
    await rest('PUT', `/v2/api-users/${shop.id}/password`, { password: 'N3w-shop-secret' });
    erp = await createOverRest(gateway, owner, 'Legacy ERP');
    for (let i = 0; i < 5; i++) await restRequest(gateway.baseUrl, { username: erp.username, password: 'Wr0ng-guess' }, 'GET', '/v2/server-time');
    // A reset that unlocks and keeps the old password for a day; a refusal by an allowlist.
    await rest('PUT', `/v2/api-users/${erp.id}/password`, { password: 'Integr4tion-pw2', keepPreviousForHours: 24 });
    await rest('PUT', `/v2/api-users/${shop.id}`, { ipAllowlist: ['203.0.113.0/24'] });
    const refused = await restRequest(gateway.baseUrl, { username: shop.username, password: 'N3w-shop-secret' }, 'GET', '/v2/server-time');
    expect(refused.status).to.equal(401);
    const gone = await createOverRest(gateway, owner, 'Old CRM');
    await rest('DELETE', `/v2/api-users/${gone.id}`);
    for (let i = 1; i <= 20; i++) await rest('PUT', `/v2/api-users/${erp.id}`, { description: `Legacy ERP, take ${i}` });
    page = await session.openPage();
    await signInByKeyboard(page, owner.username, owner.password);
  });

  after(() => session?.close());

  it('is reached with the keyboard alone: a link marked current, the focus on its heading', async () => {
    const usersLink = page.getByRole('navigation', { name: 'Access' }).getByRole('link', { name: 'API users' });
    const auditLink = page.getByRole('navigation', { name: 'Access' }).getByRole('link', { name: 'Audit log' });
    expect(await usersLink.getAttribute('aria-current')).to.equal('page');
    // The focus is on the list's heading after signing in; the views' links are just before it.
    expect(await isFocused(page.getByRole('heading', { name: 'API users' }))).to.equal(true);
    await tabTo(page, '#nav-audit', { backwards: true });
    await page.keyboard.press('Enter');
    const heading = page.getByRole('heading', { name: 'Audit log', level: 1 });
    await heading.waitFor();
    expect(await isFocused(heading)).to.equal(true);
    expect(await auditLink.getAttribute('aria-current')).to.equal('page');
    expect(await usersLink.getAttribute('aria-current')).to.equal(null);
    expect(await page.locator('#users-view').isHidden()).to.equal(true);
    expect(await page.title()).to.equal('Access · Audit log · dualgate');
  });

  it('shows the newest events in words: who, what, whom, from where and when, as the API lists them', async () => {
    await page.getByText(`Events 1 to ${PAGE_SIZE}, newest first.`).waitFor();
    await expectPageShows(await eventsOverRest(`?select=${PAGE_SIZE}&skip=0`));
    expect(await page.getByRole('button', { name: 'Newer events' }).isDisabled()).to.equal(true);
  });

  it('pages to older and back to newer events with the keyboard', async () => {
    await tabTo(page, '#audit-older');
    await page.keyboard.press('Enter');
    const all = await eventsOverRest('?select=1000');
    const older = all.slice(PAGE_SIZE, 2 * PAGE_SIZE);
    await page.getByText(`Events ${PAGE_SIZE + 1} to ${PAGE_SIZE + older.length}, newest first.`).waitFor();
    await expectPageShows(older);
    // Markup in a description is text, never markup.
    const marked = older.find((event) => event.type === 'ApiUserUpdated' && event.details?.includes('<b>shop</b>'));
    expect(marked, 'the change with markup is on this page').to.not.equal(undefined);
    expect(await rowOf(marked!).textContent()).to.contain('Magento <b>shop</b>');
    expect(await page.locator('#audit-body b').count()).to.equal(0);
    // The last page: Older is disabled, and the focus is kept on the pager, on Newer.
    expect(await page.getByRole('button', { name: 'Older events' }).isDisabled()).to.equal(true);
    expect(await isFocused(page.getByRole('button', { name: 'Newer events' }))).to.equal(true);
    // The account's beginning is there, from the command line.
    expect(older.at(-1)?.type).to.equal('AccountCreated');
    await page.keyboard.press('Enter');
    await page.getByText(`Events 1 to ${PAGE_SIZE}, newest first.`).waitFor();
    expect(await shownIds()).to.deep.equal(all.slice(0, PAGE_SIZE).map((event) => event.id));
  });

  it('says sensibly what an event of a kind it does not know is', async () => {
    const { models } = session.gateway.database;
    await models.AuditEvent.insertMany([
      {
        _id: `test-frobbed-${Date.now()}`,
        accountId: session.owner.accountId,
        at: new Date(),
        type: 'ApiUserFrobbedTwice',
        actorId: null,
        actorUsername: null,
        clientIp: null,
        details: 'a <i>detail</i>',
        targetId: erp.id,
        targetUsername: erp.username,
      },
    ]);
    await page.getByRole('button', { name: 'Refresh' }).click();
    const [event] = await eventsOverRest('?select=1');
    expect(event?.type).to.equal('ApiUserFrobbedTwice');
    await rowOf(event!).waitFor();
    expect(await rowOf(event!).locator('td').nth(1).textContent()).to.equal(`The gateway: api user frobbed twice of ${erp.username} (a <i>detail</i>).`);
    expect(await rowOf(event!).locator('td').nth(2).textContent()).to.equal('Not recorded');
  });

  it('shows the events by or about one user, chosen with the keyboard, as the API filters them', async () => {
    await tabTo(page, '#audit-user', { backwards: true });
    const filter = page.getByLabel('Show events of');
    for (let presses = 0; presses < 10 && !(await filter.locator('option:checked').textContent())?.startsWith(erp.username); presses++) {
      await page.keyboard.press('ArrowDown');
    }
    expect(await filter.inputValue()).to.equal(erp.id);
    const about = await eventsOverRest(`?select=${PAGE_SIZE}&skip=0&apiUserId=${erp.id}`);
    await page.getByText(`Events 1 to ${about.length} about ${erp.username}`).waitFor();
    expect(about.every((event) => event.targetId === erp.id || event.actorId === erp.id)).to.equal(true);
    await expectPageShows(about);
    // Its grace, its unlock and its lock are among them; the other users' events are not.
    const types = about.map((event) => event.type);
    expect(types).to.include.members(['ApiUserPasswordReset', 'ApiUserUnlocked', 'ApiUserLocked']);
    expect(await page.locator('#audit-body').textContent()).not.to.contain(shop.username);

    // Back to everyone: the newest page again.
    while ((await filter.inputValue()) !== '') await page.keyboard.press('ArrowUp');
    await page.getByText(`Events 1 to ${PAGE_SIZE}, newest first.`).waitFor();
  });

  it('says which user an allowlist refused, and from where', async () => {
    const [refusal] = (await eventsOverRest('?select=1000')).filter((event) => event.type === 'ApiUserRefusedByAllowlist');
    expect(refusal).to.include({ targetId: shop.id });
    await page.getByLabel('Show events of').selectOption(shop.id);
    await rowOf(refusal!).waitFor();
    await page.getByText(`${shop.username} was refused from ${refusal!.clientIp} (not in its IP allowlist).`).waitFor();
  });

  it('says when an allowlist refused calls from more addresses than are logged one by one', async () => {
    // As the gateway writes them when calls come from many addresses (an IPv6 prefix) in one hour.
    const user = (await session.gateway.database.models.ApiUser.findById(shop.id).lean().exec())!;
    const at = new Date();
    for (let index = 1; index <= REFUSED_ADDRESSES_LOGGED + 1; index++) {
      await session.gateway.gateway.services.auditTrail.recordAllowlistRefusal(user, `2001:db8:99::${index.toString(16)}`, at);
    }
    await page.getByRole('button', { name: 'Refresh' }).click();
    await page.getByText(`${shop.username} was refused: calls from more than ${REFUSED_ADDRESSES_LOGGED} addresses this hour`).waitFor();
  });

  it('labels every control, loads nothing from elsewhere and throws no error', async () => {
    expect(await unlabelledControls(page)).to.deep.equal([]);
    expect(session.foreignRequests).to.deep.equal([]);
    expect(session.pageErrors).to.deep.equal([]);
    mkdirSync('test-artifacts', { recursive: true });
    await page.screenshot({ path: 'test-artifacts/console-audit-log.png', fullPage: true });
  });
});
