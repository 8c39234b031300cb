/**
 * The connect flow and the token vault, end to end over HTTP against the sandbox and Azurite:
 * start → authorize → callback → connected; state replay/expiry/tampering; tokens never stored
 * in clear; per-user isolation; one refresh for many concurrent requests; reauth_required on an
 * expired refresh token; key rotation.
 */
import { randomBytes } from 'node:crypto';
import { TableClient } from '@azure/data-tables';
import { decrypt, parseKeys } from '../../shared/crypto/envelope';
import { acquireToken, getAccessToken } from '../../shared/auth/token-vault';
import { Problem } from '../../shared/http/problem';
import { resetConfig } from '../../shared/config';
import { resetSecrets } from '../../shared/secrets';
import { hashState } from '../../shared/storage/oauth-states';
import { registrations } from '../../shared/runtime/register';
import { requestLog, waitForQuiet } from '../support/sandbox';
import { leftoversAfterErase, userTableOf } from '../support/storage';
import { FUNCTION_KEY, MASTER_KEY, startTestApp, type TestApp } from '../support/app';

const ADELE = 'adele.vance@contoso.test';
const MEGAN = 'megan.bowen@contoso.test';
let t: TestApp;

function table(name: string): TableClient {
  return TableClient.fromConnectionString(t.storage, name, {
    allowInsecureConnection: true,
  });
}

async function startFlow(userId: string, body: Record<string, unknown> = { loginHint: ADELE }) {
  const res = await t.call(userId, 'POST', '/auth/microsoft/start', body);
  expect(res.status).toBe(200);
  return (await res.json()) as { authorizationUrl: string; expiresAt: string; features: string[] };
}

function completionFrom(html: string): string {
  const code = /id="completion-code">([^<]+)</.exec(html)?.[1];
  expect(code).toBeDefined();
  return code!;
}

async function authorize(authorizationUrl: string): Promise<string> {
  const res = await fetch(authorizationUrl, { redirect: 'manual' });
  expect(res.status).toBe(302);
  return res.headers.get('location')!;
}

beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => await t.stop());
afterEach(() => jest.useRealTimers());

