import { parseConfig } from '../../shared/config';
import { sampleSettings } from '../support/settings';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  jumpHash,
  ownerOf,
  queueSettingFor,
  shardCopies,
  shardCount,
  shardOf,
  shardSetting,
  SHARD_QUEUES,
  USER_QUEUES,
} from '../../shared/shards';

const users = Array.from({ length: 20_000 }, (_, i) => `user-${i}`);

test('one account unless STORAGE_SHARDS says more; a bad count is refused at start', () => {
  expect(shardCount({})).toBe(1);
  expect(shardCount({ STORAGE_SHARDS: '8' })).toBe(8);
  for (const bad of ['0', '-1', '2.5', 'eight', '65'])
    expect(() => shardCount({ STORAGE_SHARDS: bad })).toThrow(/STORAGE_SHARDS/);
  expect(shardSetting(0)).toBe('AzureWebJobsStorage');
  expect(shardSetting(3)).toBe('STORAGE_SHARD_3');
});

test('users spread evenly across the shards', () => {
  for (const count of [2, 8]) {
    const per = new Array<number>(count).fill(0);
    for (const u of users) per[shardOf(u, count)]! += 1;
    const mean = users.length / count;
    for (const n of per) expect(Math.abs(n - mean) / mean).toBeLessThan(0.06);
  }
});

test('every Microsoft account of a user lives with the user', () => {
  expect(ownerOf('user-7~a1b2c3d4e5f6')).toBe('user-7');
  expect(ownerOf('user-7')).toBe('user-7');
  for (const u of users.slice(0, 500)) expect(shardOf(`${u}~a0000000001`, 8)).toBe(shardOf(u, 8));
});

test('growing from n to n+1 shards moves only the users the new shard takes (about 1/(n+1))', () => {
  for (const n of [1, 4, 7]) {
    let moved = 0;
    for (const u of users) {
      const before = shardOf(u, n);
      const after = shardOf(u, n + 1);
      if (before !== after) {
        moved += 1;
        expect(after).toBe(n); // a user only ever moves to the new shard
      }
    }
    expect(Math.abs(moved / users.length - 1 / (n + 1))).toBeLessThan(0.02);
  }
});

test('the jump hash matches the published algorithm', () => {
  // Vectors computed with the paper's Figure 1 (Lamping & Veach 2014) in exact 64-bit arithmetic.
  const vectors: Array<[bigint, number, number]> = [
    [1n, 8, 6],
    [42n, 8, 2],
    [123456789n, 8, 7],
    [2n ** 63n + 5n, 64, 43],
    [0xdeadbeefcafebaben, 10, 4],
    [7n, 1000, 97],
  ];
  for (const [key, buckets, bucket] of vectors) expect(jumpHash(key, buckets)).toBe(bucket);
  // Key 0's first step jumps past any count.
  for (let buckets = 1; buckets < 100; buckets++) expect(jumpHash(0n, buckets)).toBe(0);
});

test('a user queue’s message goes to its user’s account; other queues and bad messages do not', () => {
  const saved = process.env.STORAGE_SHARDS;
  process.env.STORAGE_SHARDS = '4';
  try {
    const user = users.find((u) => shardOf(u, 4) === 3)!;
    expect(queueSettingFor('sync-jobs', { userId: user, resource: 'todo' })).toBe('STORAGE_SHARD_3');
    // Another Microsoft account of the user: with the user.
    expect(queueSettingFor('m365-events', { userId: `${user}~a1b2c3` })).toBe('STORAGE_SHARD_3');
    expect(queueSettingFor('graph-notifications', { v: 1, items: [] })).toBe('AzureWebJobsStorage');
    expect(queueSettingFor('m365-changes', { userId: user })).toBe('AzureWebJobsStorage');
    // A user queue's message that names no user would be lost to routing: refused loudly.
    expect(() => queueSettingFor('sync-jobs', { resource: 'todo' })).toThrow(/sync-jobs.*userId/);
    expect(() => queueSettingFor('held-sends', 'text')).toThrow(/userId/);
    // A timer's per-account fan-out names its account, which must exist.
    expect(queueSettingFor('timer-fanout', { kind: 'sync', shard: 2, tickAt: 1 })).toBe('STORAGE_SHARD_2');
    expect(queueSettingFor('timer-fanout', { kind: 'sync', shard: 0, tickAt: 1 })).toBe(
      'AzureWebJobsStorage',
    );
    for (const shard of [4, -1, 1.5, '1', undefined])
      expect(() => queueSettingFor('timer-fanout', { kind: 'sync', shard, tickAt: 1 })).toThrow(
        /name the shard/,
      );
  } finally {
    if (saved === undefined) delete process.env.STORAGE_SHARDS;
    else process.env.STORAGE_SHARDS = saved;
  }
});

test('a user queue’s function is registered once per account; other queues’ once', () => {
  const spec = { name: 'syncWorker', queueName: 'sync-jobs', connection: 'AzureWebJobsStorage' };
  expect(shardCopies(spec, 1)).toEqual([]);
  expect(shardCopies(spec, 3)).toEqual([
    { ...spec, name: 'syncWorkerShard1', connection: 'STORAGE_SHARD_1', shard: 1 },
    { ...spec, name: 'syncWorkerShard2', connection: 'STORAGE_SHARD_2', shard: 2 },
  ]);
  expect(shardCopies({ ...spec, queueName: 'graph-notifications' }, 3)).toEqual([]);
});

test('USER_QUEUES and SHARD_QUEUES name queues the code declares', () => {
  // Each name is a queue constant somewhere in shared/ or functions/ (a rename cannot leave it stale).
  const sources = [
    'shared/sync/jobs.ts',
    'shared/webhooks/renewal.ts',
    'shared/auth/maintenance.ts',
    'shared/fanout.ts',
  ]
    .concat(['shared/sync/retention.ts', 'shared/events/deliver.ts', 'shared/actions/held-sends.ts'])
    .map((f) => readFileSync(join(__dirname, '..', '..', f), 'utf8'))
    .join('\n');
  for (const queue of [...USER_QUEUES, ...SHARD_QUEUES])
    expect(sources).toMatch(new RegExp(`_QUEUE = '${queue}'`));
});

test('a shard without its account, or with only half of its identity-based settings, is refused at start', () => {
  const problems = (extra: Record<string, string>): string[] => {
    try {
      parseConfig({ ...sampleSettings(), ...extra });
      return [];
    } catch (err) {
      return (err as { problems: string[] }).problems;
    }
  };
  expect(problems({ STORAGE_SHARDS: '1' })).toEqual([]);
  expect(problems({ STORAGE_SHARDS: '3', STORAGE_SHARD_1: 'UseDevelopmentStorage=true' })).toEqual([
    expect.stringMatching(/^STORAGE_SHARD_2 is missing/),
  ]);
  const identity = (k: number) => ({
    [`STORAGE_SHARD_${k}__tableServiceUri`]: `https://stshard${k}.table.core.windows.net`,
    [`STORAGE_SHARD_${k}__queueServiceUri`]: `https://stshard${k}.queue.core.windows.net`,
  });
  expect(problems({ STORAGE_SHARDS: '3', ...identity(1), ...identity(2) })).toEqual([]);
  // Tables alone would leave the shard's queues without a trigger in Azure.
  expect(
    problems({
      STORAGE_SHARDS: '2',
      STORAGE_SHARD_1__tableServiceUri: 'https://stshard1.table.core.windows.net',
    }),
  ).toEqual([expect.stringMatching(/^STORAGE_SHARD_1 needs STORAGE_SHARD_1__queueServiceUri too/)]);
});
