/**
 * Growing the storage shards from `from` to `to` accounts (docs/scale.md, "Growing the shards";
 * `npm run reshard`). The jump hash moves only the users whose shard changes, 1/(n+1) of them per
 * added account, always into the new accounts; their rows must be copied there before the app
 * runs with the new count, or they would look disconnected.
 *
 * Run it with the app stopped (no writer may race the copy) and every account's setting present
 * (STORAGE_SHARD_k for k below `to`). For each old account and per-user table it reads the rows,
 * and for each partition whose owner now belongs elsewhere it writes the partition into the new
 * account (upserts in entity-group transactions of up to 100) and then deletes it from the old
 * one. Copy before delete: a run stopped midway leaves both copies, and running it again
 * finishes the job (it is idempotent); a finished run moves nothing the second time. The feed
 * ticks (ten-minute signals) are not moved. Queued messages need nothing: every account's queues
 * keep their functions, and a job reads its user's rows wherever the new count puts them.
 */
import type { TableClient, TableEntityResult, TransactionAction } from '@azure/data-tables';
import { table } from './clients';
import { isHomeRow, MAX_SHARDS, ownerOf, shardOf, shardSetting, USER_TABLES } from '../shards';

export interface ReshardReport {
  /** Users whose rows moved. */
  users: number;
  /** Rows moved, by table. */
  rows: Record<string, number>;
}

type Row = TableEntityResult<Record<string, unknown>>;

const BATCH = 100;

/** The row as written back: its keys and properties, not the service's metadata. */
function entityOf(row: Row): { partitionKey: string; rowKey: string } & Record<string, unknown> {
  const { etag: _etag, timestamp: _timestamp, ...rest } = row;
  for (const key of Object.keys(rest)) if (key.startsWith('odata.')) delete rest[key];
  return rest as { partitionKey: string; rowKey: string } & Record<string, unknown>;
}

async function inBatches(client: TableClient, actions: TransactionAction[]): Promise<void> {
  for (let i = 0; i < actions.length; i += BATCH) await client.submitTransaction(actions.slice(i, i + BATCH));
}

/** Moves one partition (all of one user's rows of a table) from one account to another. */
async function movePartition(source: TableClient, target: TableClient, rows: Row[]): Promise<void> {
  await inBatches(
    target,
    rows.map((r): TransactionAction => ['upsert', entityOf(r), 'Replace']),
  );
  await inBatches(
    source,
    rows.map((r): TransactionAction => ['delete', { partitionKey: r.partitionKey!, rowKey: r.rowKey! }]),
  );
}

export async function reshard(
  from: number,
  to: number,
  log: (line: string) => void = () => undefined,
): Promise<ReshardReport> {
  if (!Number.isInteger(from) || !Number.isInteger(to) || from < 1 || to <= from || to > MAX_SHARDS)
    throw new Error(
      `reshard grows the count: from 1 … ${MAX_SHARDS - 1} to a larger count up to ${MAX_SHARDS}`,
    );
  // Every account must answer before anything moves: a missing or unreachable new account would
  // otherwise surface halfway, or not at all when no partition happens to go there.
  for (let k = 0; k < to; k++) {
    try {
      await table(USER_TABLES[0]!, shardSetting(k));
    } catch (err) {
      throw new Error(
        `${shardSetting(k)} (account ${k} of ${to}) cannot be reached: ${(err as Error).message.split('\n')[0]}`,
      );
    }
  }
  const users = new Set<string>();
  const rows: Record<string, number> = {};
  for (let k = 0; k < from; k++) {
    for (const tableName of USER_TABLES) {
      if (tableName === 'feedticks') continue;
      const source = await table(tableName, shardSetting(k));
      // Rows come in partition order: one partition is gathered, moved, then the next.
      let partition: Row[] = [];
      const flush = async () => {
        const first = partition[0];
        if (!first) return;
        const owner = ownerOf(first.partitionKey!);
        const target = shardOf(owner, to);
        const moving = partition.filter((r) => !isHomeRow(tableName, r.partitionKey!, r.rowKey!));
        partition = [];
        if (target === k || moving.length === 0) return;
        await movePartition(source, await table(tableName, shardSetting(target)), moving);
        users.add(owner);
        rows[tableName] = (rows[tableName] ?? 0) + moving.length;
      };
      for await (const row of source.listEntities<Record<string, unknown>>()) {
        if (partition[0] && partition[0].partitionKey !== row.partitionKey) await flush();
        partition.push(row);
      }
      await flush();
      if (rows[tableName]) log(`${tableName}: ${rows[tableName]} rows moved from shard ${k}`);
    }
  }
  return { users: users.size, rows };
}
