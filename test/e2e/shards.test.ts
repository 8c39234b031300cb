/**
 * Storage shards (issue 38; docs/scale.md): with STORAGE_SHARDS=2 each user's rows (connection,
 * sync state, items index, change feed, audit, accounts, subscriptions, …) live in the account the
 * hash of the user picks, and only there (the home account keeps the lookups by subscription id); the
 * timer reaches the users of every shard; actions and sync work for all of them; an erase leaves
 * no row of the user in either account.
 */
import { randomBytes } from 'node:crypto';
import { QueueClient } from '@azure/storage-queue';
import { RETENTION_QUEUE } from '../../shared/sync/retention';
import { fanOutAccount, fanOutTick } from '../../shared/fanout';
import { checkHealth } from '../../shared/health';
import { registrations } from '../../shared/runtime/register';
import { enqueue } from '../../shared/storage/clients';
import { shardOf } from '../../shared/shards';
import { getSyncState } from '../../shared/sync/state';
import { startTestApp, type TestApp } from '../support/app';
import { controlCall, waitFor } from '../support/sandbox';
import { homeKept, leftoversAfterErase, rowsNaming } from '../support/storage';

let t: TestApp;
/** Two users per shard, picked by the product's own hash. */
const users: Array<{ userId: string; upn: string; shard: number }> = [];

beforeAll(async () => {
  t = await startTestApp({ env: { STORAGE_SHARDS: '2' } });
  expect(t.storages).toHaveLength(2);
  expect(t.storages[1]).toBe(process.env.STORAGE_SHARD_1);
  expect(t.storages[1]).not.toBe(t.storages[0]);
  const run = randomBytes(3).toString('hex');
  for (let i = 0; users.filter((u) => u.shard === 0).length < 2 || users.length < 4; i++) {
    const userId = `shard-${run}-${i}`;
    const shard = shardOf(userId, 2);
    if (users.filter((u) => u.shard === shard).length >= 2) continue;
    users.push({ userId, upn: `shard.${run}.${i}@contoso.test`, shard });
  }
  for (const u of users) {
    await controlCall(t.sandbox, 'POST', '/users', { userPrincipalName: u.upn, displayName: u.upn });
    await t.connect(u.upn, { features: ['todo'], userId: u.userId });
  }
});
afterAll(async () => await t.stop());

/** The user's rows in one account, by table. */
const userRows = async (
  shard: number,
  userId: string,
): Promise<Map<string, Array<Record<string, unknown>>>> => {
  const found = new Map<string, Array<Record<string, unknown>>>();
  for (const r of await rowsNaming(t, userId))
    if (r.shard === shard) found.set(r.table, [...(found.get(r.table) ?? []), r.row]);
  return found;
};

test('each user’s rows live in the user’s shard only (the home account keeps only the lookups)', async () => {
  for (const u of users) {
    // The first round after connecting has saved its state, its feed entry and its subscription.
    await waitFor(async () => (await getSyncState(u.userId, 'todo'))?.lastSuccessAt);
    const own = await userRows(u.shard, u.userId);
    for (const tableName of ['connections', 'syncstate', 'changes', 'audit', 'accounts', 'subscriptions'])
      expect({ tableName, rows: (own.get(tableName) ?? []).length > 0 }).toEqual({ tableName, rows: true });
    const elsewhere = [...(await userRows(1 - u.shard, u.userId))].flatMap(([tableName, found]) =>
      found
        .filter((row) => !homeKept({ shard: 1 - u.shard, table: tableName, row }))
        .map((row) => `${tableName}: ${String(row.rowKey)}`),
    );
    expect(elsewhere).toEqual([]);
  }
});

