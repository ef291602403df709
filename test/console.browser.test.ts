// The Access page in a real browser: Debian's headless Chromium driven by playwright-core,
// against a gateway on a real port and a real database. One owner works through the page as a
// person would; what the page shows is checked against what the API then says.
import { expect } from 'chai';
import { mkdirSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { createOverRest as createUserOverRest, editDialog, isFocused, startConsoleBrowser, tabTo, userRow, usersOverRest, type ConsoleBrowser } from './support/consoleBrowser.js';
import type { TestAccount, TestGateway } from './support/gateway.js';
import { restRequest } from './support/rest.js';
import { withinOneClockHour } from './support/clockHour.js';

const ARTIFACTS = 'test-artifacts';

describe('the Access page in Chromium', function () {
  this.timeout(60_000);
  let session: ConsoleBrowser;
  let gateway: TestGateway;
  let owner: TestAccount;
  let page: Page;

  const userNamed = async (username: string) => (await usersOverRest(gateway, owner)).find((user) => user.username === username);
  const createOverRest = (description: string, extra: Record<string, unknown> = {}) => createUserOverRest(gateway, owner, description, extra);
  const row = (username: string) => userRow(page, username);
  const openPage = () => session.openPage();

  async function signIn(on: Page, username: string, password: string): Promise<void> {
    const form = on.locator('#sign-in-form');
    await form.getByLabel('Username').fill(username);
    await form.getByLabel('Password').fill(password);
    await form.getByRole('button', { name: 'Sign in' }).click();
  }

  before(async () => {
    session = await startConsoleBrowser('Northwind Traders');
    ({ gateway, owner } = session);
    page = await openPage();
  });

  after(() => session?.close());

  it('signs the owner in with the keyboard alone and lists the account', async () => {
    // The username field has the focus on arrival; Tab and Enter do the rest.
    await page.keyboard.type(owner.username);
    await page.keyboard.press('Tab');
    await page.keyboard.type(owner.password);
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'API users' }).waitFor();
    await row(owner.username).waitFor();
    expect(await row(owner.username).textContent()).to.contain('Owner');
    // The account is read after the list: waited for, not raced.
    await page.locator('#account-name', { hasText: /\S/ }).waitFor();
    expect(await page.locator('#account-name').textContent()).to.equal('Northwind Traders');
    expect(await page.locator('#account-endpoint').textContent()).to.equal(gateway.baseUrl);
    expect(await page.locator('#account-calls').textContent()).to.match(/^[\d,. ]+$/);
  });

  it('keeps the credentials in memory only: nothing stored, and a reload asks again', async () => {
    // Evaluated in the page (given as source: this test is type-checked without the DOM's types).
    const stored = await page.evaluate<number>('localStorage.length + sessionStorage.length + document.cookie.length');
    expect(stored).to.equal(0);
    expect(await page.context().cookies()).to.deep.equal([]);
    const again = await openPage();
    await again.getByRole('heading', { name: 'Sign in' }).waitFor();
    expect(await again.locator('#users-view').isHidden()).to.equal(true);
    // Submitted before its script runs (a quick Enter, a password manager), the form posts:
    // a password in a GET's query string would stay in the browser's history and in proxies' logs.
    expect(await again.locator('#sign-in-form').getAttribute('method')).to.equal('post');
    await again.context().close();
  });

  it('tells a wrong password and a user without the permission apart from success, in sentences', async () => {
    const other = await openPage();
    await signIn(other, owner.username, 'Not-the-passw0rd');
    await other.getByText('The username or password is wrong').waitFor();

    const plain = await createOverRest('Reporting tool');
    await signIn(other, plain.username, 'Integr4tion-pw');
    await other.getByRole('heading', { name: 'You need the Can manage account permission' }).waitFor();
    expect(await other.locator('#users-view').isHidden()).to.equal(true);
    await other.context().close();
  });

  it('shows each failing password rule while typing, then creates the user and shows its generated username', async () => {
    await page.getByRole('button', { name: 'New user' }).click();
    const dialog = page.getByRole('dialog', { name: 'New API user' });
    await dialog.getByLabel('Description').fill('Magento shop');
    const password = dialog.getByLabel('Password', { exact: true });
    await password.pressSequentially('short');
    await dialog.getByText('It must be at least 8 characters long.').waitFor();
    await dialog.getByText('It must contain at least one digit or non-alphanumeric character.').waitFor();
    await password.fill('');
    await password.pressSequentially('northwind traders 1');
    await dialog.getByText('It must not contain the company name.').waitFor();
    expect(await dialog.getByText('It must be at least 8 characters long.').count()).to.equal(0);
    expect(await password.getAttribute('aria-invalid')).to.equal('true');

    // Saving with a weak password is stopped here; the server would refuse it too.
    await dialog.getByRole('button', { name: 'Save' }).click();
    await dialog.getByText('Choose a password that meets every rule').waitFor();

    await password.fill('Sh0p-integration');
    await dialog.getByLabel('Confirm password').fill('Sh0p-integratio');
    await dialog.getByText('The two passwords are not the same.').waitFor();
    await dialog.getByLabel('Confirm password').fill('Sh0p-integration');
    await dialog.getByText('It meets the password policy.').waitFor();
    expect(await dialog.getByLabel('Enabled').isChecked(), 'Enabled ticked by default').to.equal(true);
    await dialog.getByRole('button', { name: 'Save' }).click();

    const created = page.getByRole('dialog', { name: 'API user created' });
    await created.waitFor();
    const username = await created.getByLabel('Username').inputValue();
    expect(username).to.match(/^apiuser-[0-9a-f]{12}@dualgate\.local$/);
    await created.getByRole('button', { name: 'Copy' }).waitFor();
    await created.getByRole('button', { name: 'Done' }).click();
    await row(username).waitFor();

    const stored = await userNamed(username);
    expect(stored).to.include({ description: 'Magento shop', enabled: true });
    const works = await restRequest(gateway.baseUrl, { username, password: 'Sh0p-integration' }, 'GET', '/v2/server-time');
    expect(works.status).to.equal(200);
  });

  it('edits a description, and disables and re-enables a user', async () => {
    const user = await createOverRest('CRM sync');
    await page.getByRole('button', { name: 'Refresh' }).click();
    await row(user.username).getByRole('button', { name: `Edit ${user.username}` }).click();
    const dialog = editDialog(page);
    await dialog.getByLabel('Description').fill('CRM sync (Salesforce)');
    await dialog.getByRole('button', { name: 'Save changes' }).click();
    await row(user.username).getByRole('cell', { name: 'CRM sync (Salesforce)' }).waitFor();
    expect((await userNamed(user.username))?.description).to.equal('CRM sync (Salesforce)');

    await row(user.username).getByRole('button', { name: `Edit ${user.username}` }).click();
    await dialog.getByLabel('Enabled').uncheck();
    await dialog.getByRole('button', { name: 'Save changes' }).click();
    await row(user.username).getByRole('cell', { name: 'Disabled', exact: true }).waitFor();
    expect((await userNamed(user.username))?.enabled).to.equal(false);

    await row(user.username).getByRole('button', { name: `Edit ${user.username}` }).click();
    await dialog.getByLabel('Enabled').check();
    await dialog.getByRole('button', { name: 'Save changes' }).click();
    await row(user.username).getByRole('cell', { name: 'Enabled', exact: true }).waitFor();
    expect((await userNamed(user.username))?.enabled).to.equal(true);
  });

  it('signs out a manager who disabled itself, saying why, rather than staying signed in on a refused refresh', async () => {
    const manager = await createOverRest('Ops manager', { canManageAccount: true });
    const other = await openPage();
    await signIn(other, manager.username, 'Integr4tion-pw');
    await userRow(other, manager.username).getByRole('button', { name: `Edit ${manager.username}` }).click();
    const dialog = editDialog(other);
    await dialog.getByLabel('Enabled').uncheck();
    await dialog.getByRole('button', { name: 'Save changes' }).click();
    await other.locator('#sign-in-error', { hasText: 'Your sign-in stopped working' }).waitFor();
    await other.locator('#sign-in-form').getByLabel('Username').waitFor();
    expect((await userNamed(manager.username))?.enabled).to.equal(false);
    await other.context().close();
  });

  it('shows a user locked by five wrong passwords after a refresh, and unlocks it by a password reset', async () => {
    const user = await createOverRest('Legacy ERP');
    for (let i = 0; i < 5; i++) {
      expect((await restRequest(gateway.baseUrl, { username: user.username, password: 'Wr0ng-guess' }, 'GET', '/v2/server-time')).status).to.equal(401);
    }
    await page.getByRole('button', { name: 'Refresh' }).click();
    await row(user.username).getByText('Locked: too many wrong passwords').waitFor();

    await row(user.username).getByRole('button', { name: `Edit ${user.username}` }).click();
    const dialog = editDialog(page);
    await dialog.getByText('Resetting the password also unlocks the user.').waitFor();
    await dialog.getByLabel('New password', { exact: true }).fill('Fr3sh-start-pw');
    await dialog.getByLabel('Confirm new password').fill('Fr3sh-start-pw');
    await dialog.getByRole('button', { name: 'Reset password' }).click();
    await page.getByText(`Reset the password of ${user.username} and unlocked it.`).waitFor();
    await row(user.username).getByRole('cell', { name: 'Enabled', exact: true }).waitFor();
    const works = await restRequest(gateway.baseUrl, { username: user.username, password: 'Fr3sh-start-pw' }, 'GET', '/v2/server-time');
    expect(works.status).to.equal(200);
  });

  it("protects the owner's row: it cannot be ticked, disabled or lose the permission, and says why", async () => {
    const ownerRow = row(owner.username);
    expect(await ownerRow.getByRole('checkbox').isDisabled()).to.equal(true);
    await ownerRow.getByRole('button', { name: `Edit ${owner.username}` }).click();
    const dialog = editDialog(page);
    expect(await dialog.getByLabel('Enabled').isDisabled()).to.equal(true);
    expect(await dialog.getByLabel('Can manage account').isDisabled()).to.equal(true);
    await dialog.getByText('This is the account owner: it cannot be disabled, deleted').waitFor();
    await dialog.getByRole('button', { name: 'Cancel' }).click();
  });

  it('deletes two users ticked in the list, after a confirmation naming how many', async () => {
    const [first, second] = [await createOverRest('Old shop'), await createOverRest('Old CRM')];
    await page.getByRole('button', { name: 'Refresh' }).click();
    await row(first.username).getByRole('checkbox').check();
    await row(second.username).getByRole('checkbox').check();
    await page.getByRole('button', { name: 'Delete selected (2)' }).click();
    const dialog = page.getByRole('dialog', { name: 'Delete API users' });
    const text = await dialog.locator('#delete-text').textContent();
    expect(text).to.contain('Delete 2 API users?').and.to.contain('Integrations using them will stop working');
    await dialog.getByRole('button', { name: 'Delete' }).click();
    await page.getByText('Deleted 2 API users.').waitFor();
    // The notice comes at once; the list follows when it has been read again.
    await row(first.username).waitFor({ state: 'detached' });
    await row(second.username).waitFor({ state: 'detached' });
    for (const user of [first, second]) {
      expect((await restRequest(gateway.baseUrl, owner, 'GET', `/v2/api-users/${user.id}`)).status).to.equal(404);
    }
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: `${ARTIFACTS}/console-api-users.png`, fullPage: true });
  });

  it('keeps the keyboard focus on its control when the list is redrawn: after a tick, after a refresh', async () => {
    const user = await createOverRest('Focus keeper');
    await page.getByRole('button', { name: 'Refresh' }).click();
    await row(user.username).waitFor();
    const tick = row(user.username).getByRole('checkbox');
    const edit = row(user.username).getByRole('button', { name: `Edit ${user.username}` });

    // A tick by keyboard redraws the rows (the selection): the focus stays on the tick.
    await tabTo(page, `#users-body tr[data-user-id="${user.id}"] input[type="checkbox"]`, { most: 80 });
    await page.keyboard.press('Space');
    expect(await tick.isChecked()).to.equal(true);
    expect(await isFocused(tick), 'on the tick after ticking').to.equal(true);

    // A refresh that lands while the focus is on the row's Edit button (asked for without moving
    // the focus, as one after another change would): the focus is on the new row's button, and
    // Enter opens it.
    await tabTo(page, `#users-body tr[data-user-id="${user.id}"] button`);
    const changed = await restRequest(gateway.baseUrl, owner, 'PUT', `/v2/api-users/${user.id}`, { description: 'Focus kept' });
    expect(changed.status).to.equal(200);
    await page.evaluate("document.getElementById('refresh').click()");
    await row(user.username).getByRole('cell', { name: 'Focus kept' }).waitFor();
    expect(await isFocused(edit), 'on the Edit button after the refresh').to.equal(true);
    await page.keyboard.press('Enter');
    await editDialog(page).waitFor();
    await page.keyboard.press('Escape');
    await editDialog(page).waitFor({ state: 'hidden' });
    await tick.uncheck();
  });

  describe('once the hourly quota is spent', () => {
    const quotaSentence = /^The account has used all its API calls for this hour\. Try again in (a minute|\d+ minutes) \(at .+\)\.$/;

    // Sign-in and refusal within one quota window, the refusal more than a minute before its end.
    beforeEach(async function () {
      await withinOneClockHour(this, 120_000);
    });

    it('says when to retry, above the list, when a refresh is refused', async () => {
      const small = await gateway.createAccount({ name: 'Tiny Co', callsPerHour: 2 });
      const other = await openPage();
      await signIn(other, small.username, small.password); // two calls: the list and the account
      // The account is read after the list is shown: wait for it, or the refresh could take its call.
      await other.locator('#account-name', { hasText: 'Tiny Co' }).waitFor();
      await other.getByRole('button', { name: 'Refresh' }).click();
      await other.locator('#users-error', { hasText: quotaSentence }).waitFor();
      expect(await other.locator('#sign-in-error').textContent()).to.equal('');
      await other.context().close();
    });

    it('says so above the list when the sign-in had only the call for the list', async () => {
      const smaller = await gateway.createAccount({ name: 'Tinier Co', callsPerHour: 1 });
      const other = await openPage();
      await signIn(other, smaller.username, smaller.password);
      await other.getByRole('heading', { name: 'API users' }).waitFor();
      // The account's read is refused after the sign-in form is hidden: the refusal shows where the user is.
      await other.locator('#users-error', { hasText: quotaSentence }).waitFor();
      expect(await other.locator('#sign-in-error').textContent()).to.equal('');
      await other.context().close();
    });
  });

  it('labels every control, loads nothing from elsewhere and throws no error', async () => {
    // Every control has a <label>, an aria-label or a text of its own (evaluated in the page).
    const unlabelled = await page.evaluate<string[]>(`
      [...document.querySelectorAll('input, button, select, textarea')]
        .filter((control) => !(control.labels && control.labels.length > 0) && !control.getAttribute('aria-label') && !(control.textContent || '').trim())
        .map((control) => control.outerHTML)`);
    expect(unlabelled).to.deep.equal([]);
    expect(session.foreignRequests).to.deep.equal([]);
    expect(session.pageErrors).to.deep.equal([]);
    const response = await fetch(`${gateway.baseUrl}/console/`);
    expect(response.headers.get('content-security-policy')).to.contain("script-src 'self'");
  });

  it('serves the page and its compiled scripts, and nothing else of the disk', async () => {
    const bare = await fetch(`${gateway.baseUrl}/console`, { redirect: 'manual' });
    expect([bare.status, bare.headers.get('location')]).to.deep.equal([301, '/console/']);
    const script = await fetch(`${gateway.baseUrl}/console/js/console/src/main.js`);
    expect(script.status).to.equal(200);
    expect(script.headers.get('content-type')).to.match(/javascript/);
    for (const path of ['/console/js/%2e%2e/%2e%2e/package.json', '/console/%2e%2e/package.json', '/console/js/console/src/main.ts', '/console/.env']) {
      const response = await fetch(`${gateway.baseUrl}${path}`);
      expect(response.status, path).to.be.oneOf([403, 404]);
      expect(await response.text(), path).not.to.contain('"dependencies"');
    }
  });
});
