/**
 * How a push stream learns that its user has new feed entries, at a cost per instance rather
 * than per stream: every feed push writes one "tick" row (table `feedticks`, partition = the
 * second it happened, row = the user, value = the last seq), and ONE poller per instance reads the
 * ticks of the last few seconds every POLL_MS and wakes the local streams of those users. Fifty
 * open streams cost the same storage reads as one (the first version polled each user's counter
 * per stream: bench/results.md, "push latency"). The ticks of other instances' writes are in
 * storage, so any instance's streams hear of any instance's entries. Ticks older than ten minutes
 * are deleted now and then by whoever writes or reads them. With storage shards a tick is written
 * in its user's shard (no account carries every user's ticks) and the poller reads every shard:
 * one query per shard and poll, still per instance, not per stream.
 */
import { createHash } from 'node:crypto';
import type { TableClient } from '@azure/data-tables';
import { registerUserData } from '../privacy';
import { everyShard, userTable } from '../storage/clients';

export const TICKS_TABLE = 'feedticks';
export const POLL_MS = 250;
/** Ticks are read back this far (instances' clocks differ a little; a write may land late). */
const LOOKBACK_MS = 3000;
const KEEP_MS = 10 * 60_000;
const CLEANUP_EVERY_MS = 60_000;

let lastCleanup = 0;

/** Ticks name the user by a hash: they need no user id, and live only minutes. */
const userKey = (userId: string) => createHash('sha256').update(userId).digest('base64url').slice(0, 32);

const bucket = (ms: number) => String(Math.floor(ms / 1000)).padStart(12, '0');

/** After a feed push (shared/sync/feed.ts onPushed): one row per user and second. */
export async function recordTick(userId: string, seq: number): Promise<void> {
  const client = await userTable(TICKS_TABLE, userId);
  await client.upsertEntity({ partitionKey: bucket(Date.now()), rowKey: userKey(userId), seq }, 'Merge');
  // Writers clean up too (now and then, in the background), so ticks never pile up.
  if (Date.now() - lastCleanup > CLEANUP_EVERY_MS) {
    lastCleanup = Date.now();
    void cleanup(client).catch(() => undefined);
  }
}

type Listener = (seq: number) => void;
const listeners = new Map<string, Set<Listener>>();
const seen = new Map<string, number>();
let timer: NodeJS.Timeout | undefined;

async function cleanup(client: TableClient): Promise<void> {
  const cutoff = bucket(Date.now() - KEEP_MS);
  for await (const row of client.listEntities({
    queryOptions: { filter: `PartitionKey lt '${cutoff}'`, select: ['PartitionKey', 'RowKey'] },
  })) {
    await client.deleteEntity(String(row.partitionKey), String(row.rowKey)).catch(() => undefined);
  }
}

async function poll(): Promise<void> {
  const shards = await everyShard(TICKS_TABLE);
  const since = bucket(Date.now() - LOOKBACK_MS);
  await Promise.all(shards.map(async (client) => await pollShard(client, since)));
  if (Date.now() - lastCleanup > CLEANUP_EVERY_MS) {
    lastCleanup = Date.now();
    for (const client of shards) await cleanup(client);
  }
}

async function pollShard(client: TableClient, since: string): Promise<void> {
  for await (const row of client.listEntities<{ seq?: number }>({
    queryOptions: { filter: `PartitionKey ge '${since}'` },
  })) {
    const key = String(row.rowKey);
    const seq = Number(row.seq ?? 0);
    const wanted = listeners.get(key);
    if (!wanted || seq <= (seen.get(key) ?? 0)) continue;
    seen.set(key, seq);
    for (const listener of wanted) listener(seq);
  }
}

function schedule(): void {
  if (timer || listeners.size === 0) return;
  timer = setTimeout(() => {
    void poll()
      .catch(() => undefined)
      .finally(() => {
        timer = undefined;
        schedule();
      });
  }, POLL_MS);
  timer.unref?.();
}

/** Calls `listener` when the user's feed moves on; returns the function that stops it. */
export function watchUser(userId: string, listener: Listener): () => void {
  const key = userKey(userId);
  const set = listeners.get(key) ?? new Set();
  set.add(listener);
  listeners.set(key, set);
  schedule();
  return () => {
    set.delete(listener);
    if (set.size === 0) {
      listeners.delete(key);
      seen.delete(key);
    }
  };
}

registerUserData({
  name: 'feedTicks',
  export: async () => [],
  async erase(userId) {
    const client = await userTable(TICKS_TABLE, userId);
    let n = 0;
    for await (const row of client.listEntities({
      queryOptions: { filter: `RowKey eq '${userKey(userId)}'`, select: ['PartitionKey', 'RowKey'] },
    })) {
      await client.deleteEntity(String(row.partitionKey), String(row.rowKey)).catch(() => undefined);
      n++;
    }
    return n;
  },
});
