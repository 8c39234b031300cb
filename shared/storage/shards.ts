/**
 * Storage shards (issue 38; docs/scale.md, "Shard across storage accounts"): one storage account
 * serves 20,000 requests/s, about 150,000 users with the spread timers, so a million users need
 * several. A user's rows of the per-user tables live in one account chosen by a hash of the
 * **owner** (the platform user id: every Microsoft account of a user, `{userId}~{account}`, lands
 * with the user, so the user's change feed and audit stay one partition in one account).
 *
 * Shard 0 is `AzureWebJobsStorage` (the Functions host's own account: queues, and every table
 * keyed by something other than a user); shard k is the storage setting `STORAGE_SHARD_{k}`, in
 * the same forms (a connection string, or `STORAGE_SHARD_{k}__accountName` with managed identity),
 * or the k-th name in `STORAGE_SHARD_ACCOUNTS` (what the templates set: account names, reached with
 * AzureWebJobsStorage's managed identity). `STORAGE_SHARDS` is how many there are (default 1:
 * everything in AzureWebJobsStorage, as before).
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

export const SHARD_ACCOUNTS_SETTING = 'STORAGE_SHARD_ACCOUNTS';

/** The account names STORAGE_SHARD_ACCOUNTS lists (shard 1 first). */
export function listedShardAccounts(env: Env = process.env): string[] {
  return (env[SHARD_ACCOUNTS_SETTING] ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

/**
 * Shards named in STORAGE_SHARD_ACCOUNTS become identity-based settings of their own
 * (STORAGE_SHARD_k__accountName, with AzureWebJobsStorage's identity), which the storage clients
 * read like any other; an explicit STORAGE_SHARD_k setting wins.
 */
export function expandShardAccounts(env: Env = process.env): void {
  listedShardAccounts(env).forEach((account, i) => {
    const setting = shardSetting(i + 1);
    if (env[setting] || env[`${setting}__accountName`] || env[`${setting}__tableServiceUri`]) return;
    env[`${setting}__accountName`] = account;
    const clientId = env[`${HOME_SETTING}__clientId`];
    if (clientId && !env[`${setting}__clientId`]) env[`${setting}__clientId`] = clientId;
  });
}

let expandedFrom: string | undefined;
/** The storage setting of shard k, with the listed accounts expanded first. */
export function resolvedShardSetting(k: number): string {
  if (k > 0 && process.env[SHARD_ACCOUNTS_SETTING] !== expandedFrom) {
    expandShardAccounts();
    expandedFrom = process.env[SHARD_ACCOUNTS_SETTING];
  }
  return shardSetting(k);
}

/** A per-user table in the account that holds this user's rows (created once per process). */
export async function userTable(tableName: string, principal: string): Promise<TableClient> {
  return await table(tableName, resolvedShardSetting(shardOf(principal)));
}

/** The same per-user table in every account, shard 0 first: for work that visits every user. */
export async function everyShard(tableName: string): Promise<TableClient[]> {
  return await Promise.all(
    Array.from({ length: shardCount() }, async (_, k) => await table(tableName, resolvedShardSetting(k))),
  );
}
