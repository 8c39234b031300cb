/**
 * Attacks on the connect flow and a log scan, end to end (extends test/e2e/security.test.ts and
 * test/e2e/connect.test.ts without repeating them):
 * - login CSRF / code injection: a valid code presented with a state minted for another user;
 * - open redirect through returnUrl in its tricky spellings;
 * - a log scan: a whole session (connect, send a mail, read it, the change notification Graph
 *   sends for it) with every log line of the host and the functions captured; no token, secret,
 *   clientState or message content may appear in any of them.
 */
import { randomBytes } from 'node:crypto';
import { subscriptionsState } from '../../sandbox/graph/subscriptions';
import { parseKeys } from '../../shared/crypto/envelope';
import { FUNCTION_KEY, MASTER_KEY, TEST_APP } from '../../scripts/harness';
import { startTestApp, type TestApp } from '../support/app';

const ADELE = 'adele.vance@contoso.test';
const MEGAN = 'megan.bowen@contoso.test';
const lines: string[] = [];
let t: TestApp;

const consoleMethods = ['log', 'info', 'warn', 'error', 'debug'] as const;
const originals = new Map<string, (...a: unknown[]) => void>();

beforeAll(async () => {
  // Everything the app could print: the host's log (functions' context logs included) and the
  // console (libraries that log on their own).
  for (const m of consoleMethods) {
    originals.set(m, console[m].bind(console));
    console[m] = (...args: unknown[]) => {
      lines.push(args.map((a) => (typeof a === 'string' ? a : JSON.stringify(a))).join(' '));
    };
  }
  t = await startTestApp({
    log: (line) => lines.push(line),
    sandbox: { subscriptions: { retryDelaysMs: [100, 200, 400] } },
  });
});
afterAll(async () => {
  await t.stop();
  for (const m of consoleMethods) console[m] = originals.get(m)!;
});

const unique = () => randomBytes(4).toString('hex');

async function startFlow(userId: string, body: Record<string, unknown> = { loginHint: ADELE }) {
  const res = await t.call(userId, 'POST', '/auth/microsoft/start', body);
  expect(res.status).toBe(200);
  return ((await res.json()) as { authorizationUrl: string }).authorizationUrl;
}

async function authorize(authorizationUrl: string): Promise<URL> {
  const res = await fetch(authorizationUrl, { redirect: 'manual' });
  expect(res.status).toBe(302);
  return new URL(res.headers.get('location')!);
}

const status = async (userId: string) =>
  ((await (await t.call(userId, 'GET', '/connections/me')).json()) as { status: string }).status;

describe('OAuth CSRF', () => {
  test("a valid code with a state minted for another user attaches nothing to the attacker's user", async () => {
    // The victim signs in; the attacker captures the code from the victim's redirect and replays
    // it with a state the attacker minted for their own platform user (and vice versa).
    const victim = `victim-${unique()}`;
    const attacker = `attacker-${unique()}`;
    const victimCallback = await authorize(await startFlow(victim, { loginHint: ADELE }));
    const attackerCallback = await authorize(await startFlow(attacker, { loginHint: MEGAN }));
    const swapped = new URL(victimCallback);
    swapped.searchParams.set('state', attackerCallback.searchParams.get('state')!);
    const res = await fetch(swapped, { redirect: 'manual' });
    expect(res.status).toBe(400); // PKCE: the code was issued for the victim's verifier
    expect(await status(attacker)).toBe('not_connected');
    // The attacker's state is spent, and the code is burnt (single use, even when the redemption
    // failed): neither original redirect connects anyone any more.
    expect((await fetch(attackerCallback, { redirect: 'manual' })).status).toBe(400);
    expect((await fetch(victimCallback, { redirect: 'manual' })).status).toBe(400);
    expect(await status(victim)).toBe('not_connected');
    expect(await status(attacker)).toBe('not_connected');
    // The victim simply signs in again; the account lands on the victim's user only.
    await t.connect(ADELE, { userId: victim });
    expect(await status(victim)).toBe('connected');
    expect(await status(attacker)).toBe('not_connected');
    const me = (await (await t.call(victim, 'GET', '/connections/me')).json()) as {
      account: { username: string };
    };
    expect(me.account.username).toBe(ADELE);
  });

  test('a callback without any state, or with the state alone and no code, connects no one', async () => {
    const userId = `u-${unique()}`;
    const callback = await authorize(await startFlow(userId));
    const noState = new URL(callback);
    noState.searchParams.delete('state');
    expect((await fetch(noState, { redirect: 'manual' })).status).toBe(400);
    const noCode = new URL(callback);
    noCode.searchParams.delete('code');
    expect((await fetch(noCode, { redirect: 'manual' })).status).toBe(400);
    expect(await status(userId)).toBe('not_connected');
  });
});

