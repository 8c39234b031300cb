/**
 * The change feed: the `changes` table (partition = user id) and the `m365-changes` queue.
 *
 * Sequence numbers: one counter row per user (`counter`) and the entries it numbers are written in
 * ONE entity-group transaction (same partition): the counter update is conditional on its ETag,
 * so concurrent writers (two resources of one user syncing at once) serialise, and an entry
 * becomes visible only together with the counter that numbered it. Entry n+1 can therefore never
 * be visible before entry n, and `after=<seq>` is a stable cursor: a reader never skips an entry
 * that commits later with a smaller number. Rows: `s:<seq, zero-padded>`.
 *
 * Exactly once: every entry has a deterministic dedupe key (resource, item id, type and the
 * item's version), stored as a marker row `d:<hash>` in the same transaction as the entry. A
 * replayed page (a round that died between writing the feed and saving the index) finds the
 * markers and writes nothing new. Queue pushes are at least once: an entry is marked `pushed`
 * after its message is sent, and a replay re-sends entries that never got marked; consumers
 * dedupe on (userId, seq).
 *
 * Summaries are the user's own data: stored here (exported and erased with the user's data),
 * never logged.
 */
import { createHash } from 'node:crypto';
import type { TableClient, TableEntityResult, TransactionAction } from '@azure/data-tables';
import { listAccounts, splitPrincipal } from '../storage/accounts';
import { deleteRows, enqueue, userTable } from '../storage/clients';
import { str, type Summary } from './resources';

export const CHANGES_TABLE = 'changes';
export const CHANGES_QUEUE = 'm365-changes';
const COUNTER = 'counter';
/** Entry + marker per change, plus the counter: 49 changes fill a 100-operation transaction. */
const PER_TX = 49;
const TX_MAX = 100;
const SEQ_DIGITS = 15;

/** The services of feed entries (a query may ask for one). */
export const FEED_SERVICES = [
  'mail',
  'calendar',
  'files',
  'contacts',
  'todo',
  'sharepoint',
  'teams',
  'planner',
  'connection',
  // Connection events about the feed itself (shared/webhooks/silence.ts).
  'feed',
  'subscription',
  'sync',
] as const;
export type FeedService = (typeof FEED_SERVICES)[number];
export type ChangeType =
  | 'created'
  | 'updated'
  | 'deleted'
  | 'reauth_required'
  | 'connected'
  | 'degraded'
  | 'recovered'
  | 'lost'
  | 'gap_recovered';

export interface ChangeEntry {
  seq: number;
  service: FeedService;
  resource: string;
  id: string;
  type: ChangeType;
  at: string;
  summary: Summary | null;
  /** The account of a user's other Microsoft account (shared/storage/accounts.ts); absent for the first. */
  account?: string;
}

export interface NewChange {
  service: FeedService;
  resource: string;
  id: string;
  type: ChangeType;
  summary: Summary | null;
  /** Identifies this change: the same key is never written twice. */
  dedupe: string;
}

const seqKey = (seq: number): string => `s:${String(seq).padStart(SEQ_DIGITS, '0')}`;
const markerKey = (dedupe: string): string =>
  `d:${createHash('sha256').update(dedupe, 'utf8').digest('base64url').slice(0, 43)}`;
