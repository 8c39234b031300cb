/**
 * Growing the storage shards (issue 38; shared/storage/reshard.ts, docs/scale.md "Growing the
 * shards"): users connected while the app ran on one account keep everything (their connection,
 * feed with its numbering, audit history, idempotency keys, subscriptions) after `reshard` 1 -> 2
 * and a start with STORAGE_SHARDS=2; the moved users' rows are in the new account only, the others'
 * untouched; their new work runs through the new account's queues; a second run moves nothing.
 *
 * One app, whose host serves both accounts' queues from the start (STORAGE_SHARDS=2), runs with
 * STORAGE_SHARDS=1 until the reshard: the routing reads the count on every call, so this is the
 * app before and after its restart with the new count, on the same sandbox tenant.
 */
import { randomBytes } from 'node:crypto';
import { resetConfig } from '../../shared/config';
import { reshard } from '../../shared/storage/reshard';
import { shardOf } from '../../shared/shards';
import { listSyncStates } from '../../shared/sync/state';
import { startTestApp, type TestApp } from '../support/app';
import { controlCall, waitFor, waitForQuiet } from '../support/sandbox';
import { describeRows, homeKept, rowsNaming } from '../support/storage';

let t: TestApp;
const users: Array<{ userId: string; upn: string; moves: boolean; key: string }> = [];
type Json = Record<string, unknown>;

const setCount = (n: number) => {
  process.env.STORAGE_SHARDS = String(n);
  resetConfig();
};
const json = async (res: Response) => ({ status: res.status, body: (await res.json()) as Json });
const feed = async (userId: string) =>
  ((await json(await t.call(userId, 'GET', '/changes?after=0&limit=1000'))).body.items as Json[]) ?? [];
const auditIds = async (userId: string) =>
  (((await json(await t.call(userId, 'GET', '/audit?limit=500'))).body.entries as Json[]) ?? []).map(
    (e) => e.id,
  );
const createTask = async (userId: string, title: string, key: string) =>
  await json(await t.call(userId, 'POST', '/todo/createTask', { title }, { 'idempotency-key': key }));

const before = new Map<string, { feed: Json[]; audit: unknown[]; created: Json }>();

beforeAll(async () => {
  t = await startTestApp({ env: { STORAGE_SHARDS: '2' } });
  setCount(1);
  const run = randomBytes(3).toString('hex');
  for (let i = 0; users.filter((u) => u.moves).length < 2 || users.length < 4; i++) {
    const userId = `grow-${run}-${i}`;
    const moves = shardOf(userId, 2) === 1;
    if (users.filter((u) => u.moves === moves).length >= 2) continue;
    users.push({ userId, upn: `grow.${run}.${i}@contoso.test`, moves, key: `grow-key-${run}-${i}` });
  }
  for (const u of users) {
    await controlCall(t.sandbox, 'POST', '/users', { userPrincipalName: u.upn, displayName: u.upn });
    await t.connect(u.upn, { features: ['todo'], userId: u.userId });
    // The first round of a resource is a silent baseline (shared/sync/engine.ts): the lists' round,
    // then the default list's, before the task whose creation the feed should tell.
    await waitFor(async () => {
      const states = await listSyncStates(u.userId);
      return states.some((s) => s.resource.startsWith('todo:')) && states.every((s) => s.deltaLink);
    }, 15000);
    const created = await createTask(u.userId, `before ${u.userId}`, u.key);
    expect(created.status).toBe(201);
    // The task's notification reaches the feed (its round runs in the one account).
    await waitFor(async () => (await feed(u.userId)).some((e) => e.type === 'created'), 15000);
  }
  await waitForQuiet(t.sandbox);
  for (const u of users)
    before.set(u.userId, {
      feed: await feed(u.userId),
      audit: await auditIds(u.userId),
      created: (await createTask(u.userId, `before ${u.userId}`, u.key)).body,
    });
}, 120000);
afterAll(async () => {
  setCount(2);
  await t.stop();
});

