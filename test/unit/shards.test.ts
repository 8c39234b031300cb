import { parseConfig } from '../../shared/config';
import { sampleSettings } from '../support/settings';
import {
  expandShardAccounts,
  jumpHash,
  ownerOf,
  shardCount,
  shardOf,
  shardSetting,
} from '../../shared/storage/shards';

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

test('the templates’ account list becomes identity-based shard settings; an explicit setting wins', () => {
  const env: Record<string, string | undefined> = {
    STORAGE_SHARDS: '3',
    STORAGE_SHARD_ACCOUNTS: 'stabc1,stabc2',
    AzureWebJobsStorage__clientId: 'client-1',
  };
  expandShardAccounts(env);
  expect(env).toMatchObject({
    STORAGE_SHARD_1__accountName: 'stabc1',
    STORAGE_SHARD_1__clientId: 'client-1',
    STORAGE_SHARD_2__accountName: 'stabc2',
  });
  const local: Record<string, string | undefined> = {
    STORAGE_SHARD_ACCOUNTS: 'stabc1',
    STORAGE_SHARD_1: 'UseDevelopmentStorage=true',
  };
  expandShardAccounts(local);
  expect(local.STORAGE_SHARD_1__accountName).toBeUndefined();
});

test('a shard without an account, or a list of the wrong length, is refused at start by name', () => {
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
  expect(problems({ STORAGE_SHARDS: '3', STORAGE_SHARD_ACCOUNTS: 'stabc1,stabc2' })).toEqual([]);
  expect(problems({ STORAGE_SHARDS: '2', STORAGE_SHARD_ACCOUNTS: 'stabc1,stabc2' })).toEqual([
    expect.stringMatching(/^STORAGE_SHARD_ACCOUNTS names 2 accounts but STORAGE_SHARDS is 2/),
  ]);
  expect(problems({ STORAGE_SHARDS: '2', STORAGE_SHARD_ACCOUNTS: 'Not An Account' })).toEqual([
    expect.stringMatching(/^STORAGE_SHARD_ACCOUNTS must be storage account names/),
  ]);
});