const statusOf = (err: unknown): number | undefined => (err as { statusCode?: number }).statusCode;
const q = (v: string): string => v.replace(/'/g, "''");

/** The dedupe key of an item change: resource, id, type and the version that caused it. */
export function changeKeyOf(resource: string, id: string, type: ChangeType, version: string): string {
  return JSON.stringify([resource, id, type, version]);
}

function entryFromRow(row: TableEntityResult<Record<string, unknown>>): ChangeEntry {
  let summary: Summary | null = null;
  try {
    summary = str(row.summary) ? (JSON.parse(str(row.summary)) as Summary) : null;
  } catch {
    summary = null;
  }
  return {
    seq: Number(row.seq),
    service: row.service as FeedService,
    resource: str(row.resource),
    id: str(row.itemId),
    type: row.type as ChangeType,
    at: str(row.at),
    summary,
    ...(str(row.account) ? { account: str(row.account) } : {}),
  };
}

async function readCounter(client: TableClient, userId: string): Promise<{ seq: number; etag?: string }> {
  try {
    const row = await client.getEntity<{ seq?: number }>(userId, COUNTER);
    return { seq: Number(row.seq ?? 0), etag: row.etag };
  } catch (err) {
    if (statusOf(err) === 404) return { seq: 0 };
    throw err;
  }
}

/** Which of these markers exist already, with the seq of the entry each one belongs to. */
async function existingMarkers(
  client: TableClient,
  userId: string,
  keys: readonly string[],
): Promise<Map<string, number>> {
  const found = new Map<string, number>();
  let next = 0;
  const worker = async () => {
    while (next < keys.length) {
      const key = keys[next++]!;
      try {
        const row = await client.getEntity<{ seq?: number }>(userId, key);
        found.set(key, Number(row.seq));
      } catch (err) {
        if (statusOf(err) !== 404) throw err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(16, keys.length) }, worker));
  return found;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Commits one chunk (≤ 49 changes) with the next sequence numbers; retries on counter races. */
async function commitChunk(
  client: TableClient,
  userId: string,
  chunk: Array<{ change: NewChange; marker: string }>,
  now: () => string,
  account: string,
): Promise<ChangeEntry[]> {
  let pending = chunk;
  for (let attempt = 0; attempt < 30 && pending.length > 0; attempt++) {
    const counter = await readCounter(client, userId);
    const at = now();
    const entries: ChangeEntry[] = pending.map(({ change }, i) => ({
      seq: counter.seq + i + 1,
      service: change.service,
      resource: change.resource,
      id: change.id,
      type: change.type,
      at,
      summary: change.summary,
      ...(account ? { account } : {}),
    }));
    const last = counter.seq + pending.length;
    const actions: TransactionAction[] = [
      counter.etag
        ? ['update', { partitionKey: userId, rowKey: COUNTER, seq: last }, 'Replace', { etag: counter.etag }]
        : ['create', { partitionKey: userId, rowKey: COUNTER, seq: last }],
    ];
    pending.forEach(({ marker }, i) => {
      const e = entries[i]!;
      actions.push([
        'create',
        {
          partitionKey: userId,
          rowKey: seqKey(e.seq),
          seq: e.seq,
          service: e.service,
          resource: e.resource,
          itemId: e.id,
          type: e.type,
          at: e.at,
          summary: e.summary ? JSON.stringify(e.summary) : '',
          ...(account ? { account } : {}),
          marker,
          pushed: false,
        },
      ]);
      actions.push(['create', { partitionKey: userId, rowKey: marker, seq: e.seq }]);
    });
    try {
      await client.submitTransaction(actions);
      return entries;
    } catch (err) {
      const status = statusOf(err);
      if (status !== 409 && status !== 412 && status !== 400) throw err;
      // Another writer moved the counter, or one of our markers exists (a concurrent replay):
      // drop what is already written and try again with a fresh counter.
      const existing = await existingMarkers(
        client,
        userId,
        pending.map((p) => p.marker),
      );
      pending = pending.filter((p) => !existing.has(p.marker));
      await sleep(5 + Math.random() * 20 * (attempt + 1));
    }
  }
  if (pending.length > 0) throw new Error('Could not append to the change feed (too much contention)');
  return [];
}

type PushListener = (userId: string, entries: readonly ChangeEntry[]) => Promise<void>;
const pushListeners: PushListener[] = [];

/**
 * Runs after new entries are queued, before they are marked pushed: a listener that fails leaves
 * them unpushed, so the next append (or a replayed round) pushes them, and tells it, again.
 */
export function onPushed(listener: PushListener): void {
  if (!pushListeners.includes(listener)) pushListeners.push(listener);
}

async function push(client: TableClient, userId: string, entries: readonly ChangeEntry[]): Promise<void> {
  // One message per entry, sent together (a queue keeps no order anyway: consumers sort by seq).
  await Promise.all(entries.map((e) => enqueue(CHANGES_QUEUE, { userId, ...e })));
  for (const listener of pushListeners) await listener(userId, entries);
  for (let i = 0; i < entries.length; i += TX_MAX) {
    await client.submitTransaction(
      entries
        .slice(i, i + TX_MAX)
        .map((e) => ['update', { partitionKey: userId, rowKey: seqKey(e.seq), pushed: true }, 'Merge']),
    );
  }
}

/**
 * Appends changes to the user's feed, skipping any already written (by dedupe key), and pushes
 * the new ones (and earlier ones whose push never completed) to the `m365-changes` queue.
 * Returns the entries written now.
 */
export async function appendChanges(
  principal: string,
  changes: readonly NewChange[],
  now: () => string = () => new Date().toISOString(),
): Promise<ChangeEntry[]> {
  if (changes.length === 0) return [];
  // One feed per user: another account's changes land in it naming the account.
  const { owner: userId, ref: account } = splitPrincipal(principal);
  const client = await userTable(CHANGES_TABLE, userId);
  const unique = new Map<string, NewChange>();
  for (const c of changes) unique.set(markerKey(account ? `${account}|${c.dedupe}` : c.dedupe), c);
  const existing = await existingMarkers(client, userId, [...unique.keys()]);

  // Replayed changes whose push never completed go out again.
  const unpushed: ChangeEntry[] = [];
  for (const seq of existing.values()) {
    try {
      const row = await client.getEntity<Record<string, unknown>>(userId, seqKey(seq));
      if (row.pushed !== true) unpushed.push(entryFromRow(row));
    } catch (err) {
      if (statusOf(err) !== 404) throw err; // purged by retention: nothing to push
    }
  }
  if (unpushed.length) await push(client, userId, unpushed);

  const fresh = [...unique.entries()]
    .filter(([marker]) => !existing.has(marker))
    .map(([marker, change]) => ({ change, marker }));
  const written: ChangeEntry[] = [];
  for (let i = 0; i < fresh.length; i += PER_TX) {
    const entries = await commitChunk(client, userId, fresh.slice(i, i + PER_TX), now, account);
    await push(client, userId, entries);
    written.push(...entries);
  }
  return written;
}

/**
 * A connection event (connected, reauth_required, feed degraded, subscription lost, ...) as a
 * feed entry, and so an outbound event: one entry per occurrence (`occurrence` defaults to now).
 */
export async function appendEvent(
  userId: string,
  event: {
    service: FeedService;
    resource: string;
    type: ChangeType;
    summary: Record<string, unknown>;
    /** The entry's item id (default: the resource). */
    id?: string;
    occurrence?: string;
  },
): Promise<void> {
  const { service, resource, type, summary } = event;
  const occurrence = event.occurrence ?? new Date().toISOString();
  await appendChanges(userId, [
    {
      service,
      resource,
      id: event.id ?? resource,
      type,
      summary,
      dedupe: JSON.stringify([service, resource, type, occurrence]),
    },
  ]);
}

export interface FeedPage {
  items: ChangeEntry[];
  /** Pass as `after` to read on; stays at `after` when nothing new arrived. */
  nextCursor: string;
  hasMore: boolean;
}

/** Entries after a sequence number, oldest first. */
export async function listChanges(
  userId: string,
  options: { after?: number; limit?: number; service?: FeedService } = {},
): Promise<FeedPage> {
  const client = await userTable(CHANGES_TABLE, userId);
  const after = options.after ?? 0;
  const limit = options.limit ?? 100;
  let filter = `PartitionKey eq '${q(userId)}' and RowKey gt '${seqKey(after)}' and RowKey lt 's;'`;
  if (options.service) filter += ` and service eq '${q(options.service)}'`;
  const items: ChangeEntry[] = [];
  let hasMore = false;
  const pages = client
    .listEntities<Record<string, unknown>>({ queryOptions: { filter } })
    .byPage({ maxPageSize: Math.min(1000, limit + 1) });
  outer: for await (const page of pages) {
    for (const row of page) {
      if (items.length === limit) {
        hasMore = true;
        break outer;
      }
      items.push(entryFromRow(row));
    }
  }
  const last = items.at(-1)?.seq ?? after;
  return { items, nextCursor: String(last), hasMore };
}

/** An entry as callers see it: with several accounts connected, each names its account. */
export type NamedEntry = Omit<ChangeEntry, 'account'> & { account?: { id: string; username: string } };

/**
 * Names the account of each entry when the user has connected more than one (entries of the
 * user's own principal carry no account id: they are the first account's).
 */
export async function nameAccounts(userId: string, entries: readonly ChangeEntry[]): Promise<NamedEntry[]> {
  const { accounts } = await listAccounts(userId);
  if (accounts.length < 2) return entries.map(({ account: _a, ...rest }) => rest);
  const own = accounts.find((a) => a.principal === userId);
  return entries.map(({ account, ...rest }) => {
    const found = account ? accounts.find((a) => a.id === account) : own;
    return found ? { ...rest, account: { id: found.id, username: found.username } } : rest;
  });
}

/** The last sequence number handed out for the user (0 before the first entry). */
export async function latestSeq(userId: string): Promise<number> {
  return (await readCounter(await userTable(CHANGES_TABLE, userId), userId)).seq;
}

/** Deletes entries (and their markers) older than the cutoff; the counter stays. */
export async function purgeChanges(userId: string, cutoffIso: string): Promise<number> {
  const client = await userTable(CHANGES_TABLE, userId);
  const rows = client.listEntities<Record<string, unknown>>({
    queryOptions: {
      filter: `PartitionKey eq '${q(userId)}' and RowKey gt 's:' and RowKey lt 's;' and at lt '${q(cutoffIso)}'`,
    },
  });
  let batch: string[] = [];
  let n = 0;
  const flush = async () => {
    if (batch.length === 0) return;
    await deleteRows(client, userId, batch);
    batch = [];
  };
  for await (const row of rows) {
    batch.push(row.rowKey ?? '');
    if (typeof row.marker === 'string' && row.marker) batch.push(row.marker);
    n++;
    if (batch.length >= TX_MAX - 1) await flush();
  }
  await flush();
  return n;
}

export async function exportChanges(userId: string): Promise<ChangeEntry[]> {
  const out: ChangeEntry[] = [];
  let after = 0;
  for (;;) {
    const page = await listChanges(userId, { after, limit: 1000 });
    out.push(...page.items);
    if (!page.hasMore) return out;
    after = Number(page.nextCursor);
  }
}

/**
 * Erases a principal's entries: the whole partition (entries, markers, counter) for the user's
 * own principal when no other account is connected, else only that account's entries and markers.
 */
export async function eraseChanges(principal: string): Promise<number> {
  const { owner, ref } = splitPrincipal(principal);
  if (ref || (await listAccounts(owner)).accounts.some((a) => a.principal !== owner))
    return await eraseAccountEntries(owner, ref);
  return await eraseWholeFeed(owner);
}

async function eraseAccountEntries(userId: string, account: string): Promise<number> {
  const client = await userTable(CHANGES_TABLE, userId);
  const rows = client.listEntities<Record<string, unknown>>({
    queryOptions: { filter: `PartitionKey eq '${q(userId)}' and RowKey gt 's:' and RowKey lt 's;'` },
  });
  let batch: string[] = [];
  let n = 0;
  for await (const row of rows) {
    if (str(row.account) !== account) continue;
    batch.push(row.rowKey ?? '');
    if (typeof row.marker === 'string' && row.marker) batch.push(row.marker);
    n++;
    if (batch.length >= TX_MAX - 1) {
      await deleteRows(client, userId, batch);
      batch = [];
    }
  }
  await deleteRows(client, userId, batch);
  return n;
}

async function eraseWholeFeed(userId: string): Promise<number> {
  const client = await userTable(CHANGES_TABLE, userId);
  const rows = client.listEntities<Record<string, unknown>>({
    queryOptions: { filter: `PartitionKey eq '${q(userId)}'` },
  });
  let batch: string[] = [];
  let n = 0;
  for await (const row of rows) {
    batch.push(row.rowKey ?? '');
    if (row.rowKey?.startsWith('s:')) n++;
    if (batch.length >= TX_MAX) {
      await deleteRows(client, userId, batch);
      batch = [];
    }
  }
  await deleteRows(client, userId, batch);
  return n;
}
