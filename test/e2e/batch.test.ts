/**
 * POST /api/batch: 45 actions become 3 Graph $batch calls (20 + 20 + 5, reference §3), dependsOn
 * chains stay together and in order, and an item Graph throttled inside a batch is retried alone
 * after its Retry-After (§2.4: the SDK never retries batch items).
 */
import { injectFault, requestLog } from '../support/sandbox';
import { startTestApp, type TestApp } from '../support/app';

const ADELE = 'adele.vance@contoso.test';
let t: TestApp;
let userId: string;

beforeAll(async () => {
  t = await startTestApp();
  userId = await t.connect(ADELE, { features: ['mail', 'calendar'] });
});
afterAll(async () => await t.stop());

async function batch(items: unknown[]) {
  const res = await t.call(userId, 'POST', '/batch', { items });
  return { status: res.status, body: await res.json() };
}

test('45 batched actions use 3 $batch calls and come back in request order', async () => {
  const since = (await requestLog(t.sandbox)).at(-1)?.seq ?? 0;
  const items = Array.from({ length: 45 }, (_, i) => ({
    id: `i${i}`,
    action: i % 2 ? 'profile.getMe' : 'profile.getMailboxSettings',
    input: {},
  }));
  const { status, body } = await batch(items);
  expect(status).toBe(200);
  expect(body.results.map((r: { id: string }) => r.id)).toEqual(items.map((i) => i.id));
  expect(body.results.every((r: { status: number }) => r.status === 200)).toBe(true);
  expect(body.results[1].output.userPrincipalName).toBe(ADELE);
  const outer = (await requestLog(t.sandbox, since)).filter((e) => e.path === '/v1.0/$batch');
  expect(outer).toHaveLength(3);
  expect(body.stats).toMatchObject({ graphBatchCalls: 3, directCalls: 0 });
});

test('a dependsOn chain is kept in one call and runs in order', async () => {
  const since = (await requestLog(t.sandbox)).at(-1)?.seq ?? 0;
  const { body } = await batch([
    { id: 'c', action: 'profile.getMe', input: {}, dependsOn: ['b'] },
    { id: 'a', action: 'profile.getMailboxSettings', input: {} },
    { id: 'b', action: 'profile.getMe', input: {}, dependsOn: ['a'] },
  ]);
  expect(body.results.map((r: { id: string; status: number }) => [r.id, r.status])).toEqual([
    ['c', 200],
    ['a', 200],
    ['b', 200],
  ]);
  const log = await requestLog(t.sandbox, since);
  expect(log.filter((e) => e.path === '/v1.0/$batch')).toHaveLength(1);
  const inner = log.filter((e) => e.path.startsWith('/v1.0/') && e.path !== '/v1.0/$batch');
  expect(inner.map((e) => e.path.split('/').pop())).toEqual(['mailboxSettings', 'me', 'me']);
});

test('an item throttled inside a batch is retried alone after its Retry-After', async () => {
  const user = t.sandbox.directory.findUser(ADELE)!;
  await injectFault(t.sandbox, {
    method: 'GET',
    path: '/mailboxSettings',
    userId: user.id,
    status: 429,
    count: 1,
    headers: { 'retry-after': '1' },
  });
  const since = (await requestLog(t.sandbox)).at(-1)?.seq ?? 0;
  const { body } = await batch([
    { id: 'one', action: 'profile.getMe', input: {} },
    { id: 'two', action: 'profile.getMailboxSettings', input: {} },
  ]);
  expect(body.results.map((r: { status: number }) => r.status)).toEqual([200, 200]);
  expect(body.stats).toMatchObject({ graphBatchCalls: 1, retriedAlone: 1 });
  const log = await requestLog(t.sandbox, since);
  const settings = log.filter((e) => e.path.endsWith('/mailboxSettings'));
  expect(settings.map((e) => e.status)).toEqual([429, 200]);
  expect(settings[1]!.startedAt - settings[0]!.endedAt!).toBeGreaterThanOrEqual(1000);
});

test('bad items fail alone with problems; the batch shape is validated as a whole', async () => {
  const { body } = await batch([
    { id: 'ok', action: 'profile.getMe', input: {} },
    { id: 'bad', action: 'profile.getMe', input: { nope: true } },
    { id: 'unknown', action: 'profile.fly', input: {} },
    { id: 'dep', action: 'profile.getMe', input: {}, dependsOn: ['bad'] },
  ]);
  expect(body.results.map((r: { status: number }) => r.status)).toEqual([200, 400, 404, 424]);
  expect(body.results[1].problem.errors[0].field).toBe('input.(body)');
  const dup = await t.call(userId, 'POST', '/batch', {
    items: [
      { id: 'x', action: 'profile.getMe' },
      { id: 'X', action: 'profile.getMe' },
    ],
  });
  expect(dup.status).toBe(400);
  const cycle = await t.call(userId, 'POST', '/batch', {
    items: [
      { id: 'a', action: 'profile.getMe', dependsOn: ['b'] },
      { id: 'b', action: 'profile.getMe', dependsOn: ['a'] },
    ],
  });
  expect(cycle.status).toBe(400);
  const tooMany = await t.call(userId, 'POST', '/batch', {
    items: Array.from({ length: 101 }, (_, i) => ({ id: `x${i}`, action: 'profile.getMe' })),
  });
  expect(tooMany.status).toBe(400);
});