test('with one account, everything is in shard 0', async () => {
  for (const u of users) expect((await rowsNaming(t, u.userId)).filter((r) => r.shard === 1)).toEqual([]);
});

test('an account without its setting stops the reshard before anything moves', async () => {
  await expect(reshard(1, 3)).rejects.toThrow(
    /^STORAGE_SHARD_2 \(account 2 of 3\) cannot be reached: STORAGE_SHARD_2 is missing/,
  );
  for (const u of users) expect((await rowsNaming(t, u.userId)).filter((r) => r.shard === 1)).toEqual([]);
});

/**
 * The reshard runs with the app stopped: here, once nothing the app does in the background (a
 * round's last writes, a feed push marking its entries) changes any row of these users for a
 * while (rows include their ETags).
 */
async function storageSettled(): Promise<void> {
  const snapshot = async () => JSON.stringify(await Promise.all(users.map((u) => rowsNaming(t, u.userId))));
  let last = await snapshot();
  for (let i = 0; i < 40; i++) {
    await new Promise((r) => setTimeout(r, 500));
    const now = await snapshot();
    if (now === last) return;
    last = now;
  }
  throw new Error('the app kept writing for 20 s');
}

test('reshard 1 -> 2 moves the users the hash sends to the new account, and only them', async () => {
  await waitForQuiet(t.sandbox);
  await storageSettled();
  const report = await reshard(1, 2);
  expect(report.users).toBe(users.filter((u) => u.moves).length);
  for (const tableName of [
    'connections',
    'syncstate',
    'items',
    'changes',
    'audit',
    'idempotency',
    'subscriptions',
  ])
    expect({ tableName, moved: (report.rows[tableName] ?? 0) > 0 }).toEqual({ tableName, moved: true });
  setCount(2);
  for (const u of users) {
    const rows = await rowsNaming(t, u.userId);
    const home = rows.filter((r) => r.shard === 0);
    if (u.moves) {
      expect(rows.filter((r) => r.shard === 1).length).toBeGreaterThan(0);
      // Only the lookups (a notification's way to the user, the connect flow's state) stay home.
      expect(describeRows(home.filter((r) => !homeKept(r)))).toEqual([]);
    } else expect(rows.filter((r) => r.shard === 1)).toEqual([]);
  }
  // Done is done: a second run finds nothing to move.
  expect(await reshard(1, 2)).toEqual({ users: 0, rows: {} });
});

test('after the restart with 2 accounts every user has their connection, feed, audit and keys', async () => {
  for (const u of users) {
    const me = await json(await t.call(u.userId, 'GET', '/connections/me'));
    expect(me.body.status).toBe('connected');
    const was = before.get(u.userId)!;
    expect(await feed(u.userId)).toEqual(was.feed);
    expect(await auditIds(u.userId)).toEqual(expect.arrayContaining(was.audit));
    // The same Idempotency-Key answers with the first result: the key moved with the user.
    expect((await createTask(u.userId, `before ${u.userId}`, u.key)).body).toEqual(was.created);
  }
});

test('new work runs in the user’s new account: a new task reaches the feed after the old entries', async () => {
  for (const u of users) {
    const last = Math.max(...before.get(u.userId)!.feed.map((e) => Number(e.seq)));
    expect((await createTask(u.userId, `after ${u.userId}`, `${u.key}-after`)).status).toBe(201);
    // Through the notification, the user's account's sync-jobs queue and its function.
    const after = await waitFor(async () => {
      const newer = (await feed(u.userId)).filter((e) => Number(e.seq) > last);
      return newer.some((e) => e.type === 'created') && newer;
    }, 15000);
    // Numbered on from the moved counter: no gap, no reuse.
    expect(Math.min(...after.map((e) => Number(e.seq)))).toBe(last + 1);
  }
});
