// The IP allowlist on the Access page in Chromium: typed one entry a line on the create and
// edit forms, each bad line named as it is typed, the list sent as `ipAllowlist`, the users
// list saying where each user may call from, and a refusal by the gateway shown; checked
// against what the API then says and does.
import { expect } from 'chai';
import { mkdirSync } from 'node:fs';
import type { Page } from 'playwright-core';
import {
  createOverRest,
  editDialog as editDialogOf,
  isFocused,
  openEditByKeyboard as openEditOf,
  signInByKeyboard,
  startConsoleBrowser,
  tabTo,
  unlabelledControls,
  userOverRest,
  userRow,
  type ConsoleBrowser,
  type ConsoleUser,
} from './support/consoleBrowser.js';
import { restRequest } from './support/rest.js';

describe('the Access page IP allowlist in Chromium', function () {
  this.timeout(60_000);
  let session: ConsoleBrowser;
  let page: Page;

  const serverTimeAs = async (user: ConsoleUser, password = 'Integr4tion-pw') =>
    (await restRequest(session.gateway.baseUrl, { username: user.username, password }, 'GET', '/v2/server-time')).status;
  const editDialog = () => editDialogOf(page);
  const openEditByKeyboard = (user: ConsoleUser) => openEditOf(page, user);

  before(async () => {
    session = await startConsoleBrowser('Fabrikam');
    page = await session.openPage();
    await signInByKeyboard(page, session.owner.username, session.owner.password);
  });

  after(() => session?.close());

  it('names each bad line while typing on the create form, then creates the user with the list', async () => {
    await page.getByRole('button', { name: 'New user' }).click();
    const dialog = page.getByRole('dialog', { name: 'New API user' });
    await dialog.getByLabel('Description').fill('Warehouse scanner');
    await dialog.getByLabel('Password', { exact: true }).fill('Sc4nner-secret');
    await dialog.getByLabel('Confirm password').fill('Sc4nner-secret');
    const allowlist = dialog.getByLabel('IP allowlist');
    expect(await allowlist.getAttribute('aria-describedby')).to.equal('create-allowlist-hint create-allowlist-problems');
    await dialog.getByText('one IPv4 or IPv6 address or CIDR range a line').waitFor();
    await allowlist.pressSequentially('203.0.113.7\n\n10.0.0.300\n2001:db8::/129');
    await dialog.getByText('Line 3: 10.0.0.300 is not an IPv4 or IPv6 address or CIDR range.').waitFor();
    await dialog.getByText('Line 4: 2001:db8::/129 is not an IPv4 or IPv6 address or CIDR range (an IPv6 range ends in /0 to /128).').waitFor();
    expect(await allowlist.getAttribute('aria-invalid')).to.equal('true');
    await dialog.getByRole('button', { name: 'Save' }).click();
    await dialog.getByText('Correct the IP allowlist').waitFor();

    await allowlist.fill('203.0.113.7\n\n  2001:db8::/32  \n203.0.113.7\n');
    expect(await dialog.locator('#create-allowlist-problems li').count()).to.equal(0);
    expect(await allowlist.getAttribute('aria-invalid')).to.equal('false');
    await dialog.getByRole('button', { name: 'Save' }).click();
    const created = page.getByRole('dialog', { name: 'API user created' });
    await created.waitFor();
    const username = await created.getByLabel('Username').inputValue();
    await created.getByRole('button', { name: 'Done' }).click();

    // Sent trimmed, without the empty line and the repeat; the list says it in short.
    const row = userRow(page, username);
    await row.getByRole('cell', { name: '1 address, 1 range' }).waitFor();
    const users = (await restRequest(session.gateway.baseUrl, session.owner, 'GET', '/v2/api-users')).body as ConsoleUser[];
    const stored = users.find((user) => user.username === username)!;
    expect(stored.ipAllowlist).to.deep.equal(['203.0.113.7', '2001:db8::/32']);
    expect(await row.getByRole('cell', { name: '1 address, 1 range' }).getAttribute('title')).to.equal('203.0.113.7\n2001:db8::/32');
    // The owner's row: no list, any address.
    await userRow(page, session.owner.username).getByRole('cell', { name: 'Any address' }).waitFor();
  });

  it('edits the allowlist with the keyboard alone, and the gateway then admits and refuses by it', async () => {
    const user = await createOverRest(session.gateway, session.owner, 'Billing export');
    await openEditByKeyboard(user);
    expect(await isFocused(editDialog().getByLabel('Description'))).to.equal(true);
    await tabTo(page, '#edit-allowlist');
    await page.keyboard.type('127.0.0.1');
    await page.keyboard.press('Enter'); // a new line in the textarea, not a submit
    await page.keyboard.type('10.0.0.0/33');
    await editDialog().getByText('Line 2: 10.0.0.0/33 is not an IPv4 or IPv6 address or CIDR range (an IPv4 range ends in /0 to /32).').waitFor();
    await page.keyboard.press('Backspace');
    await page.keyboard.press('Backspace');
    await page.keyboard.type('8');
    await editDialog().locator('#edit-allowlist-problems li').waitFor({ state: 'detached' });
    await tabTo(page, '#edit-form button[type="submit"]');
    await page.keyboard.press('Enter');
    await page.getByText(`Saved the changes to ${user.username}.`).waitFor();
    await userRow(page, user.username).getByRole('cell', { name: '1 address, 1 range' }).waitFor();
    expect((await userOverRest(session.gateway, session.owner, user.id)).ipAllowlist).to.deep.equal(['127.0.0.1', '10.0.0.0/8']);
    expect(await serverTimeAs(user), 'admitted from 127.0.0.1').to.equal(200);

    // Another address only: this machine is refused, with the right password.
    await openEditByKeyboard(user);
    await tabTo(page, '#edit-allowlist');
    await page.keyboard.press('Control+A');
    await page.keyboard.type('203.0.113.9');
    await tabTo(page, '#edit-form button[type="submit"]');
    await page.keyboard.press('Enter');
    await userRow(page, user.username).getByRole('cell', { name: '1 address', exact: true }).waitFor();
    expect((await userOverRest(session.gateway, session.owner, user.id)).ipAllowlist).to.deep.equal(['203.0.113.9']);
    expect(await serverTimeAs(user), 'refused from 127.0.0.1').to.equal(401);

    // Emptied: any address again.
    await openEditByKeyboard(user);
    await tabTo(page, '#edit-allowlist');
    await page.keyboard.press('Control+A');
    await page.keyboard.press('Delete');
    await tabTo(page, '#edit-form button[type="submit"]');
    await page.keyboard.press('Enter');
    await userRow(page, user.username).getByRole('cell', { name: 'Any address' }).waitFor();
    expect((await userOverRest(session.gateway, session.owner, user.id)).ipAllowlist).to.deep.equal([]);
    expect(await serverTimeAs(user)).to.equal(200);
  });

  it('counts at most 50 entries, repeats once', async () => {
    const user = await createOverRest(session.gateway, session.owner, 'Many branches');
    await openEditByKeyboard(user);
    const allowlist = editDialog().getByLabel('IP allowlist');
    const fifty = Array.from({ length: 50 }, (_, i) => `198.51.100.${i + 1}`);
    await allowlist.fill([...fifty, '198.51.100.1'].join('\n'));
    expect(await editDialog().locator('#edit-allowlist-problems li').count(), 'a repeat is not an entry more').to.equal(0);
    await allowlist.fill([...fifty, '198.51.100.51'].join('\n'));
    await editDialog().getByText('It holds 51 entries; at most 50 are allowed.').waitFor();
    await allowlist.fill(fifty.join('\n'));
    await editDialog().getByRole('button', { name: 'Save changes' }).click();
    await userRow(page, user.username).getByRole('cell', { name: '50 addresses' }).waitFor();
    expect((await userOverRest(session.gateway, session.owner, user.id)).ipAllowlist).to.deep.equal(fifty);
  });

  it("shows the gateway's refusal of an entry, naming it, and keeps the form open", async () => {
    const user = await createOverRest(session.gateway, session.owner, 'Refused entry');
    await openEditByKeyboard(user);
    await editDialog().getByLabel('IP allowlist').fill('192.0.2.1');
    // The page checks as the gateway does, so only a request altered on its way can carry a
    // bad entry: the gateway's own answer to it is what the page must show.
    await page.route('**/v2/api-users/*', async (route) => {
      const body = JSON.parse(route.request().postData() ?? '{}') as Record<string, unknown>;
      await route.continue({ postData: JSON.stringify({ ...body, ipAllowlist: ['192.0.2.1', '192.0.2.300'] }) });
    });
    try {
      await editDialog().getByRole('button', { name: 'Save changes' }).click();
      const alert = editDialog().getByRole('alert');
      await alert.getByText('192.0.2.300').waitFor();
      expect(await alert.textContent()).to.match(/not an IPv4 or IPv6 address or CIDR range/).and.not.to.contain('ERROR_');
      const allowlist = editDialog().getByLabel('IP allowlist');
      expect(await allowlist.getAttribute('aria-invalid')).to.equal('true');
      expect(await isFocused(allowlist)).to.equal(true);
      mkdirSync('test-artifacts', { recursive: true });
      await page.screenshot({ path: 'test-artifacts/console-allowlist-refused.png', fullPage: true });
    } finally {
      await page.unroute('**/v2/api-users/*');
    }
    expect(await editDialog().isVisible()).to.equal(true);
    expect((await userOverRest(session.gateway, session.owner, user.id)).ipAllowlist).to.deep.equal([]);
    await editDialog().getByRole('button', { name: 'Cancel' }).click();
  });

  it('labels every control, loads nothing from elsewhere and throws no error', async () => {
    expect(await unlabelledControls(page)).to.deep.equal([]);
    expect(session.foreignRequests).to.deep.equal([]);
    expect(session.pageErrors).to.deep.equal([]);
  });
});
