/**
 * Reading the app's tables directly, as an operator would, across every storage account it uses
 * (shard 0 and the shards of shared/shards.ts): erase tests scan for anything left of a
 * user, others read or plant one row where the product keeps it.
 */
import { TableClient, TableServiceClient } from '@azure/data-tables';
import { isHomeRow } from '../../shared/shards';
import type { TestApp } from './app';

/** A table of one account (Azurite speaks plain HTTP). */
export function tableIn(storage: string, name: string): TableClient {
  return TableClient.fromConnectionString(storage, name, { allowInsecureConnection: true });
}

/** A per-user table in the account that holds this user's rows. */
export function userTableOf(t: TestApp, name: string, principal: string): TableClient {
  return tableIn(t.storageOf(principal), name);
}

export interface FoundRow {
  /** Which account: 0 = AzureWebJobsStorage, k = STORAGE_SHARD_k. */
  shard: number;
  table: string;
  row: Record<string, unknown>;
}

/**
 * Every row whose JSON names `text` (a user id) as a whole id, in every table of every account:
 * `user-1` does not name the rows of `user-11` (a run whose ids were prefixes of each other once
 * found another user's rows in the wrong account).
 */
export async function rowsNaming(t: TestApp, text: string): Promise<FoundRow[]> {
  const naming = new RegExp(`${text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?![A-Za-z0-9])`);
  const found: FoundRow[] = [];
  for (const [shard, storage] of t.storages.entries()) {
    const service = TableServiceClient.fromConnectionString(storage, { allowInsecureConnection: true });
    for await (const info of service.listTables()) {
      for await (const row of tableIn(storage, info.name!).listEntities<Record<string, unknown>>())
        if (naming.test(JSON.stringify(row))) found.push({ shard, table: info.name!, row });
    }
  }
  return found;
}

/**
 * What the home account (shard 0) keeps of every user: rows keyed by something the caller knows
 * before the user is (a Graph subscription id a notification names, a connect flow's state).
 */
export const homeKept = (r: FoundRow): boolean =>
  isHomeRow(r.table, String(r.row.partitionKey), String(r.row.rowKey)) || r.table === 'oauthstates';

/** One line per row, for an assertion's message. */
export const describeRows = (rows: FoundRow[]): string[] =>
  rows.map((r) => `${r.table}@${r.shard}: ${JSON.stringify(r.row).slice(0, 200)}`);

/**
 * The rows still naming the user after an erase, once work that was running for the user (a sync
 * round a notification started) has seen the connection gone and removed what it wrote
 * (shared/sync/engine.ts): a few seconds at most.
 */
export async function leftoversAfterErase(t: TestApp, userId: string): Promise<string[]> {
  let left = await rowsNaming(t, userId);
  for (let i = 0; i < 50 && left.length > 0; i++) {
    await new Promise((r) => setTimeout(r, 200));
    left = await rowsNaming(t, userId);
  }
  return describeRows(left);
}