test('actions, the sync timer and change notifications work for the users of both shards', async () => {
  const before = new Map<string, string | undefined>();
  for (const u of users) before.set(u.userId, (await getSyncState(u.userId, 'todo'))?.lastSuccessAt);
  // The tick queues one fan-out per account; each account's own function fans its users out.
  expect(await fanOutTick('sync')).toEqual({ accounts: 2, queued: 2 });
  for (const u of users) {
    // The timer's fan-out lists the connections of every shard: each user gets a round.
    await waitFor(async () => {
      const at = (await getSyncState(u.userId, 'todo'))?.lastSuccessAt;
      return at !== before.get(u.userId) && at;
    });
    const title = `sharded ${u.userId}`;
    const created = await t.call(u.userId, 'POST', '/todo/createTask', { title });
    expect(created.status).toBe(201);
    // Its notification's round indexes it, in the user's own account.
    await waitFor(async () => (await userRows(u.shard, u.userId)).get('items'));
    expect((await userRows(1 - u.shard, u.userId)).get('items')).toBeUndefined();
  }
});

test('a user’s queued work goes to the user’s account, whose own copy of the function serves it', async () => {
  // Each user queue's function is registered once per account (the copies drain shard 1).
  const names = registrations().map((r) => `${r.name}@${r.kind === 'queue' ? r.connection : ''}`);
  for (const fn of [
    'syncWorker',
    'eventsWorker',
    'heldSendWorker',
    'subscriptionRenewalWorker',
    'timerFanoutWorker',
  ])
    expect(names).toEqual(
      expect.arrayContaining([`${fn}@AzureWebJobsStorage`, `${fn}Shard1@STORAGE_SHARD_1`]),
    );
  // A batch of several users' notifications has one queue, in the home account.
  expect(names.filter((n) => n.startsWith('graphNotificationWorker'))).toEqual([
    'graphNotificationWorker@AzureWebJobsStorage',
  ]);
  // Held for a minute (no function runs it meanwhile): each message waits in its user's account.
  const depth = async (storage: string) =>
    (
      await new QueueClient(storage, RETENTION_QUEUE)
        .getProperties()
        .catch(() => ({ approximateMessagesCount: 0 }))
    ).approximateMessagesCount ?? 0;
  const before = await Promise.all(t.storages.map(depth));
  for (const u of users)
    await enqueue(RETENTION_QUEUE, { userId: u.userId }, { visibilityTimeoutSeconds: 60 });
  const after = await Promise.all(t.storages.map(depth));
  expect(after.map((n, k) => n - before[k]!)).toEqual(
    [0, 1].map((k) => users.filter((u) => u.shard === k).length),
  );
});

test('each account’s fan-out lists that account’s users only, for every timer', async () => {
  for (const shard of [0, 1]) {
    const mine = users.filter((u) => u.shard === shard).length;
    const tickAt = Date.now();
    // Reconciliation and retention visit every connected user at each tick here (no spread).
    for (const kind of ['renewal', 'retention'] as const)
      expect([kind, await fanOutAccount({ kind, shard, tickAt })]).toEqual([
        kind,
        { users: mine, jobs: mine },
      ]);
    // Nobody is idle for 14 days or under an old key: nothing to keep alive or re-encrypt.
    for (const kind of ['keepalive', 'reencrypt'] as const)
      expect([kind, await fanOutAccount({ kind, shard, tickAt })]).toEqual([kind, { users: 0, jobs: 0 }]);
    expect((await fanOutAccount({ kind: 'sync', shard, tickAt })).users).toBe(mine);
  }
});

test('an erase leaves no row of the user in either account', async () => {
  const gone = users.filter((u) => u.shard === 1)[0]!;
  expect((await t.call(gone.userId, 'DELETE', '/connections/me')).status).toBe(200);
  expect(await leftoversAfterErase(t, gone.userId)).toEqual([]);
  // The other users are untouched.
  for (const u of users.filter((x) => x !== gone))
    expect((await userRows(u.shard, u.userId)).get('connections')).toHaveLength(1);
});

test('health probes every shard’s account', async () => {
  const report = await checkHealth();
  expect(report.parts.find((p) => p.name === 'tableStorage')?.ok).toBe(true);
  expect(report.parts.find((p) => p.name === 'tableStorageShard1')?.ok).toBe(true);
  expect(report.parts.find((p) => p.name === 'queueStorageShard1')?.ok).toBe(true);
});