describe('open redirect through returnUrl', () => {
  // Allow-list in the harness: https://platform.example.test/return and http://127.0.0.1:3999/
  test.each([
    'https://platform.example.test.evil.test/return',
    '//evil.test/return',
    '//platform.example.test/return',
    'https://platform.example.test@evil.test/return',
    'https://user:pw@platform.example.test/return',
    'https://platform.example.test\\@evil.test/return',
    'https:\\\\evil.test\\return',
    '/\\evil.test/return',
    'https://platform.example.test/return/../../evil',
    'https://platform.example.test/returned',
    'https://platform.example.test:8443/return',
    'http://platform.example.test/return',
    'javascript:alert(document.cookie)//https://platform.example.test/return',
    'JaVaScRiPt:alert(1)',
    'data:text/html,<script>alert(1)</script>',
    'https://evil.test/https://platform.example.test/return',
    'http://127.0.0.1:39990/',
    ' https://evil.test',
    'https://platform.example.test%2f@evil.test/return',
  ])('%s is refused before any state is created', async (returnUrl) => {
    const res = await t.call(`u-${unique()}`, 'POST', '/auth/microsoft/start', {
      returnUrl,
      loginHint: ADELE,
    });
    expect(res.status).toBe(400);
    const problem = (await res.json()) as { errors: Array<{ field: string }> };
    expect(problem.errors[0]!.field).toBe('returnUrl');
  });

  test('an allowed returnUrl is honoured only for its own prefix, after the flow completes', async () => {
    const userId = `u-${unique()}`;
    const callback = await authorize(
      await startFlow(userId, { returnUrl: 'https://platform.example.test/return/x', loginHint: ADELE }),
    );
    const res = await fetch(callback, { redirect: 'manual' });
    expect(res.status).toBe(302);
    const back = new URL(res.headers.get('location')!);
    expect(`${back.origin}${back.pathname}`).toBe('https://platform.example.test/return/x');
  });
});

describe('log scan', () => {
  test('a full session logs no token, secret, clientState or message content', async () => {
    const subject = `Quarterly figures ${unique()} CONFIDENTIAL-SUBJECT`;
    const body = `The secret merger code word is ${unique()}-PINEAPPLE`;
    const userId = await t.connect(ADELE, { features: ['mail'] });
    const megan = await t.connect(MEGAN, { features: ['mail'] });
    const callerJwt = await t.tokenFor(userId);
    const sent = await t.call(userId, 'POST', '/mail/sendMessage', { to: [MEGAN], subject, body });
    expect(sent.status).toBe(200);

    // Megan reads it (list, then the full message with its body).
    let found: { id: string } | undefined;
    for (let i = 0; i < 40 && !found; i++) {
      const res = await t.call(
        megan,
        'POST',
        '/mail/listMessages',
        { top: 25 },
        { 'cache-control': 'no-cache' },
      );
      const page = (await res.json()) as { items: Array<{ id: string; subject: string }> };
      found = page.items.find((m) => m.subject === subject);
      if (!found) await new Promise((r) => setTimeout(r, 50));
    }
    expect(found).toBeDefined();
    const full = await t.call(megan, 'POST', '/mail/getMessage', { id: found!.id });
    expect(await full.text()).toContain('PINEAPPLE');

    // The change notification for the new mail reached our webhook (with its clientState).
    const deadline = Date.now() + 8000;
    while (!lines.some((l) => l.includes('webhook_received')) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));
    expect(lines.some((l) => l.includes('webhook_received'))).toBe(true);
    // Give the notification worker a moment to run its delta sync (and log whatever it logs).
    await new Promise((r) => setTimeout(r, 500));

    const secrets: Array<[string, string]> = [
      ['subject', subject],
      ['body', body],
      ['subject word', 'CONFIDENTIAL-SUBJECT'],
      ['body word', 'PINEAPPLE'],
      ['caller JWT', callerJwt],
      ['client secret', TEST_APP.clientSecret],
      ['caller token secret', process.env.CALLER_TOKEN_SECRET!],
      ['function key', FUNCTION_KEY],
      ['master key', MASTER_KEY],
    ];
    for (const key of parseKeys(process.env.TOKEN_ENCRYPTION_KEYS!))
      secrets.push([`token key ${key.id}`, key.key.toString('base64')]);
    for (const rt of t.sandbox.directory.refreshTokens.values()) secrets.push(['refresh token', rt.token]);
    for (const sub of subscriptionsState(t.sandbox).subs.values())
      if (sub.clientState) secrets.push(['clientState', sub.clientState]);
    expect(secrets.filter(([name]) => name === 'clientState').length).toBeGreaterThan(0);
    expect(secrets.filter(([name]) => name === 'refresh token').length).toBeGreaterThan(0);

    expect(lines.length).toBeGreaterThan(10); // the scan saw the session's logs
    const leaks: string[] = [];
    for (const line of lines) {
      // Any JWT (access, id, caller): three base64url parts starting with {" → eyJ.
      if (/eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\./.test(line)) leaks.push(`JWT in: ${line.slice(0, 200)}`);
      for (const [name, value] of secrets)
        if (line.includes(value)) leaks.push(`${name} in: ${line.slice(0, 200)}`);
      if (line.includes(ADELE) || line.includes(MEGAN)) leaks.push(`an address in: ${line.slice(0, 200)}`);
    }
    expect(leaks).toEqual([]);
  });
});
