/**
 * The `items` index: what we last saw of every synced item, so each delta entry can be classified
 * as created, updated or deleted (reference §5.1 item 4: entries can repeat and arrive in any
 * order, so merging must be idempotent). Partition = user id + resource, row = item id; a row
 * holds the item's version (changeKey / eTag), a deleted flag (tombstone), the summary of its
 * last state (so a deletion can say what went), and the stamp of the full-sync round that last
 * saw it (items a full resync didn't see are gone).
 */
import type { TableClient, TableEntityResult, TransactionAction } from '@azure/data-tables';
import { decodeOrRaw } from '../http/url';
import { deleteRows, userTable } from '../storage/clients';
import { str, type Summary } from './resources';

export const ITEMS_TABLE = 'items';
const READ_CONCURRENCY = 16;
const TX_MAX = 100;

export interface IndexedItem {
  id: string;
  version: string;
  deleted: boolean;
  summary: Summary;
  /** Stamp of the last round that saw the item (full syncs reconcile with it). */
  seenIn: string;
  seenAt: string;
}

/** `user~resource`: user ids never contain '~' (shared/http/caller.ts), so a user's partitions share a prefix. */
export function partitionOf(userId: string, resource: string): string {
  return `${userId}~${encodeURIComponent(resource)}`;
}
const rowKeyOf = (id: string): string => encodeURIComponent(id);
const statusOf = (err: unknown): number | undefined => (err as { statusCode?: number }).statusCode;

function fromRow(row: TableEntityResult<Record<string, unknown>>): IndexedItem {
  let summary: Summary = {};
  try {
    summary = JSON.parse(str(row.summary) || '{}') as Summary;
  } catch {
    summary = {};
  }
  return {
    id: decodeOrRaw(row.rowKey ?? ''),
    version: str(row.version),
    deleted: row.deleted === true,
    summary,
    seenIn: str(row.seenIn),
    seenAt: str(row.seenAt),
  };
}

/** Reads the index rows for these ids (point reads, a few at a time). */
export async function getIndexed(
  userId: string,
  resource: string,
  ids: readonly string[],
): Promise<Map<string, IndexedItem>> {
  const client = await userTable(ITEMS_TABLE, userId);
  const pk = partitionOf(userId, resource);
  const out = new Map<string, IndexedItem>();
  let next = 0;
  const worker = async () => {
    while (next < ids.length) {
      const id = ids[next++]!;
      try {
        out.set(id, fromRow(await client.getEntity<Record<string, unknown>>(pk, rowKeyOf(id))));
      } catch (err) {
        if (statusOf(err) !== 404) throw err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(READ_CONCURRENCY, ids.length) }, worker));
  return out;
}

/**
 * Writes index rows in transactions of 100 (one partition per resource). With `fresh` (a
 * baseline: rows for these ids are not expected) they are inserts, which cost storage one lookup
 * per row instead of an upsert's two; a chunk that finds a row already there (a baseline resumed
 * after a crash) fails as a whole (409) and is written again as upserts.
 */
export async function putIndexed(
  userId: string,
  resource: string,
  items: readonly IndexedItem[],
  options: { fresh?: boolean } = {},
): Promise<void> {
  if (items.length === 0) return;
  const client = await userTable(ITEMS_TABLE, userId);
  const pk = partitionOf(userId, resource);
  for (let i = 0; i < items.length; i += TX_MAX) {
    const entities = items.slice(i, i + TX_MAX).map((item) => ({
      partitionKey: pk,
      rowKey: rowKeyOf(item.id),
      version: item.version,
      deleted: item.deleted,
      summary: JSON.stringify(item.summary),
      seenIn: item.seenIn,
      seenAt: item.seenAt,
    }));
    if (options.fresh) {
      try {
        await client.submitTransaction(entities.map((e): TransactionAction => ['create', e]));
        continue;
      } catch (err) {
        if (statusOf(err) !== 409) throw err;
      }
    }
    await client.submitTransaction(entities.map((e): TransactionAction => ['upsert', e, 'Replace']));
  }
}