describe('connect flow', () => {
  test('start → authorize → callback → connected, with least-privilege scopes per feature', async () => {
    const userId = `u-${randomBytes(4).toString('hex')}`;
    const { authorizationUrl, expiresAt, features } = await startFlow(userId, {
      features: ['mail', 'calendar'],
      loginHint: ADELE,
    });
    expect(features).toEqual(['mail', 'calendar']);
    expect(Date.parse(expiresAt) - Date.now()).toBeGreaterThan(9 * 60 * 1000);
    const url = new URL(authorizationUrl);
    expect(url.searchParams.get('code_challenge_method')).toBe('S256');
    expect(url.searchParams.get('scope')!.split(' ').sort()).toEqual(
      [
        'Calendars.Read.Shared',
        'Calendars.ReadWrite',
        'Mail.ReadWrite',
        'Mail.Send',
        'MailboxSettings.Read',
        'User.Read',
        'offline_access',
        'openid',
        'profile',
      ].sort(),
    );
    const callback = await authorize(authorizationUrl);
    const page = await fetch(callback, { redirect: 'manual' });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("default-src 'none'");
    const html = await page.text();
    // A first link waits for the platform to confirm that the same user came back.
    expect(html).toContain('One step left');
    expect((await t.call(userId, 'GET', '/connections/me').then((r) => r.json())).status).toBe(
      'not_connected',
    );
    const completionCode = completionFrom(html);
    const done = await t.call(userId, 'POST', '/auth/microsoft/complete', { completionCode });
    expect(done.status).toBe(200);
    expect(await done.json()).toMatchObject({ status: 'connected', account: { username: ADELE } });

    const me = await t.call(userId, 'GET', '/connections/me');
    const body = await me.json();
    expect(body).toMatchObject({
      status: 'connected',
      account: { username: ADELE, accountType: 'work' },
      features: ['mail', 'calendar'],
    });
  });

  test('the callback redirects to an allow-listed returnUrl with status=confirm and a completion code; others are refused', async () => {
    const userId = `u-${randomBytes(4).toString('hex')}`;
    const bad = await t.call(userId, 'POST', '/auth/microsoft/start', {
      returnUrl: 'https://platform.example.test.evil.test/return',
      loginHint: ADELE,
    });
    expect(bad.status).toBe(400);
    expect((await bad.json()).errors[0].field).toBe('returnUrl');
    const { authorizationUrl } = await startFlow(userId, {
      returnUrl: 'https://platform.example.test/return/done?x=1',
      loginHint: ADELE,
    });
    const res = await fetch(await authorize(authorizationUrl), { redirect: 'manual' });
    expect(res.status).toBe(302);
    const back = new URL(res.headers.get('location')!);
    expect(back.origin + back.pathname).toBe('https://platform.example.test/return/done');
    expect(back.searchParams.get('status')).toBe('confirm');
    expect(back.searchParams.get('x')).toBe('1');
    const completionCode = back.searchParams.get('completion');
    expect(completionCode).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const done = await t.call(userId, 'POST', '/auth/microsoft/complete', { completionCode });
    expect(done.status).toBe(200);
    // Single use: the same code again is refused and changes nothing.
    const again = await t.call(userId, 'POST', '/auth/microsoft/complete', { completionCode });
    expect(again.status).toBe(400);
    expect((await again.json()).code).toBe('completion_invalid');
    // Signing in again to the same account links nothing new: it completes at once.
    const { authorizationUrl: second } = await startFlow(userId, {
      returnUrl: 'https://platform.example.test/return/done',
      loginHint: ADELE,
    });
    const res2 = await fetch(await authorize(second), { redirect: 'manual' });
    expect(new URL(res2.headers.get('location')!).searchParams.get('status')).toBe('connected');
  });

  test('a replayed state is rejected and changes nothing', async () => {
    const userId = `u-${randomBytes(4).toString('hex')}`;
    const callback = await authorize((await startFlow(userId)).authorizationUrl);
    expect((await fetch(callback, { redirect: 'manual' })).status).toBe(200);
    const replay = await fetch(callback, { redirect: 'manual' });
    expect(replay.status).toBe(400);
    expect(await replay.text()).toContain('state_invalid');
  });

  test('reloading the success page says the connection is fine, and does nothing again', async () => {
    const userId = await t.connect(ADELE);
    const callback = await authorize((await startFlow(userId)).authorizationUrl);
    const first = await fetch(callback, { redirect: 'manual' });
    expect(first.status).toBe(200);
    expect(await first.text()).toContain('Microsoft 365 is connected');
    const since = t.sandbox.log.lastSeq;
    const reload = await fetch(callback, { redirect: 'manual' });
    expect(reload.status).toBe(200);
    const text = await reload.text();
    expect(text).toContain('already completed and the connection is working');
    expect(text).not.toContain('state_invalid');
    // Nothing was exchanged again (the code is not redeemed twice).
    expect((await requestLog(t.sandbox, since)).filter((e) => e.grantType === 'authorization_code')).toEqual(
      [],
    );
  });

  test('an expired state is rejected', async () => {
    const userId = `u-${randomBytes(4).toString('hex')}`;
    const callback = await authorize((await startFlow(userId)).authorizationUrl);
    const state = new URL(callback).searchParams.get('state')!;
    await table('oauthstates').updateEntity(
      {
        partitionKey: hashState(state),
        rowKey: 'state',
        expiresAt: new Date(Date.now() - 1000).toISOString(),
      },
      'Merge',
    );
    const res = await fetch(callback, { redirect: 'manual' });
    expect(res.status).toBe(400);
    expect((await t.call(userId, 'GET', '/connections/me').then((r) => r.json())).status).toBe(
      'not_connected',
    );
  });

  test('a tampered or unknown state is rejected', async () => {
    const userId = `u-${randomBytes(4).toString('hex')}`;
    const callback = new URL(await authorize((await startFlow(userId)).authorizationUrl));
    const state = callback.searchParams.get('state')!;
    callback.searchParams.set('state', state.slice(0, -2) + (state.endsWith('AA') ? 'BB' : 'AA'));
    expect((await fetch(callback, { redirect: 'manual' })).status).toBe(400);
    callback.searchParams.set('state', '<script>alert(1)</script>');
    const res = await fetch(callback, { redirect: 'manual' });
    expect(res.status).toBe(400);
    expect(await res.text()).not.toContain('<script>');
  });

  test('Cancel at Microsoft comes back as access_denied and nothing is connected', async () => {
    const userId = `u-${randomBytes(4).toString('hex')}`;
    const { authorizationUrl } = await startFlow(userId, {
      returnUrl: 'https://platform.example.test/return',
      loginHint: ADELE,
    });
    const state = new URL(authorizationUrl).searchParams.get('state')!;
    const cb = `${t.api}/auth/microsoft/callback?error=access_denied&error_description=AADSTS65004&state=${state}`;
    const res = await fetch(cb, { redirect: 'manual' });
    const back = new URL(res.headers.get('location')!);
    expect(back.searchParams.get('status')).toBe('error');
    expect(back.searchParams.get('code')).toBe('access_denied');
    expect((await t.call(userId, 'GET', '/connections/me').then((r) => r.json())).status).toBe(
      'not_connected',
    );
  });

  test('the PKCE verifier never appears in a URL', async () => {
    const userId = `u-${randomBytes(4).toString('hex')}`;
    const since = (await requestLog(t.sandbox)).at(-1)?.seq ?? 0;
    const { authorizationUrl } = await startFlow(userId);
    const state = new URL(authorizationUrl).searchParams.get('state')!;
    const row = await table('oauthstates').getEntity<{ verifierKeyId: string; verifierData: string }>(
      hashState(state),
      'state',
    );
    const verifier = decrypt(
      { keyId: row.verifierKeyId, data: row.verifierData },
      { userId, purpose: 'pkce-verifier' },
      parseKeys(process.env.TOKEN_ENCRYPTION_KEYS!),
    );
    expect(verifier.length).toBeGreaterThanOrEqual(43);
    const callback = await authorize(authorizationUrl);
    await fetch(callback, { redirect: 'manual' });
    const urls = [
      authorizationUrl,
      callback,
      ...(await requestLog(t.sandbox, since)).map(
        (e) => `${e.path}?${new URLSearchParams(e.query).toString()}`,
      ),
    ];
    for (const url of urls) expect(url).not.toContain(verifier);
    expect(JSON.stringify(row)).not.toContain(verifier);
  });

  test('a connected user asking for more features gets a URL for the union (incremental consent)', async () => {
    const userId = await t.connect(ADELE, { features: ['mail'] });
    const { authorizationUrl, features } = await startFlow(userId, { features: ['todo'] });
    expect(features).toEqual(['mail', 'todo']);
    expect(new URL(authorizationUrl).searchParams.get('scope')).toContain('Mail.ReadWrite');
    expect(new URL(authorizationUrl).searchParams.get('scope')).toContain('Tasks.ReadWrite');
  });

  test('the admin-consent URL targets the adminconsent endpoint with the Graph scopes', async () => {
    const res = await t.call(
      'someone',
      'GET',
      '/auth/microsoft/admin-consent-url?features=teams,teams-history',
    );
    const { adminConsentUrl } = await res.json();
    const url = new URL(adminConsentUrl);
    // On the host of the authority's sign-in pages: the sandbox's plain-http browser listener.
    expect(url.origin).toBe(t.sandbox.browserUrl);
    expect(url.pathname).toBe('/organizations/v2.0/adminconsent');
    expect(url.searchParams.get('scope')).toContain('https://graph.microsoft.com/ChannelMessage.Read.All');
  });
});

