/**
 * The consent flow a user sees, in a real browser: headless Chromium (Debian's package, driven by
 * playwright-core) opens the authorizationUrl from POST /api/auth/microsoft/start against the
 * sandbox with auto-approve OFF, so the real sign-in + consent page renders; Accept follows the
 * redirect to our callback and its success page, Cancel leads to the callback's error page
 * (access_denied, https://learn.microsoft.com/entra/identity-platform/reference-error-codes
 * AADSTS65004). Screenshots of every page land in test-results/ (git-ignored).
 *
 * The browser trusts the sandbox's self-signed local CA through `ignoreHTTPSErrors` on the
 * context: acceptable for a loopback-only test CA (Node trusts it via NODE_EXTRA_CA_CERTS, which
 * Chromium does not read); nothing else is relaxed.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startTestApp, type TestApp } from '../support/app';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SHOTS = join(__dirname, '..', '..', 'test-results');
const ADELE = 'adele.vance@contoso.test';

let t: TestApp;
let browser: Browser;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `Chromium is not installed at ${CHROMIUM}: run \`apt-get install -y chromium\` (Debian) or set CHROMIUM_PATH.`,
    );
  }
  mkdirSync(SHOTS, { recursive: true });
  t = await startTestApp({ sandbox: { autoApprove: false } });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
});

afterAll(async () => {
  await browser?.close();
  await t?.stop();
});

async function startConnect(userId: string): Promise<string> {
  const res = await t.call(userId, 'POST', '/auth/microsoft/start', { loginHint: ADELE });
  expect(res.status).toBe(200);
  return ((await res.json()) as { authorizationUrl: string }).authorizationUrl;
}

async function connectionStatus(userId: string): Promise<string> {
  const res = await t.call(userId, 'GET', '/connections/me');
  return ((await res.json()) as { status: string }).status;
}

async function openConsent(page: Page, authorizationUrl: string): Promise<void> {
  const res = await page.goto(authorizationUrl);
  expect(res?.status()).toBe(200);
  await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe('Permissions requested');
}

async function withPage<T>(fn: (page: Page) => Promise<T>): Promise<T> {
  const context = await browser.newContext({
    ignoreHTTPSErrors: true,
    viewport: { width: 800, height: 900 },
  });
  try {
    return await fn(await context.newPage());
  } finally {
    await context.close();
  }
}

test('Accept on the consent page connects the account and shows the success page', async () => {
  const userId = 'browser-accept';
  const authorizationUrl = await startConnect(userId);
  await withPage(async (page) => {
    await openConsent(page, authorizationUrl);
    // What the user is asked to grant, and for which app.
    const scopes = await page.locator('ul[aria-labelledby="scopes-heading"] li code').allTextContents();
    expect(scopes).toEqual(
      expect.arrayContaining(['Mail.Send', 'Calendars.ReadWrite', 'Files.ReadWrite.All']),
    );
    const account = page.getByRole('radio', { name: new RegExp(ADELE.replace(/\./g, '\\.')) });
    await account.check();
    expect(await account.isChecked()).toBe(true);
    await page.screenshot({ path: join(SHOTS, 'consent-page.png'), fullPage: true });

    await Promise.all([
      page.waitForURL((url) => url.pathname === '/api/auth/microsoft/callback'),
      page.getByRole('button', { name: 'Accept' }).click(),
    ]);
    const landed = new URL(page.url());
    expect(landed.origin).toBe(new URL(t.api).origin);
    expect(landed.searchParams.get('code')).toBeTruthy();
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Microsoft 365 is connected');
    expect(await page.locator('main').textContent()).toContain(`Signed in as ${ADELE}.`);
    await page.screenshot({ path: join(SHOTS, 'connected-page.png'), fullPage: true });
  });
  expect(await connectionStatus(userId)).toBe('connected');
});

test('Cancel on the consent page leads to the error page and connects nothing', async () => {
  const userId = 'browser-cancel';
  const authorizationUrl = await startConnect(userId);
  await withPage(async (page) => {
    await openConsent(page, authorizationUrl);
    await Promise.all([
      page.waitForURL((url) => url.pathname === '/api/auth/microsoft/callback'),
      page.getByRole('button', { name: 'Cancel' }).click(),
    ]);
    const landed = new URL(page.url());
    expect(landed.searchParams.get('error')).toBe('access_denied');
    expect(landed.searchParams.get('code')).toBeNull();
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe(
      'Microsoft 365 could not be connected',
    );
    const text = (await page.locator('main').textContent()) ?? '';
    expect(text).toContain('Reference code: access_denied');
    expect(text).toContain('You cancelled the sign-in');
    await page.screenshot({ path: join(SHOTS, 'cancelled-page.png'), fullPage: true });
  });
  expect(await connectionStatus(userId)).toBe('not_connected');
});
