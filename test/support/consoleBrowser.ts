// The Access page in Debian's headless Chromium (playwright-core), against a gateway on a real
// port and a real database: what the browser tests of the page share. Every page opened
// records the requests it made anywhere but the gateway and the errors it threw, so that a
// test file can end by checking there were none.
import { chromium, type Browser, type Locator, type Page } from 'playwright-core';
import type { z } from 'zod';
import type { apiUser, auditEvent } from '../../src/operations/schemas.js';
import { startTestGateway, type TestAccount, type TestGateway } from './gateway.js';
import { restRequest } from './rest.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** An API user and an audit event as the API answers them: the contract's own shapes. */
export type ConsoleUser = z.output<typeof apiUser>;
export type ConsoleAuditEvent = z.output<typeof auditEvent>;

export interface ConsoleBrowser {
  browser: Browser;
  gateway: TestGateway;
  owner: TestAccount;
  foreignRequests: string[];
  pageErrors: string[];
  openPage(): Promise<Page>;
  close(): Promise<void>;
}

export async function startConsoleBrowser(accountName: string): Promise<ConsoleBrowser> {
  const gateway = await startTestGateway();
  const owner = await gateway.createAccount({ name: accountName });
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  const foreignRequests: string[] = [];
  const pageErrors: string[] = [];
  return {
    browser,
    gateway,
    owner,
    foreignRequests,
    pageErrors,
    async openPage() {
      const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
      const page = await context.newPage();
      page.on('request', (request) => {
        if (!request.url().startsWith(gateway.baseUrl)) foreignRequests.push(request.url());
      });
      page.on('pageerror', (error) => pageErrors.push(error.message));
      await page.goto(`${gateway.baseUrl}/console/`);
      return page;
    },
    async close() {
      await browser.close();
      await gateway.close();
    },
  };
}

/** Signs in with the keyboard alone: the username field has the focus on arrival. */
export async function signInByKeyboard(page: Page, username: string, password: string): Promise<void> {
  await page.keyboard.type(username);
  await page.keyboard.press('Tab');
  await page.keyboard.type(password);
  await page.keyboard.press('Enter');
  await page.getByRole('heading', { name: 'API users' }).waitFor();
}

/** The little of an element that isFocused reads (these tests are type-checked without the DOM's types). */
interface FocusableElement {
  ownerDocument: { activeElement: unknown };
}

/** Whether the element has the keyboard focus. */
export function isFocused(locator: Locator): Promise<boolean> {
  return locator.evaluate((element: FocusableElement) => element === element.ownerDocument.activeElement);
}

/**
 * Presses Tab (or Shift+Tab) until the focus is on an element matching the selector, as a
 * keyboard user would; fails after `most` presses.
 */
export async function tabTo(page: Page, selector: string, options: { backwards?: boolean; most?: number } = {}): Promise<void> {
  const key = options.backwards ? 'Shift+Tab' : 'Tab';
  for (let presses = 0; presses < (options.most ?? 40); presses++) {
    await page.keyboard.press(key);
    if (await page.evaluate<boolean>(`document.activeElement !== null && document.activeElement.matches(${JSON.stringify(selector)})`)) return;
  }
  throw new Error(`${key} never reached ${selector}`);
}

/** The row of the users list showing this username. */
export function userRow(page: Page, username: string): Locator {
  return page.locator('#users-body tr', { has: page.locator('td.username', { hasText: username }) });
}

/** The edit dialog of the users list. */
export function editDialog(page: Page): Locator {
  return page.getByRole('dialog', { name: 'Edit API user' });
}

/** Opens the user's edit dialog by keyboard alone, from wherever the focus was left. */
export async function openEditByKeyboard(page: Page, user: ConsoleUser): Promise<void> {
  // The list's Refresh is before the focus (or, from the page's start, after it).
  await tabTo(page, '#refresh', { backwards: true, most: 80 });
  await page.keyboard.press('Enter');
  await userRow(page, user.username).waitFor();
  await tabTo(page, `#users-body tr[data-user-id="${user.id}"] button`, { most: 80 });
  await page.keyboard.press('Enter');
  await editDialog(page).waitFor();
}

export async function usersOverRest(gateway: TestGateway, owner: TestAccount): Promise<ConsoleUser[]> {
  return (await restRequest(gateway.baseUrl, owner, 'GET', '/v2/api-users')).body as ConsoleUser[];
}

export async function userOverRest(gateway: TestGateway, owner: TestAccount, id: string): Promise<ConsoleUser> {
  return (await restRequest(gateway.baseUrl, owner, 'GET', `/v2/api-users/${encodeURIComponent(id)}`)).body as ConsoleUser;
}

export async function createOverRest(gateway: TestGateway, owner: TestAccount, description: string, extra: Record<string, unknown> = {}): Promise<ConsoleUser> {
  const created = await restRequest(gateway.baseUrl, owner, 'POST', '/v2/api-users', { password: 'Integr4tion-pw', description, ...extra });
  if (created.status !== 201) throw new Error(`creating ${description}: ${created.status} ${created.text}`);
  return created.body as ConsoleUser;
}

/** Controls with neither a <label>, an aria-label nor a text of their own (evaluated in the page). */
export function unlabelledControls(page: Page): Promise<string[]> {
  return page.evaluate<string[]>(`
    [...document.querySelectorAll('input, button, select, textarea')]
      .filter((control) => !(control.labels && control.labels.length > 0) && !control.getAttribute('aria-label') && !(control.textContent || '').trim())
      .map((control) => control.outerHTML)`);
}
