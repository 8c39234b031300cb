/**
 * The actions framework end to end: HTTP route per service, strict input validation, feature
 * checks, the read cache, audit entries, and the Graph chokepoint's retry, throttling and
 * mailbox-concurrency behaviour, proven against the sandbox's request log.
 */
import { randomBytes } from 'node:crypto';
import { resetConfig } from '../../shared/config';
import { injectFault, requestLog } from '../support/sandbox';
import { startTestApp, type TestApp } from '../support/app';

const ADELE = 'adele.vance@contoso.test';
let t: TestApp;

beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => await t.stop());

test('an action answers with our own output shape, not raw Graph', async () => {
  const userId = await t.connect(ADELE, { features: ['mail'] });
  const res = await t.call(userId, 'POST', '/profile/getMe', {});
  expect(res.status).toBe(200);
  const me = await res.json();
  expect(me).toEqual({
    id: expect.any(String),
    displayName: 'Adele Vance',
    userPrincipalName: ADELE,
    mail: ADELE,
    jobTitle: 'Product Manager',
  });
});

test('unknown actions, wrong methods and bad input are clear problems', async () => {
  const userId = `u-${randomBytes(4).toString('hex')}`;
  const unknown = await t.call(userId, 'POST', '/profile/nope', {});
  expect(unknown.status).toBe(404);
  expect((await unknown.json()).detail).toContain('getMe');
  const wrong = await t.call(userId, 'GET', '/profile/getMe');
  expect(wrong.status).toBe(405);
  const bad = await t.call(userId, 'POST', '/profile/getMe', { extra: 1 });
  expect(bad.status).toBe(400);
  expect((await bad.json()).errors).toEqual([{ field: '(body)', message: 'unknown field(s): extra' }]);
  const notConnected = await t.call(userId, 'POST', '/profile/getMe', {});
  expect(notConnected.status).toBe(409);
  expect((await notConnected.json()).code).toBe('not_connected');
});

test('an action whose feature was not granted answers 403 feature_not_granted with the URL that adds it', async () => {
  const userId = await t.connect(ADELE, { features: ['mail'] });
  const res = await t.call(userId, 'POST', '/profile/getMailboxSettings', {});
  expect(res.status).toBe(403);
  const problem = await res.json();
  expect(problem.code).toBe('feature_not_granted');
  expect(new URL(problem.authorizationUrl).searchParams.get('scope')).toContain('MailboxSettings.Read');
});

test('the read cache saves Graph requests, and Cache-Control: no-cache bypasses it', async () => {
  const userId = await t.connect(ADELE, { features: ['mail'] });
  const since = (await requestLog(t.sandbox)).at(-1)?.seq ?? 0;
  for (let i = 0; i < 3; i++) expect((await t.call(userId, 'POST', '/profile/getMe', {})).status).toBe(200);
  expect((await requestLog(t.sandbox, since)).filter((e) => e.path.endsWith('/me'))).toHaveLength(1);
  await t.call(userId, 'POST', '/profile/getMe', {}, { 'cache-control': 'no-cache' });
  expect((await requestLog(t.sandbox, since)).filter((e) => e.path.endsWith('/me'))).toHaveLength(2);
});

test('a throttled GET succeeds, and the retry came no earlier than Retry-After', async () => {
  const userId = await t.connect(ADELE, { features: ['mail', 'calendar'] });
  const user = t.sandbox.directory.findUser(ADELE)!;
  await injectFault(t.sandbox, {
    method: 'GET',
    path: '/mailboxSettings',
    userId: user.id,
    status: 429,
    count: 1,
    headers: { 'retry-after': '1.5' },
  });
  const since = (await requestLog(t.sandbox)).at(-1)?.seq ?? 0;
  const res = await t.call(
    userId,
    'POST',
    '/profile/getMailboxSettings',
    {},
    { 'cache-control': 'no-cache' },
  );
  expect(res.status).toBe(200);
  const calls = (await requestLog(t.sandbox, since)).filter((e) => e.path.endsWith('/mailboxSettings'));
  expect(calls.map((c) => c.status)).toEqual([429, 200]);
  expect(calls[1]!.startedAt - calls[0]!.endedAt!).toBeGreaterThanOrEqual(1500);
});

test('a GET that stays throttled past the retry budget answers 429 throttled with retryAfter', async () => {
  process.env.GRAPH_MAX_RETRY_WAIT_SECONDS = '1';
  resetConfig();
  try {
    const userId = await t.connect(ADELE, { features: ['mail', 'calendar'] });
    const user = t.sandbox.directory.findUser(ADELE)!;
    await injectFault(t.sandbox, {
      method: 'GET',
      path: '/mailboxSettings',
      userId: user.id,
      status: 429,
      count: 5,
      headers: { 'retry-after': '7' },
    });
    const res = await t.call(
      userId,
      'POST',
      '/profile/getMailboxSettings',
      {},
      { 'cache-control': 'no-cache' },
    );
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe('7');
    expect(await res.json()).toMatchObject({ code: 'throttled', retryAfter: 7 });
  } finally {
    process.env.GRAPH_MAX_RETRY_WAIT_SECONDS = '60';
    resetConfig();
    await fetch(`${t.sandbox.url}/_sandbox/faults`, { method: 'DELETE' });
  }
});

test('every action writes one audit entry, readable by its user only', async () => {
  const userId = await t.connect(ADELE, { features: ['mail'] });
  await t.call(userId, 'POST', '/profile/getMe', {}, { 'cache-control': 'no-cache' });
  await t.call(userId, 'POST', '/profile/getMe', {}); // served from the cache: audited all the same
  const res = await t.call(userId, 'GET', '/audit');
  expect(res.status).toBe(200);
  const { entries } = await res.json();
  const mine = entries.filter((e: { action: string }) => e.action === 'profile.getMe');
  // One entry per call: the cached answer (no Graph request) and the one that went to Graph.
  expect(mine).toHaveLength(2);
  expect(mine).toEqual(
    expect.arrayContaining([
      expect.objectContaining({ outcome: 'success', status: 200, graphRequestIds: [] }),
      expect.objectContaining({ outcome: 'success', status: 200, graphRequestIds: [expect.any(String)] }),
    ]),
  );
  const other = await t.call(`x-${randomBytes(3).toString('hex')}`, 'GET', '/audit');
  expect((await other.json()).entries).toEqual([]);
});

test('ten parallel actions for one mailbox never put more than 4 concurrent requests on the sandbox', async () => {
  const userId = await t.connect(ADELE, { features: ['mail', 'calendar'] });
  await fetch(`${t.sandbox.url}/_sandbox/throttle`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ latencyMs: 150 }),
  });
  try {
    const since = (await requestLog(t.sandbox)).at(-1)?.seq ?? 0;
    const results = await Promise.all(
      Array.from(
        { length: 10 },
        async () =>
          (await t.call(userId, 'POST', '/profile/getMailboxSettings', {}, { 'cache-control': 'no-cache' }))
            .status,
      ),
    );
    expect(results).toEqual(Array(10).fill(200));
    const served = (await requestLog(t.sandbox, since)).filter((e) => e.path.endsWith('/mailboxSettings'));
    expect(served).toHaveLength(10);
    expect(served.every((e) => e.status === 200)).toBe(true);
    const peak = Math.max(...served.map((e) => e.concurrency ?? 0));
    expect(peak).toBeLessThanOrEqual(4);
    expect(peak).toBe(4); // the limit is used, not just respected by accident
  } finally {
    await fetch(`${t.sandbox.url}/_sandbox/throttle`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ latencyMs: 0 }),
    });
  }
});