describe('account linking (connect-flow CSRF): a flow started by one user never links another person', () => {
  // The attacker starts a connect for their own platform user and sends the URL to the victim,
  // editing it first as Microsoft honours: login_hint = the victim, prompt=none (the victim has
  // consented before, so one cross-site GET signs in silently).
  async function attackerUrl(attacker: string, returnUrl?: string): Promise<string> {
    const { authorizationUrl } = await startFlow(attacker, {
      loginHint: MEGAN,
      ...(returnUrl ? { returnUrl } : {}),
    });
    const url = new URL(authorizationUrl);
    url.searchParams.set('login_hint', ADELE);
    url.searchParams.set('prompt', 'none');
    return url.toString();
  }

  test("the victim's silent sign-in ends on a page that connects nothing; the attacker reads no mail", async () => {
    const victim = await t.connect(ADELE); // the victim uses the app and has consented
    const attacker = `attacker-${randomBytes(4).toString('hex')}`;
    const page = await fetch(await authorize(await attackerUrl(attacker)), { redirect: 'manual' });
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain(`You signed in to Microsoft as ${ADELE}`);
    expect(html).toContain('If someone sent you this link, close this window: nothing was connected.');
    expect((await t.call(attacker, 'GET', '/connections/me').then((r) => r.json())).status).toBe(
      'not_connected',
    );
    const read = await t.call(attacker, 'POST', '/mail/listMessages', { folder: 'inbox', top: 1 });
    expect(read.status).toBe(409);
    expect((await read.json()).code).toBe('not_connected');
    // The completion code is shown only in the browser that signed in (the victim's): the
    // attacker, who started the flow and could complete it, never sees it.
    expect(html).not.toContain(attacker);
    expect((await t.call(victim, 'GET', '/connections/me').then((r) => r.json())).status).toBe('connected');
  });

  test("with a return URL, the platform completes as the victim's session: refused, discarded, nothing linked", async () => {
    const victim = await t.connect(ADELE);
    const attacker = `attacker-${randomBytes(4).toString('hex')}`;
    const callback = await authorize(await attackerUrl(attacker, 'https://platform.example.test/return'));
    const back = new URL((await fetch(callback, { redirect: 'manual' })).headers.get('location')!);
    expect(back.searchParams.get('status')).toBe('confirm');
    const completionCode = back.searchParams.get('completion');
    // The victim's browser is on the platform's return page, signed in as the victim.
    const res = await t.call(victim, 'POST', '/auth/microsoft/complete', { completionCode });
    expect(res.status).toBe(403);
    expect((await res.json()).code).toBe('connect_user_mismatch');
    // The pending sign-in is gone: the attacker cannot use the code afterwards either.
    const late = await t.call(attacker, 'POST', '/auth/microsoft/complete', { completionCode });
    expect(late.status).toBe(400);
    expect((await late.json()).code).toBe('completion_invalid');
    expect((await t.call(attacker, 'GET', '/connections/me').then((r) => r.json())).status).toBe(
      'not_connected',
    );
    const victimStatus = await t.call(victim, 'GET', '/connections/me').then((r) => r.json());
    expect(victimStatus).toMatchObject({ status: 'connected', account: { username: ADELE } });
    // Both users' audit logs record the refused completion.
    const audit = await t.call(attacker, 'GET', '/audit').then((r) => r.json());
    expect(JSON.stringify(audit)).toContain('connect_user_mismatch');
  });

  test('a pending sign-in expires: a late completion connects nothing', async () => {
    const userId = `u-${randomBytes(4).toString('hex')}`;
    const { authorizationUrl } = await startFlow(userId, {
      loginHint: ADELE,
      returnUrl: 'https://platform.example.test/return',
    });
    const callback = await authorize(authorizationUrl);
    const back = new URL((await fetch(callback, { redirect: 'manual' })).headers.get('location')!);
    const completionCode = back.searchParams.get('completion')!;
    await table('oauthstates').updateEntity(
      {
        partitionKey: hashState(completionCode),
        rowKey: 'completion',
        expiresAt: new Date(Date.now() - 1000).toISOString(),
      },
      'Merge',
    );
    const res = await t.call(userId, 'POST', '/auth/microsoft/complete', { completionCode });
    expect(res.status).toBe(400);
    expect((await res.json()).code).toBe('completion_invalid');
    expect((await t.call(userId, 'GET', '/connections/me').then((r) => r.json())).status).toBe(
      'not_connected',
    );
  });

  test('a connected user signing in to a different Microsoft account also needs the confirmation, and then has both', async () => {
    const userId = await t.connect(ADELE);
    const { authorizationUrl } = await startFlow(userId, { loginHint: MEGAN });
    const page = await fetch(await authorize(authorizationUrl), { redirect: 'manual' });
    const html = await page.text();
    expect(html).toContain('One step left');
    // Until confirmed, the existing connection is untouched.
    expect((await t.call(userId, 'GET', '/connections/me').then((r) => r.json())).account.username).toBe(
      ADELE,
    );
    await t.call(userId, 'POST', '/auth/microsoft/complete', { completionCode: completionFrom(html) });
    // Another account joins the user's accounts (issue 30); the first stays the default.
    const me = (await t.call(userId, 'GET', '/connections/me').then((r) => r.json())) as {
      account: { username: string };
      accounts: Array<{ account: { username: string } }>;
    };
    expect(me.account.username).toBe(ADELE);
    expect(me.accounts.map((a) => a.account.username)).toEqual([ADELE, MEGAN]);
  });
});