/** Live items a full resync did not see (streamed page by page). */
export async function* unseenItems(
  userId: string,
  resource: string,
  stamp: string,
): AsyncGenerator<IndexedItem> {
  const client = await userTable(ITEMS_TABLE, userId);
  const pk = partitionOf(userId, resource).replace(/'/g, "''");
  const rows = client.listEntities<Record<string, unknown>>({
    queryOptions: {
      filter: `PartitionKey eq '${pk}' and deleted eq false and seenIn ne '${stamp.replace(/'/g, "''")}'`,
    },
  });
  for await (const row of rows) yield fromRow(row);
}

/** Every index row of one (user, resource). */
export async function* allIndexed(userId: string, resource: string): AsyncGenerator<IndexedItem> {
  const client = await userTable(ITEMS_TABLE, userId);
  const pk = partitionOf(userId, resource).replace(/'/g, "''");
  const rows = client.listEntities<Record<string, unknown>>({
    queryOptions: { filter: `PartitionKey eq '${pk}'` },
  });
  for await (const row of rows) yield fromRow(row);
}

/** Every index row of a user, across resources (export), with the resource it belongs to. */
async function* userRows(userId: string): AsyncGenerator<TableEntityResult<Record<string, unknown>>> {
  const client = await userTable(ITEMS_TABLE, userId);
  const low = `${userId}~`.replace(/'/g, "''");
  const high = `${userId}\u007f`.replace(/'/g, "''");
  const rows = client.listEntities<Record<string, unknown>>({
    queryOptions: { filter: `PartitionKey ge '${low}' and PartitionKey lt '${high}'` },
  });
  for await (const row of rows) yield row;
}

export async function exportIndexed(userId: string): Promise<Array<IndexedItem & { resource: string }>> {
  const out: Array<IndexedItem & { resource: string }> = [];
  for await (const row of userRows(userId)) {
    out.push({
      resource: decodeOrRaw((row.partitionKey ?? '').slice(userId.length + 1)),
      ...fromRow(row),
    });
  }
  return out;
}

/** Deletes the rows `source` lists, in transactions of up to TX_MAX rows of one partition. */
async function deleteListed(
  client: TableClient,
  source: AsyncIterable<{ partitionKey?: string; rowKey?: string }>,
): Promise<number> {
  let n = 0;
  let batch: { pk: string; rows: string[] } | undefined;
  const flush = async () => {
    if (!batch || batch.rows.length === 0) return;
    await deleteRows(client, batch.pk, batch.rows);
    batch = undefined;
  };
  for await (const row of source) {
    const pk = row.partitionKey ?? '';
    if (batch && (batch.pk !== pk || batch.rows.length >= TX_MAX)) await flush();
    batch ??= { pk, rows: [] };
    batch.rows.push(row.rowKey ?? '');
    n++;
  }
  await flush();
  return n;
}

/** Deletes index rows: every resource of a user, or one resource. */
export async function eraseIndexed(userId: string, resource?: string): Promise<number> {
  const client = await userTable(ITEMS_TABLE, userId);
  const source =
    resource === undefined
      ? userRows(userId)
      : (async function* () {
          const pk = partitionOf(userId, resource).replace(/'/g, "''");
          yield* client.listEntities<Record<string, unknown>>({
            queryOptions: { filter: `PartitionKey eq '${pk}'` },
          });
        })();
  return await deleteListed(client, source);
}

/** Drops tombstones (deleted rows) last touched before the cutoff, across the user's resources. */
export async function purgeTombstones(userId: string, cutoffIso: string): Promise<number> {
  const client = await userTable(ITEMS_TABLE, userId);
  const low = `${userId}~`.replace(/'/g, "''");
  const high = `${userId}\u007f`.replace(/'/g, "''");
  const rows = client.listEntities<Record<string, unknown>>({
    queryOptions: {
      filter: `PartitionKey ge '${low}' and PartitionKey lt '${high}' and deleted eq true and seenAt lt '${cutoffIso.replace(/'/g, "''")}'`,
    },
  });
  return await deleteListed(client, rows);
}
