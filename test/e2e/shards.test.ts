/**
 * Storage shards (issue 38; docs/scale.md): with STORAGE_SHARDS=2 each user's connection, sync
 * state and items index live in the account the hash of the user picks, and only there; the
 * timer reaches the users of every shard; actions and sync work for all of them; an erase leaves
 * no row of the user in either account.
 */
import { TableClient, TableServiceClient } from '@azure/data-tables';
import { randomBytes } from 'node:crypto';
import { checkHealth } from '../../shared/health';
import { shardOf } from '../../shared/storage/shards';
import { getSyncState } from '../../shared/sync/state';
import { startTestApp, type TestApp } from '../support/app';
import { controlCall, waitFor } from '../support/sandbox';

let t: TestApp;
let accounts: string[];
/** Two users per shard, picked by the product's own hash. */
const users: Array<{ userId: string; upn: string; shard: number }> = [];

beforeAll(async () => {
  t = await startTestApp({ env: { STORAGE_SHARDS: '2' } });
  accounts = [t.storage, process.env.STORAGE_SHARD_1!];
  expect(accounts[1]).toBeTruthy();
  expect(accounts[1]).not.toBe(accounts[0]);
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

const rows = async (account: string, tableName: string, userId: string): Promise<unknown[]> => {
  const client = TableClient.fromConnectionString(account, tableName, { allowInsecureConnection: true });
  const found: unknown[] = [];
  try {
    for await (const row of client.listEntities()) if (JSON.stringify(row).includes(userId)) found.push(row);
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode !== 404) throw err; // a table not created there
  }
  return found;
};

test('each user’s connection, sync state and index live in the user’s shard only', async () => {
  for (const u of users) {
    // The first round after connecting has saved its state and indexed the lists' tasks.
    await waitFor(async () => (await getSyncState(u.userId, 'todo'))?.lastSuccessAt);
    for (const tableName of ['connections', 'syncstate']) {
      expect((await rows(accounts[u.shard]!, tableName, u.userId)).length).toBeGreaterThan(0);
      expect(await rows(accounts[1 - u.shard]!, tableName, u.userId)).toEqual([]);
    }
  }
});

test('actions, the sync timer and change notifications work for the users of both shards', async () => {
  const before = new Map<string, string | undefined>();
  for (const u of users) before.set(u.userId, (await getSyncState(u.userId, 'todo'))?.lastSuccessAt);
  await t.host.invoke('syncTimer');
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
    await waitFor(async () => (await rows(accounts[u.shard]!, 'items', u.userId)).length > 0);
    expect(await rows(accounts[1 - u.shard]!, 'items', u.userId)).toEqual([]);
  }
});

test('an erase leaves no row of the user in either account', async () => {
  const gone = users.filter((u) => u.shard === 1)[0]!;
  expect((await t.call(gone.userId, 'DELETE', '/connections/me')).status).toBe(200);
  const scan = async () => {
    const found: string[] = [];
    for (const account of accounts) {
      const service = TableServiceClient.fromConnectionString(account, { allowInsecureConnection: true });
      for await (const info of service.listTables())
        for (const row of await rows(account, info.name!, gone.userId))
          found.push(`${info.name}: ${JSON.stringify(row).slice(0, 120)}`);
    }
    return found;
  };
  // A round a notification started may still be writing: it removes its rows once it sees the
  // connection gone (shared/sync/engine.ts).
  let leftovers = await scan();
  for (let i = 0; i < 50 && leftovers.length > 0; i++) {
    await new Promise((r) => setTimeout(r, 200));
    leftovers = await scan();
  }
  expect(leftovers).toEqual([]);
  // The other users are untouched.
  for (const u of users.filter((x) => x !== gone))
    expect((await rows(accounts[u.shard]!, 'connections', u.userId)).length).toBe(1);
});

test('health probes every shard’s account', async () => {
  const report = await checkHealth();
  expect(report.parts.find((p) => p.name === 'tableStorage')?.ok).toBe(true);
  expect(report.parts.find((p) => p.name === 'tableStorageShard1')?.ok).toBe(true);
});
