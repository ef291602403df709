// Password rotation on the Access page in Chromium: the reset form's "keep the old password
// working for … hours", used with the keyboard alone, sent as keepPreviousForHours; the list
// showing until when the old password works; checked against what the API says and lets in.
import { expect } from 'chai';
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
import { HOUR_MS } from '../src/domain/clockHours.js';

describe('the Access page password rotation in Chromium', function () {
  this.timeout(60_000);
  let session: ConsoleBrowser;
  let page: Page;
  let user: ConsoleUser;

  const serverTimeAs = async (password: string) =>
    (await restRequest(session.gateway.baseUrl, { username: user.username, password }, 'GET', '/v2/server-time')).status;
  const editDialog = () => editDialogOf(page);
  const openEditByKeyboard = () => openEditOf(page, user);

  /** Types the new password twice and lands on the hours field, by Tab alone. */
  async function typeNewPassword(password: string): Promise<void> {
    await tabTo(page, '#reset-password');
    await page.keyboard.type(password);
    await page.keyboard.press('Tab');
    await page.keyboard.type(password);
    await page.keyboard.press('Tab');
    expect(await isFocused(editDialog().getByLabel('Keep the old password working for (hours)'))).to.equal(true);
  }

  before(async () => {
    session = await startConsoleBrowser('Tailspin Toys');
    user = await createOverRest(session.gateway, session.owner, 'Fleet of shop servers');
    page = await session.openPage();
    await signInByKeyboard(page, session.owner.username, session.owner.password);
  });

  after(() => session?.close());

  it('keeps the old password working for the hours typed, with the keyboard alone, and the list says until when', async () => {
    await openEditByKeyboard();
    const hours = editDialog().getByLabel('Keep the old password working for (hours)');
    expect(await hours.inputValue(), 'the default').to.equal('0');
    expect(await hours.getAttribute('aria-describedby')).to.equal('reset-keep-hint reset-keep-error');
    await editDialog().getByText('0 to 168 (a week). Both passwords work meanwhile').waitFor();

    await typeNewPassword('R0tated-secret-1');
    await page.keyboard.press('Control+A');
    await page.keyboard.type('200');
    await editDialog().getByText('Enter a whole number of hours from 0 to 168.').waitFor();
    expect(await hours.getAttribute('aria-invalid')).to.equal('true');
    await page.keyboard.press('Enter'); // submits the reset form: stopped here, the field named
    await editDialog().getByText('Say for how many hours the old password keeps working: 0 to 168.').waitFor();
    expect(await isFocused(hours)).to.equal(true);
    expect(await serverTimeAs('R0tated-secret-1'), 'nothing was sent').to.equal(401);

    await page.keyboard.press('Control+A');
    await page.keyboard.type('24');
    expect(await hours.getAttribute('aria-invalid')).to.equal('false');
    await tabTo(page, '#reset-form button[type="submit"]');
    await page.keyboard.press('Enter');
    const sentAt = Date.now();
    await page.getByText(new RegExp(`^Reset the password of ${user.username.replace(/[.]/g, '\\.')}; the old one works until .+\\.$`)).waitFor();

    // The API: a grace of 24 hours, both passwords let in.
    const stored = await userOverRest(session.gateway, session.owner, user.id);
    expect(Date.parse(stored.previousPasswordExpires ?? '')).to.be.closeTo(sentAt + 24 * HOUR_MS, 60_000);
    expect(await serverTimeAs('Integr4tion-pw'), 'the old password').to.equal(200);
    expect(await serverTimeAs('R0tated-secret-1'), 'the new password').to.equal(200);

    // The list says it, with the API's time in the <time> element.
    const note = userRow(page, user.username).getByText('Old password works until');
    await note.waitFor();
    expect(await note.locator('time').getAttribute('datetime')).to.equal(stored.previousPasswordExpires);
  });

  it('says in the edit form that a grace is running, and another reset without one ends it', async () => {
    await openEditByKeyboard();
    await editDialog().getByText('Old password works until').waitFor();
    await editDialog().getByText('Another reset ends it at once.').waitFor();
    await typeNewPassword('R0tated-secret-2');
    // Hours left at 0, the default: the replaced password stops at once.
    await tabTo(page, '#reset-form button[type="submit"]');
    await page.keyboard.press('Enter');
    await page.getByText(`Reset the password of ${user.username}.`, { exact: true }).waitFor();
    await userRow(page, user.username).getByText('Old password works until').waitFor({ state: 'detached' });
    expect((await userOverRest(session.gateway, session.owner, user.id)).previousPasswordExpires).to.equal(null);
    expect(await serverTimeAs('R0tated-secret-2')).to.equal(200);
    expect(await serverTimeAs('R0tated-secret-1'), 'the password just replaced').to.equal(401);
    expect(await serverTimeAs('Integr4tion-pw'), 'the one before').to.equal(401);
  });

  it('labels every control, loads nothing from elsewhere and throws no error', async () => {
    expect(await unlabelledControls(page)).to.deep.equal([]);
    expect(session.foreignRequests).to.deep.equal([]);
    expect(session.pageErrors).to.deep.equal([]);
  });
});
