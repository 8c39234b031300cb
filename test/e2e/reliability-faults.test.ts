/**
 * Reliability under Graph and identity faults, end to end (caller → local host → chokepoint →
 * sandbox): 429 storms, 5xx bursts, dropped connections, answers slower than the timeout and a
 * token endpoint outage. Each case checks what the caller saw, what the chokepoint retried
 * (the sandbox's request log) and that nothing was lost or written twice. docs/reliability.md
 * lists the cases with their measured outcomes.
 *
 * Retry rules under test (shared/graph/middleware.ts; graph-behaviour.md §1–2):
 * - 429 is retried for every method, no earlier than Retry-After: Graph throttles before it
 *   executes anything (https://learn.microsoft.com/graph/throttling).
 * - 5xx, timeouts and resets are retried only for idempotent requests: a POST may have run.
 */
import { randomBytes } from 'node:crypto';
import { resetConfig } from '../../shared/config';
import type { LogEntry } from '../../sandbox/log';
import { controlCall, injectFault, requestLog } from '../support/sandbox';
import { startTestApp, type TestApp } from '../support/app';

const ADELE = 'adele.vance@contoso.test';
let t: TestApp;
let userId: string;
let oid: string;

// The list's tasks collection only (with or without a query): not /tasks/delta, which the
// background sync (change notifications) may read at any moment.
const TASKS = '/v1\\.0/me/todo/lists/[^/]+/tasks(\\?.*)?$';

beforeAll(async () => {
  t = await startTestApp();
  userId = await t.connect(ADELE, { features: ['todo'] });
  oid = t.sandbox.directory.findUser(ADELE)!.id;
  // Warm the list lookup so the cases below see only the request under test.
  expect((await t.call(userId, 'POST', '/todo/listTasks', {})).status).toBe(200);
});
afterAll(async () => await t.stop());
afterEach(async () => {
  await controlCall(t.sandbox, 'DELETE', '/faults');
  delete process.env.GRAPH_REQUEST_TIMEOUT_MS;
  delete process.env.GRAPH_MAX_RETRY_WAIT_SECONDS;
  resetConfig();
});

const unique = (label: string) => `${label} ${randomBytes(4).toString('hex')}`;
const since = () => t.sandbox.log.lastSeq;

async function calls(from: number, method: string, path: RegExp): Promise<LogEntry[]> {
  return (await requestLog(t.sandbox, from)).filter((e) => e.method === method && path.test(e.path));
}

/** The user's tasks with this title, as the user would find them afterwards. */
async function tasksTitled(title: string): Promise<number> {
  const res = await t.call(userId, 'POST', '/todo/listTasks', { top: 100 }, { 'cache-control': 'no-cache' });
  expect(res.status).toBe(200);
  const page = (await res.json()) as { items: Array<{ title: string }> };
  return page.items.filter((i) => i.title === title).length;
}

const listTasks = () =>
  t.call(userId, 'POST', '/todo/listTasks', {}, { 'cache-control': 'no-cache' }).then(async (r) => ({
    status: r.status,
    body: (await r.json()) as Record<string, unknown>,
  }));

const createTask = (title: string, headers: Record<string, string> = {}) =>
  t.call(userId, 'POST', '/todo/createTask', { title }, headers).then(async (r) => ({
    status: r.status,
    body: (await r.json()) as Record<string, unknown>,
  }));

const gaps = (entries: LogEntry[]) =>
  entries.slice(1).map((e, i) => e.startedAt - (entries[i]!.endedAt ?? entries[i]!.startedAt));

