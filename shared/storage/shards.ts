/**
 * Storage shards (issue 38; docs/scale.md, "Shard across storage accounts"): one storage account
 * serves 20,000 requests/s, about 150,000 users with the spread timers, so a million users need
 * several. A user's rows of the per-user tables live in one account chosen by a hash of the
 * **owner** (the platform user id: every Microsoft account of a user, `{userId}~{account}`, lands
 * with the user, so the user's change feed and audit stay one partition in one account).
 *
 * Shard 0 is `AzureWebJobsStorage` (the Functions host's own account: queues, and every table
 * keyed by something other than a user); shard k is the storage setting `STORAGE_SHARD_{k}`, in
 * the same forms (a connection string, or `STORAGE_SHARD_{k}__accountName` with managed identity).
 * `STORAGE_SHARDS` is how many there are (default 1: everything in AzureWebJobsStorage, as before).
 *
 * The shard of a user is a jump consistent hash (Lamping & Veach, 2014,
 * https://arxiv.org/abs/1406.2294) of the owner: stable for a given count, and growing the count
 * from n to n+1 moves only 1/(n+1) of the users (whose rows must then be copied: docs/scale.md).
 */
import { createHash } from 'node:crypto';
import type { TableClient } from '@azure/data-tables';
import { table } from './clients';

export const HOME_SETTING = 'AzureWebJobsStorage';
export const MAX_SHARDS = 64;

type Env = Record<string, string | undefined>;

/** How many storage accounts the users are spread across (STORAGE_SHARDS, 1 … 64). */
export function shardCount(env: Env = process.env): number {
  const raw = env.STORAGE_SHARDS?.trim();
  if (!raw) return 1;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > MAX_SHARDS)
    throw new Error(`STORAGE_SHARDS must be a whole number from 1 to ${MAX_SHARDS}, not "${raw}"`);
  return n;
}

/** The storage setting of shard k. */
export function shardSetting(k: number): string {
  return k === 0 ? HOME_SETTING : `STORAGE_SHARD_${k}`;
}

/** Every shard's setting, shard 0 first. */
export function shardSettings(env: Env = process.env): string[] {
  return Array.from({ length: shardCount(env) }, (_, k) => shardSetting(k));
}

/**
 * Jump consistent hash: the bucket in [0, buckets) of a 64-bit key. The key is the first 8 bytes
 * of the owner's SHA-256 (owner ids are the platform's, of any shape).
 */
export function jumpHash(key: bigint, buckets: number): number {
  let b = -1n;
  let j = 0n;
  let k = key & 0xffffffffffffffffn;
  while (j < BigInt(buckets)) {
    b = j;
    k = (k * 2862933555777941757n + 1n) & 0xffffffffffffffffn;
    j = BigInt(Math.floor((Number(b) + 1) * (2 ** 31 / Number((k >> 33n) + 1n))));
  }
  return Number(b);
}

/** The owner of a principal: the platform user (`{userId}~{account}` belongs to userId). */
export function ownerOf(principal: string): string {
  const at = principal.indexOf('~');
  return at < 0 ? principal : principal.slice(0, at);
}

/** The shard (0-based) that holds a user's rows; takes a user id or any of its principals. */
export function shardOf(principal: string, count = shardCount()): number {
  if (count <= 1) return 0;
  const digest = createHash('sha256').update(ownerOf(principal), 'utf8').digest();
  return jumpHash(digest.readBigUInt64BE(0), count);
}

/** A per-user table in the account that holds this user's rows (created once per process). */
export async function userTable(tableName: string, principal: string): Promise<TableClient> {
  return await table(tableName, shardSetting(shardOf(principal)));
}

/** The same per-user table in every account, shard 0 first: for work that visits every user. */
export async function everyShard(tableName: string): Promise<TableClient[]> {
  return await Promise.all(shardSettings().map(async (setting) => await table(tableName, setting)));
}
