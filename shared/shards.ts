/**
 * Storage shards (issue 38; docs/scale.md, "Shard across storage accounts"): one storage account
 * serves 20,000 requests/s, about 150,000 users with the spread timers, so a million users need
 * several. A user's rows of the per-user tables, and the messages of the queues that carry one
 * user's work, live in one account chosen by a hash of the **owner** (the platform user id: every
 * Microsoft account of a user, `{userId}~{account}`, lands with the user, so the user's change
 * feed and audit stay one partition in one account).
 *
 * Shard 0 is `AzureWebJobsStorage` (the Functions host's own account: every table keyed by
 * something other than a user, and the queues whose messages are not one user's); shard k is the
 * storage setting `STORAGE_SHARD_{k}`, a connection string or, with managed identity,
 * `STORAGE_SHARD_{k}__tableServiceUri` and `__queueServiceUri` (the queue triggers' connection:
 * the Functions host reads those, https://learn.microsoft.com/azure/azure-functions/
 * functions-reference#common-properties-for-identity-based-connections) with `__credential` and
 * `__clientId`. `STORAGE_SHARDS` is how many there are (default 1: everything in
 * AzureWebJobsStorage, as before).
 *
 * The shard of a user is a jump consistent hash (Lamping & Veach, 2014,
 * https://arxiv.org/abs/1406.2294) of the owner: stable for a given count, and growing the count
 * from n to n+1 moves only 1/(n+1) of the users (whose rows must then be copied: docs/scale.md).
 *
 * This module only decides where; the clients are in ./storage/clients.ts (`userTable`, `everyShard`,
 * `enqueue`).
 */
import { createHash } from 'node:crypto';

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

/**
 * The tables keyed by user (partition = the user or one of their principals, `{userId}~…`), each
 * in its user's account (./storage/clients.ts `userTable`). The feed ticks (partition = the second) are
 * per user too, but live ten minutes and are never moved. Rows that stay in shard 0 although
 * their table is here: the subscription lookup rows (`sub-{id}` / `lookup`), found by a
 * notification before its user is known.
 */
export const USER_TABLES: readonly string[] = [
  'connections',
  'syncstate',
  'syncreruns',
  'items',
  'changes',
  'audit',
  'idempotency',
  'subscriptions',
  'accounts',
  'sendpolicies',
  'sendconfirmations',
  'heldsends',
  'feedhealth',
  'eventcursors',
  'mcpgrants',
  'mcpsubscriptions',
  'feedticks',
];

/** A row of a per-user table that belongs to no user's account (see USER_TABLES). */
export function isHomeRow(tableName: string, partitionKey: string, rowKey: string): boolean {
  return tableName === 'subscriptions' && partitionKey.startsWith('sub-') && rowKey === 'lookup';
}

/**
 * The queues whose every message is one user's work (it names the user: `userId`): each account
 * has its own, and the function that serves one is registered once per account
 * (shared/runtime/register.ts), so a user's jobs go through the user's account. The others
 * (graph-notifications: a batch of several users' notifications, resolved after dequeue;
 * m365-changes: the platform's one feed queue) stay in shard 0.
 */
export const USER_QUEUES: ReadonlySet<string> = new Set([
  'sync-jobs',
  'subscription-renewals',
  'token-maintenance',
  'sync-retention',
  'm365-events',
  'held-sends',
]);

/**
 * The queues whose every message is one account's work (it names the shard: `shard`): the timers'
 * per-account fan-out (shared/fanout.ts), one message per account into that account's queue.
 */
export const SHARD_QUEUES: ReadonlySet<string> = new Set(['timer-fanout']);

/** The storage setting of the account a queue message goes to. */
export function queueSettingFor(queueName: string, message: unknown): string {
  if (SHARD_QUEUES.has(queueName)) {
    const shard = (message as { shard?: unknown } | null)?.shard;
    if (typeof shard !== 'number' || !Number.isInteger(shard) || shard < 0 || shard >= shardCount())
      throw new Error(`${queueName} carries one storage account's work: its messages must name the shard`);
    return shardSetting(shard);
  }
  if (!USER_QUEUES.has(queueName)) return HOME_SETTING;
  const userId = (message as { userId?: unknown } | null)?.userId;
  if (typeof userId !== 'string' || !userId)
    throw new Error(`${queueName} carries one user's work: its messages must name the user (userId)`);
  return shardSetting(shardOf(userId));
}

/** What a queue-triggered function's registration needs to be copied per account. */
interface QueueRegistration {
  name: string;
  queueName: string;
  connection: string;
}

/**
 * The same function for shards 1 … n-1 of a user or shard queue (`{name}Shard{k}`, connection
 * STORAGE_SHARD_k): every account's queue has a function draining it. None for other queues.
 */
export function shardCopies<T extends QueueRegistration>(
  spec: T,
  count = shardCount(),
): Array<T & { shard: number }> {
  const perAccount = USER_QUEUES.has(spec.queueName) || SHARD_QUEUES.has(spec.queueName);
  if (!perAccount || spec.connection !== HOME_SETTING) return [];
  return Array.from({ length: count - 1 }, (_, i) => ({
    ...spec,
    name: `${spec.name}Shard${i + 1}`,
    connection: shardSetting(i + 1),
    shard: i + 1,
  }));
}