describe('token vault', () => {
  test('the stored connection holds no access, refresh or id token in clear', async () => {
    const userId = await t.connect(ADELE);
    const { token } = await getAccessToken(userId);
    const entity = await userTableOf(t, 'connections', userId).getEntity(userId, 'microsoft');
    const text = JSON.stringify(entity);
    expect(text).not.toContain(token);
    for (const rt of t.sandbox.directory.refreshTokens.values()) expect(text).not.toContain(rt.token);
    expect(text).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\./);
    expect(entity.cacheKeyId).toBe('sandbox1');
  });

  test('50 concurrent requests of one user with an expired access token cause exactly one refresh', async () => {
    // An account of its own: background rounds of earlier tests' users (their tokens expire too
    // when the clock jumps below) refresh with other accounts, which the count leaves out.
    const upn = 'token.race@contoso.test';
    if (!t.sandbox.directory.findUser(upn))
      t.sandbox.directory.addUser({ userPrincipalName: upn, displayName: 'Token Race' });
    const oid = t.sandbox.directory.findUser(upn)!.id;
    const userId = await t.connect(upn);
    // Let the work a connect starts (first sync rounds, subscriptions) finish with the current
    // token, so the only token requests below are the 50 of this test.
    await waitForQuiet(t.sandbox);
    jest.useFakeTimers({
      doNotFake: [
        'nextTick',
        'setImmediate',
        'clearImmediate',
        'setTimeout',
        'clearTimeout',
        'setInterval',
        'clearInterval',
        'queueMicrotask',
        'hrtime',
        'performance',
      ],
      advanceTimers: true,
    });
    jest.setSystemTime(Date.now() + 2 * 3600 * 1000);
    const since = (await requestLog(t.sandbox)).at(-1)?.seq ?? 0;
    const tokens = await Promise.all(Array.from({ length: 50 }, () => getAccessToken(userId)));
    expect(new Set(tokens.map((x) => x.token)).size).toBe(1);
    const refreshes = (await requestLog(t.sandbox, since)).filter(
      (e) => e.grantType === 'refresh_token' && (e.headers['x-anchormailbox'] ?? '').includes(oid),
    );
    expect(refreshes).toHaveLength(1);
  });

  test('two instances racing to refresh the same row both end with a valid cache', async () => {
    const userId = await t.connect(MEGAN);
    await waitForQuiet(t.sandbox);
    const [a, b] = await Promise.all([
      acquireToken(userId, { forceRefresh: true }),
      acquireToken(userId, { forceRefresh: true }),
    ]);
    expect(a.token).not.toBe(b.token);
    const since = (await requestLog(t.sandbox)).at(-1)?.seq ?? 0;
    const again = await acquireToken(userId, { forceRefresh: true });
    expect(again.token).toBeTruthy();
    expect(
      (await requestLog(t.sandbox, since))
        .filter((e) => e.grantType === 'refresh_token')
        .map((e) => e.status),
    ).toEqual([200]);
  });

  test('an expired refresh token leads to reauth_required with a working URL, after exactly one refresh attempt', async () => {
    const userId = await t.connect(ADELE);
    const user = t.sandbox.directory.findUser(ADELE)!;
    await waitForQuiet(t.sandbox);
    await fetch(`${t.sandbox.url}/_sandbox/users/${user.id}/expire-refresh-tokens`, { method: 'POST' });
    const since = (await requestLog(t.sandbox)).at(-1)?.seq ?? 0;
    let problem: Problem | undefined;
    for (let i = 0; i < 3; i++) {
      try {
        await getAccessToken(userId, { forceRefresh: true });
      } catch (err) {
        problem = err as Problem;
      }
    }
    expect(problem).toBeInstanceOf(Problem);
    expect(problem!.code).toBe('reauth_required');
    expect(problem!.status).toBe(401);
    const refreshes = (await requestLog(t.sandbox, since)).filter((e) => e.grantType === 'refresh_token');
    expect(refreshes).toHaveLength(1);
    const status = await t.call(userId, 'GET', '/connections/me').then((r) => r.json());
    expect(status).toMatchObject({ status: 'reauth_required', reauthReason: 'AADSTS700082' });
    // The URL works: signing in again reconnects the same platform user.
    const callback = await authorize(String(problem!.extensions.authorizationUrl));
    expect((await fetch(callback, { redirect: 'manual' })).status).toBe(200);
    expect((await t.call(userId, 'GET', '/connections/me').then((r) => r.json())).status).toBe('connected');
    expect((await getAccessToken(userId)).token).toBeTruthy();
  });

  test('rows written under key 1 are read after key 2 becomes current and are rewritten under key 2', async () => {
    const userId = await t.connect(ADELE);
    const key1 = process.env.TOKEN_ENCRYPTION_KEYS!;
    const key2 = `rot2:${randomBytes(32).toString('base64')}`;
    process.env.TOKEN_ENCRYPTION_KEYS = `${key2},${key1}`;
    resetConfig();
    resetSecrets();
    try {
      expect((await getAccessToken(userId)).token).toBeTruthy();
      const res = await fetch(`${t.host.url}/admin/functions/tokenReencrypt`, {
        method: 'POST',
        headers: { 'x-functions-key': MASTER_KEY },
        body: '{}',
      });
      expect(res.status).toBe(202);
      const deadline = Date.now() + 10000;
      let entity = await userTableOf(t, 'connections', userId).getEntity<{ cacheKeyId: string }>(
        userId,
        'microsoft',
      );
      while (entity.cacheKeyId !== 'rot2' && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 100));
        entity = await userTableOf(t, 'connections', userId).getEntity<{ cacheKeyId: string }>(
          userId,
          'microsoft',
        );
      }
      expect(entity.cacheKeyId).toBe('rot2');
      process.env.TOKEN_ENCRYPTION_KEYS = key2; // key 1 retired entirely
      resetConfig();
      resetSecrets();
      expect((await getAccessToken(userId)).token).toBeTruthy();
    } finally {
      process.env.TOKEN_ENCRYPTION_KEYS = key1;
      resetConfig();
      resetSecrets();
    }
  });
});

