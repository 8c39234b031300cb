/**
 * The `connections` table: one row per user (partition = user id, row = "microsoft") holding the
 * account, the grant, the status and the MSAL cache — encrypted (AES-256-GCM, see
 * shared/crypto/envelope.ts). Tokens never appear in clear in any column.
 */
import type { TableClient, TableEntityResult } from '@azure/data-tables';
import { everyShard, table, userTable } from './clients';
import { shardSetting } from '../shards';

export const CONNECTIONS_TABLE = 'connections';
const ROW = 'microsoft';
/** Table string properties hold at most 32K UTF-16 characters: the cache is split across columns. */
const CHUNK = 30000;
const MAX_CHUNKS = 8;

export type ConnectionStatus = 'connected' | 'reauth_required';

export interface Connection {
  userId: string;
  status: ConnectionStatus;
  homeAccountId: string;
  username: string;
  displayName: string;
  tenantId: string;
  accountType: 'work' | 'personal';
  /** Granted scopes, space separated, short form. */
  scopes: string;
  connectedAt: string;
  lastRefreshAt: string;
  lastUsedAt?: string;
  reauthReason?: string;
  reauthAt?: string;
  /** Claims from a CAE challenge that the next sign-in must satisfy. */
  pendingClaims?: string;
  cacheKeyId: string;
  /** Encrypted MSAL cache (envelope data), joined from its chunks. */
  cacheData: string;
  /** `obo`: granted on behalf of an Entra caller's token (shared/auth/obo.ts), not by the connect flow. */
  grant?: 'obo';
  /**
   * On the row of the user's own principal: the principal of the default account when the user
   * made another account the default (shared/storage/accounts.ts), so the usual request needs no
   * other read.
   */
  defaultPrincipal?: string;
  etag?: string;
}

/** What a sign-in yields about the account, before it becomes (or replaces) a connection. */
export type SignedInAccount = Pick<
  Connection,
  | 'homeAccountId'
  | 'username'
  | 'displayName'
  | 'tenantId'
  | 'accountType'
  | 'scopes'
  | 'cacheKeyId'
  | 'cacheData'
>;

type Row = Record<string, unknown> & { partitionKey: string; rowKey: string };

/** The encrypted cache as `cache0` … `cache7` columns (every one written, so a shorter cache clears the rest). */
export function cacheColumns(cacheData: string): Record<string, string> {
  const chunks = Math.ceil(cacheData.length / CHUNK);
  if (chunks > MAX_CHUNKS) throw new Error('The token cache is too large to store');
  const columns: Record<string, string> = {};
  for (let i = 0; i < MAX_CHUNKS; i++) columns[`cache${i}`] = cacheData.slice(i * CHUNK, (i + 1) * CHUNK);
  return columns;
}

/** The encrypted cache joined back from its columns. */
export function cacheFromColumns(row: Record<string, unknown>): string {
  let cacheData = '';
  for (let i = 0; i < MAX_CHUNKS; i++) cacheData += (row[`cache${i}`] as string | undefined) ?? '';
  return cacheData;
}

function toRow(c: Connection): Row {
  const row: Row = { partitionKey: c.userId, rowKey: ROW };
  for (const [key, value] of Object.entries(c)) {
    if (key === 'cacheData' || key === 'etag' || key === 'userId' || value === undefined) continue;
    row[key] = value;
  }
  return { ...row, ...cacheColumns(c.cacheData) };
}

function fromRow(row: TableEntityResult<Record<string, unknown>>): Connection {
  const c: Record<string, unknown> = {
    userId: row.partitionKey,
    cacheData: cacheFromColumns(row),
    etag: row.etag,
  };
  for (const [key, value] of Object.entries(row)) {
    if (
      /^cache\d+$/.test(key) ||
      ['partitionKey', 'rowKey', 'etag', 'timestamp', 'odata.metadata'].includes(key)
    )
      continue;
    c[key] = value;
  }
  return c as unknown as Connection;
}

function status(err: unknown): number | undefined {
  return (err as { statusCode?: number }).statusCode;
}

export async function getConnection(userId: string): Promise<Connection | undefined> {
  const client = await userTable(CONNECTIONS_TABLE, userId);
  try {
    return fromRow(await client.getEntity<Record<string, unknown>>(userId, ROW));
  } catch (err) {
    if (status(err) === 404) return undefined;
    throw err;
  }
}

export class ConcurrencyConflict extends Error {
  constructor() {
    super('The connection row changed since it was read');
    this.name = 'ConcurrencyConflict';
  }
}

const writeListeners: Array<(userId: string) => void> = [];

/**
 * Called whenever this instance writes or deletes a user's row: what it remembers of the row (the
 * token vault's kept token and last read) is dropped at once, before the next request reads anew.
 */
export function onConnectionWritten(listener: (userId: string) => void): void {
  writeListeners.push(listener);
}

function written(userId: string): void {
  for (const listener of writeListeners) listener(userId);
}

/**
 * Writes a connection. With an etag the write is conditional (If-Match) and a conflict throws
 * ConcurrencyConflict; without one it creates the row (or replaces it when `replace` is set).
 */
export async function saveConnection(
  c: Connection,
  options: { replace?: boolean } = {},
): Promise<string | undefined> {
  const client = await userTable(CONNECTIONS_TABLE, c.userId);
  try {
    if (c.etag) {
      const res = await client.updateEntity(toRow(c), 'Replace', { etag: c.etag });
      return res.etag;
    }
    if (options.replace) return (await client.upsertEntity(toRow(c), 'Replace')).etag;
    return (await client.createEntity(toRow(c))).etag;
  } catch (err) {
    if (status(err) === 412 || status(err) === 409) throw new ConcurrencyConflict();
    throw err;
  } finally {
    written(c.userId);
  }
}

/** Merges a few fields (status changes) without touching the cache; conditional when etag given. */
export async function patchConnection(
  userId: string,
  fields: Partial<Omit<Connection, 'userId' | 'cacheData' | 'etag'>>,
  etag = '*',
): Promise<void> {
  const client = await userTable(CONNECTIONS_TABLE, userId);
  const entity: Row = { partitionKey: userId, rowKey: ROW };
  for (const [key, value] of Object.entries(fields)) entity[key] = value ?? '';
  try {
    await client.updateEntity(entity, 'Merge', { etag });
  } finally {
    written(userId);
  }
}

export async function deleteConnection(userId: string): Promise<boolean> {
  const client = await userTable(CONNECTIONS_TABLE, userId);
  try {
    await client.deleteEntity(userId, ROW);
    return true;
  } catch (err) {
    if (status(err) === 404) return false;
    throw err;
  } finally {
    written(userId);
  }
}

/**
 * Every connection (maintenance: key rotation, keep-alive, the timers' fan-out), shard after
 * shard (shared/shards.ts).
 */
export async function* listConnections(filter?: string): AsyncGenerator<Connection> {
  for (const client of await everyShard(CONNECTIONS_TABLE)) yield* connectionsIn(client, filter);
}

/** The connections one storage account holds (a timer's per-account fan-out: shared/fanout.ts). */
export async function* listShardConnections(shard: number): AsyncGenerator<Connection> {
  yield* connectionsIn(await table(CONNECTIONS_TABLE, shardSetting(shard)));
}

async function* connectionsIn(client: TableClient, filter?: string): AsyncGenerator<Connection> {
  for await (const row of client.listEntities<Record<string, unknown>>({
    queryOptions: { filter: filter ?? `RowKey eq '${ROW}'` },
  })) {
    yield fromRow(row);
  }
}
