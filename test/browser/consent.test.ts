/**
 * The consent flow a user sees, in a real browser: headless Chromium (Debian's package, driven by
 * playwright-core) opens the authorizationUrl from POST /api/auth/microsoft/start against the
 * sandbox with auto-approve OFF, so the real sign-in + consent page renders; Accept follows the
 * redirect to our callback and its confirmation page (the platform then completes the link as
 * the same user; an attacker's link completed by a victim connects nothing), Cancel leads to the
 * callback's error page
 * (access_denied, https://learn.microsoft.com/entra/identity-platform/reference-error-codes
 * AADSTS65004). Screenshots of every page land in test-results/ (git-ignored).
 *
 * Certificate errors are enforced (no `ignoreHTTPSErrors`): the pages a person opens are served
 * by the sandbox over plain http on loopback, which browsers treat as secure, so a real browser
 * reaches the consent page without a warning; the token, Graph and Key Vault endpoints the SDKs
 * call stay HTTPS.
 */
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { startTestApp, type TestApp } from '../support/app';
import { launchChromium, SHOTS } from '../support/chromium';

const ADELE = 'adele.vance@contoso.test';

let t: TestApp;
let browser: Browser;

beforeAll(async () => {
  t = await startTestApp({ sandbox: { autoApprove: false } });
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await t?.stop();
});

async function startConnect(userId: string, extra: Record<string, unknown> = {}): Promise<string> {
  const res = await t.call(userId, 'POST', '/auth/microsoft/start', { loginHint: ADELE, ...extra });
  expect(res.status).toBe(200);
  return ((await res.json()) as { authorizationUrl: string }).authorizationUrl;
}

async function connectionStatus(userId: string): Promise<string> {
  const res = await t.call(userId, 'GET', '/connections/me');
  return ((await res.json()) as { status: string }).status;
}

async function openConsent(page: Page, authorizationUrl: string): Promise<void> {
  // http on loopback: no certificate warning to click through (browsers treat it as secure).
  expect(new URL(authorizationUrl).protocol).toBe('http:');
  const res = await page.goto(authorizationUrl);
  expect(res?.status()).toBe(200);
  await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe('Permissions requested');
}

async function withPage<T>(fn: (page: Page) => Promise<T>): Promise<T> {
  const context = await browser.newContext({
    viewport: { width: 800, height: 900 },
  });
  try {
    return await fn(await context.newPage());
  } finally {
    await context.close();
  }
}

test('Accept on the consent page, then the platform confirms as the same user: connected', async () => {
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
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe(
      'One step left: confirm in the app',
    );
    expect(await page.locator('main').textContent()).toContain(`You signed in to Microsoft as ${ADELE}.`);
    await page.screenshot({ path: join(SHOTS, 'confirm-page.png'), fullPage: true });
    expect(await connectionStatus(userId)).toBe('not_connected');
    const completionCode = await page.locator('#completion-code').textContent();
    const done = await t.call(userId, 'POST', '/auth/microsoft/complete', { completionCode });
    expect(done.status).toBe(200);
  });
  expect(await connectionStatus(userId)).toBe('connected');
});

test("account linking: a victim who completes an attacker's connect link connects nothing", async () => {
  // The attacker starts a connect for their own platform user and sends the link to the victim.
  const attacker = 'browser-attacker';
  const victim = 'browser-victim';
  const authorizationUrl = await startConnect(attacker, { accountLabel: 'mallory@praxos.example' });
  await withPage(async (page) => {
    await openConsent(page, authorizationUrl);
    await page.getByRole('radio', { name: new RegExp(ADELE.replace(/\./g, '\\.')) }).check();
    await Promise.all([
      page.waitForURL((url) => url.pathname === '/api/auth/microsoft/callback'),
      page.getByRole('button', { name: 'Accept' }).click(),
    ]);
    // The victim is told which app account it would go to, and that nothing is connected.
    const text = (await page.locator('main').textContent()) ?? '';
    expect(text).toContain('"mallory@praxos.example"');
    expect(text).toContain('If someone sent you this link, close this window: nothing was connected.');
    await page.screenshot({ path: join(SHOTS, 'linking-attack-page.png'), fullPage: true });
    // Had the victim's own app session confirmed it, it is refused: it is not the victim's flow.
    const completionCode = await page.locator('#completion-code').textContent();
    const res = await t.call(victim, 'POST', '/auth/microsoft/complete', { completionCode });
    expect(res.status).toBe(403);
    expect(((await res.json()) as { code: string }).code).toBe('connect_user_mismatch');
  });
  expect(await connectionStatus(attacker)).toBe('not_connected');
  expect(await connectionStatus(victim)).toBe('not_connected');
  const read = await t.call(attacker, 'POST', '/mail/listMessages', { folder: 'inbox', top: 1 });
  expect(read.status).toBe(409);
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