describe('caller isolation', () => {
  test('every caller route refuses a request without a valid caller token', async () => {
    // Admin routes (the master key, no caller) are covered in test/e2e/security.test.ts.
    const routes = registrations().filter((r) => r.kind === 'http' && r.authLevel === 'function');
    expect(routes.length).toBeGreaterThan(3);
    for (const route of routes) {
      if (route.kind !== 'http') continue;
      const path = route.route.replace(/\{[^}]+\}/g, 'x');
      for (const method of route.methods) {
        const res = await fetch(`${t.api}/${path}`, {
          method,
          headers: { 'x-functions-key': FUNCTION_KEY },
        });
        expect({ route: route.name, method, status: res.status }).toEqual({
          route: route.name,
          method,
          status: 401,
        });
        expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
        expect(res.headers.get('content-type')).toBe('application/problem+json');
      }
    }
  });

  test("user B's token cannot read, export or erase user A's connection", async () => {
    const alice = await t.connect(ADELE);
    const bob = `bob-${randomBytes(4).toString('hex')}`;
    expect(await t.call(bob, 'GET', '/connections/me').then((r) => r.json())).toEqual({
      status: 'not_connected',
    });
    const exported = await t.call(bob, 'GET', '/connections/me/export').then((r) => r.text());
    expect(exported).not.toContain(ADELE);
    expect(exported).not.toContain(alice);
    await t.call(bob, 'DELETE', '/connections/me');
    expect((await t.call(alice, 'GET', '/connections/me').then((r) => r.json())).status).toBe('connected');
    // A user id never comes from the body or the query.
    const smuggled = await t.call(bob, 'POST', '/auth/microsoft/start', { userId: alice });
    expect(smuggled.status).toBe(400);
    expect((await smuggled.json()).errors[0].message).toContain('userId');
  });

  test('an erase leaves no row of the user in any table, including keyed results of created items', async () => {
    const userId = await t.connect(MEGAN, { features: ['todo', 'contacts', 'calendar'] });
    const key = { 'idempotency-key': `erase-${randomBytes(6).toString('hex')}` };
    const title = `Erase me ${randomBytes(4).toString('hex')}`;
    expect((await t.call(userId, 'POST', '/todo/createTask', { title }, key)).status).toBe(201);
    const exported = await t.call(userId, 'GET', '/connections/me/export').then((r) => r.text());
    expect(exported).toContain(title); // the stored result of the keyed create is the user's data
    await waitForQuiet(t.sandbox);
    expect((await t.call(userId, 'DELETE', '/connections/me')).status).toBe(200);
    await waitForQuiet(t.sandbox);
    // (Other platform users connected to the same mailbox see the task in their own feeds:
    // theirs to keep. Every row of this user, the keyed result among them, must go, in every
    // storage account.)
    const leftovers = await leftoversAfterErase(t, userId);
    expect(leftovers).toEqual([]);
  });

  test('after disconnecting and connecting another Microsoft account, nothing cached answers for the old one', async () => {
    const userId = await t.connect(ADELE, { features: ['todo'] });
    const me1 = await t.call(userId, 'POST', '/profile/getMe', {}).then((r) => r.json());
    expect(me1.mail ?? me1.userPrincipalName).toBe(ADELE);
    expect((await t.call(userId, 'POST', '/todo/createTask', { title: 'on the default list' })).status).toBe(
      201,
    );
    await waitForQuiet(t.sandbox);
    expect((await t.call(userId, 'DELETE', '/connections/me')).status).toBe(200);
    await t.connect(MEGAN, { features: ['todo'], userId });
    const me2 = await t.call(userId, 'POST', '/profile/getMe', {}).then((r) => r.json());
    expect(me2.mail ?? me2.userPrincipalName).toBe(MEGAN);
    // The default list id cached for Adele's mailbox is not used for Megan's (it would be a 404).
    expect(
      (await t.call(userId, 'POST', '/todo/createTask', { title: 'on the new default list' })).status,
    ).toBe(201);
  });

  test('disconnecting erases the user and keeps one pseudonymous erasure record', async () => {
    const userId = await t.connect(MEGAN);
    const res = await t.call(userId, 'DELETE', '/connections/me');
    expect(res.status).toBe(200);
    expect((await t.call(userId, 'GET', '/connections/me').then((r) => r.json())).status).toBe(
      'not_connected',
    );
    const erasures = [];
    for await (const e of table('erasures').listEntities()) erasures.push(e);
    expect(JSON.stringify(erasures)).not.toContain(userId);
    expect(erasures.length).toBeGreaterThan(0);
  });
});