describe('429 storms', () => {
  test('a read throttled four times in a row succeeds; every retry waited for Retry-After', async () => {
    await injectFault(t.sandbox, {
      method: 'GET',
      path: TASKS,
      userId: oid,
      status: 429,
      count: 4,
      headers: { 'retry-after': '0.2' },
    });
    const from = since();
    const res = await listTasks();
    expect(res.status).toBe(200);
    const seen = await calls(from, 'GET', /\/tasks$/);
    expect(seen.map((e) => e.status)).toEqual([429, 429, 429, 429, 200]);
    for (const gap of gaps(seen)) expect(gap).toBeGreaterThanOrEqual(200);
  });

  test('a throttled create is retried (Graph throttles before executing) and lands exactly once', async () => {
    const title = unique('throttled create');
    await injectFault(t.sandbox, {
      method: 'POST',
      path: TASKS,
      userId: oid,
      status: 429,
      count: 2,
      headers: { 'retry-after': '0.1' },
    });
    const from = since();
    const res = await createTask(title);
    expect(res.status).toBe(201);
    expect((await calls(from, 'POST', /\/tasks$/)).map((e) => e.status)).toEqual([429, 429, 201]);
    expect(await tasksTitled(title)).toBe(1);
  });

  test('throttling past the retry budget answers 429 throttled with Retry-After, promptly', async () => {
    process.env.GRAPH_MAX_RETRY_WAIT_SECONDS = '1';
    resetConfig();
    await injectFault(t.sandbox, {
      method: 'GET',
      path: TASKS,
      userId: oid,
      status: 429,
      count: 50,
      headers: { 'retry-after': '0.4' },
    });
    const started = Date.now();
    const from = since();
    const res = await listTasks();
    expect(res.status).toBe(429);
    expect(res.body).toMatchObject({ code: 'throttled', retryAfter: 1 });
    const seen = await calls(from, 'GET', /\/tasks$/);
    expect(seen.length).toBeGreaterThanOrEqual(2); // retried within the budget, then gave up
    expect(seen.length).toBeLessThanOrEqual(4);
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  test('eleven 429s in a row within the wait budget: 429 throttled with Retry-After after 11 attempts, not a 500', async () => {
    await injectFault(t.sandbox, {
      method: 'GET',
      path: TASKS,
      userId: oid,
      status: 429,
      count: 20,
      headers: { 'retry-after': '0.05' },
    });
    const from = since();
    const res = await listTasks();
    expect(res.status).toBe(429);
    expect(res.body).toMatchObject({ code: 'throttled' });
    expect(Number(res.body.retryAfter)).toBeGreaterThanOrEqual(1);
    expect(await calls(from, 'GET', /\/tasks$/)).toHaveLength(11);
    await controlCall(t.sandbox, 'DELETE', '/faults');
  });
});

describe('5xx bursts', () => {
  test('a read failing with 503 three times is retried with growing backoff and succeeds', async () => {
    await injectFault(t.sandbox, { method: 'GET', path: TASKS, userId: oid, status: 503, count: 3 });
    const from = since();
    expect((await listTasks()).status).toBe(200);
    const seen = await calls(from, 'GET', /\/tasks$/);
    expect(seen.map((e) => e.status)).toEqual([503, 503, 503, 200]);
    // Equal-jitter exponential backoff: attempt n waits between 250·2^(n-1) and 500·2^(n-1) ms.
    const waited = gaps(seen);
    waited.forEach((gap, i) => expect(gap).toBeGreaterThanOrEqual(250 * 2 ** i - 5));
  });

  test('a 500 on a create is not retried: the caller is told the outcome is unknown; nothing is duplicated', async () => {
    const title = unique('5xx create');
    const key = `key-${randomBytes(8).toString('hex')}`;
    await injectFault(t.sandbox, { method: 'POST', path: TASKS, userId: oid, status: 500, count: 1 });
    const from = since();
    const res = await createTask(title, { 'idempotency-key': key });
    expect(res.status).toBe(502);
    expect(res.body).toMatchObject({ code: 'outcome_unknown', outcomeUnknown: true });
    expect(await calls(from, 'POST', /\/tasks$/)).toHaveLength(1);
    // The same key is not run again (it could double-write, and a task leaves no trace to look
    // for): it keeps saying the outcome is unknown; the caller checks, then uses a new key.
    const again = await createTask(title, { 'idempotency-key': key });
    expect(again).toMatchObject({ status: 502, body: { code: 'outcome_unknown' } });
    expect(await tasksTitled(title)).toBe(0);
    expect((await createTask(title, { 'idempotency-key': `${key}-2` })).status).toBe(201);
    expect(await tasksTitled(title)).toBe(1);
  });

  test('an outage longer than the retry budget answers 503 upstream_unavailable, and recovery is immediate', async () => {
    process.env.GRAPH_MAX_RETRY_WAIT_SECONDS = '2';
    resetConfig();
    await injectFault(t.sandbox, { method: 'GET', path: TASKS, userId: oid, status: 503, count: 100 });
    const from = since();
    const res = await listTasks();
    expect(res.status).toBe(503);
    expect(res.body).toMatchObject({ code: 'upstream_unavailable', outcomeUnknown: false });
    expect((await calls(from, 'GET', /\/tasks$/)).length).toBeGreaterThanOrEqual(2);
    await controlCall(t.sandbox, 'DELETE', '/faults');
    expect((await listTasks()).status).toBe(200);
  });
});

describe('dropped connections', () => {
  test('a read whose connection is dropped twice is retried and succeeds', async () => {
    await injectFault(t.sandbox, { method: 'GET', path: TASKS, userId: oid, drop: true, count: 2 });
    const from = since();
    expect((await listTasks()).status).toBe(200);
    expect((await calls(from, 'GET', /\/tasks$/)).map((e) => e.status)).toEqual([0, 0, 200]);
  });

  test('a create whose connection drops is not retried and is reported as outcome unknown (502, not 500)', async () => {
    const title = unique('dropped create');
    await injectFault(t.sandbox, { method: 'POST', path: TASKS, userId: oid, drop: true, count: 1 });
    const from = since();
    const res = await createTask(title);
    expect(res.status).toBe(502);
    expect(res.body).toMatchObject({ code: 'outcome_unknown', outcomeUnknown: true });
    expect(await calls(from, 'POST', /\/tasks$/)).toHaveLength(1);
    expect(await tasksTitled(title)).toBe(0);
  });
});

describe('answers slower than GRAPH_REQUEST_TIMEOUT_MS', () => {
  test('a slow read is abandoned at the timeout and retried; the caller gets 200 long before the slow answer', async () => {
    process.env.GRAPH_REQUEST_TIMEOUT_MS = '300';
    resetConfig();
    // The slow answer takes 10 s, far beyond any busy machine's slack: finishing before it proves
    // the request was abandoned, not waited out.
    await injectFault(t.sandbox, { method: 'GET', path: TASKS, userId: oid, delayMs: 10_000, count: 1 });
    const from = since();
    const started = Date.now();
    expect((await listTasks()).status).toBe(200);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect((await calls(from, 'GET', /\/tasks$/)).length).toBe(2);
  });

  test('a slow create is not retried: the caller is told the outcome is unknown; the write lands once', async () => {
    process.env.GRAPH_REQUEST_TIMEOUT_MS = '300';
    resetConfig();
    const title = unique('slow create');
    await injectFault(t.sandbox, { method: 'POST', path: TASKS, userId: oid, delayMs: 1200, count: 1 });
    const from = since();
    const res = await createTask(title);
    expect(res.status).toBe(502);
    expect(res.body).toMatchObject({ code: 'outcome_unknown', outcomeUnknown: true });
    // The sandbox still executes the request after the delay, as Graph would: it was not lost,
    // and the chokepoint did not send it a second time.
    await new Promise((r) => setTimeout(r, 1400));
    expect(await calls(from, 'POST', /\/tasks$/)).toHaveLength(1);
    expect(await tasksTitled(title)).toBe(1);
  });
});

describe('token endpoint outage', () => {
  test('a refresh during an identity outage answers 503 with Retry-After; the user is not asked to sign in again', async () => {
    // A 401 InvalidAuthenticationToken makes the chokepoint refresh (reference §7.7); the token
    // endpoint then answers 503 temporarily_unavailable, as Entra ID does during incidents.
    await injectFault(t.sandbox, { method: 'GET', path: TASKS, userId: oid, status: 401, count: 1 });
    await injectFault(t.sandbox, {
      method: 'POST',
      path: '/oauth2/v2.0/token',
      status: 503,
      count: 20,
      body: {
        error: 'temporarily_unavailable',
        error_description: 'AADSTS50196: The server is temporarily unavailable.',
        error_codes: [50196],
      },
    });
    const res = await listTasks();
    expect(res.status).toBe(503);
    expect(res.body).toMatchObject({ code: 'upstream_unavailable' });
    const me = await t.call(userId, 'GET', '/connections/me').then((r) => r.json());
    expect(me.status).toBe('connected');
    await controlCall(t.sandbox, 'DELETE', '/faults');
    expect((await listTasks()).status).toBe(200);
  });

  test('a token endpoint that drops connections is also a 503, never a forced sign-in', async () => {
    await injectFault(t.sandbox, { method: 'GET', path: TASKS, userId: oid, status: 401, count: 1 });
    await injectFault(t.sandbox, { method: 'POST', path: '/oauth2/v2.0/token', drop: true, count: 20 });
    const res = await listTasks();
    expect(res.status).toBe(503);
    expect(res.body).toMatchObject({ code: 'upstream_unavailable' });
    await controlCall(t.sandbox, 'DELETE', '/faults');
    expect((await listTasks()).status).toBe(200);
    const me = await t.call(userId, 'GET', '/connections/me').then((r) => r.json());
    expect(me.status).toBe('connected');
  });

  test('a grant revoked mid-session answers 401 reauth_required after one refresh attempt, not 500 or a retry loop', async () => {
    await controlCall(t.sandbox, 'POST', `/users/${oid}/expire-refresh-tokens`);
    await injectFault(t.sandbox, { method: 'GET', path: TASKS, userId: oid, status: 401, count: 1 });
    const from = since();
    const started = Date.now();
    const res = await listTasks();
    expect(res.status).toBe(401);
    expect(res.body).toMatchObject({ code: 'reauth_required', authorizationUrl: expect.any(String) });
    expect(Date.now() - started).toBeLessThan(5000);
    const refreshes = (await requestLog(t.sandbox, from)).filter((e) => e.grantType === 'refresh_token');
    expect(refreshes).toHaveLength(1);
    expect(await calls(from, 'GET', /\/tasks$/)).toHaveLength(1);
    // Signing in again restores the same platform user.
    await t.connect(ADELE, { features: ['todo'], userId });
    expect((await listTasks()).status).toBe(200);
  });
});
