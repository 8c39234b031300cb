/**
 * What the sign-in flows leave behind, removed daily (functions/maintenance/sign-in-cleanup.ts):
 * expired connect-flow states and pending connections (`oauthstates`), expired MCP authorization
 * requests and codes (`mcpauth`), past registration counters, grants no client refreshed for
 * GRANT_IDLE_DAYS, and registered clients that never got a grant within a week (a registration
 * flood leaves nothing for long). Everything it deletes had already stopped working.
 */
import type { TableClient } from '@azure/data-tables';
import { everyShard, table } from '../../storage/clients';
import { OAUTH_STATES_TABLE } from '../../storage/oauth-states';
import { CLIENTS_TABLE, RATES_TABLE } from './clients';
import { AUTH_TABLE, GRANTS_TABLE } from './grants';
import { GRANT_IDLE_DAYS } from './metadata';

const DAY = 24 * 3600 * 1000;
/** A registered client with no grant after this long is dropped. */
export const UNUSED_CLIENT_DAYS = 7;

async function deleteWhere(client: TableClient, filter: string): Promise<number> {
  let n = 0;
  for await (const row of client.listEntities({
    queryOptions: { filter, select: ['PartitionKey', 'RowKey'] },
  })) {
    await client.deleteEntity(String(row.partitionKey), String(row.rowKey)).catch((err: unknown) => {
      if ((err as { statusCode?: number }).statusCode !== 404) throw err;
    });
    n++;
  }
  return n;
}

async function anyGrantOf(shards: TableClient[], clientId: string): Promise<boolean> {
  for (const grants of shards) {
    const used = grants.listEntities({
      queryOptions: { filter: `clientId eq '${clientId}'`, select: ['RowKey'] },
    });
    if (!(await used.next()).done) return true;
  }
  return false;
}

export interface CleanupCounts {
  states: number;
  authorizations: number;
  registrationCounters: number;
  idleGrants: number;
  unusedClients: number;
}

export async function cleanUpSignIns(now = Date.now()): Promise<CleanupCounts> {
  // ISO timestamps compare as strings; an hour of slack past expiry.
  const expired = new Date(now - 3600_000).toISOString();
  const states = await deleteWhere(await table(OAUTH_STATES_TABLE), `expiresAt lt '${expired}'`);
  const authorizations = await deleteWhere(await table(AUTH_TABLE), `expiresAt lt '${expired}'`);
  const hourAgo = new Date(now - 2 * 3600_000).toISOString().slice(0, 13);
  const registrationCounters = await deleteWhere(await table(RATES_TABLE), `PartitionKey lt '${hourAgo}'`);
  const idleSince = new Date(now - GRANT_IDLE_DAYS * DAY).toISOString();
  // Grants live in their user's storage shard: every shard is visited.
  const grantShards = await everyShard(GRANTS_TABLE);
  let idleGrants = 0;
  for (const grants of grantShards) idleGrants += await deleteWhere(grants, `lastUsedAt lt '${idleSince}'`);

  const clients = await table(CLIENTS_TABLE);
  const registeredBefore = new Date(now - UNUSED_CLIENT_DAYS * DAY).toISOString();
  let unusedClients = 0;
  for await (const row of clients.listEntities({
    queryOptions: { filter: `registeredAt lt '${registeredBefore}'`, select: ['PartitionKey', 'RowKey'] },
  })) {
    const clientId = String(row.rowKey).replace(/'/g, "''");
    if (await anyGrantOf(grantShards, clientId)) continue;
    await clients.deleteEntity(String(row.partitionKey), String(row.rowKey)).catch(() => undefined);
    unusedClients++;
  }
  return { states, authorizations, registrationCounters, idleGrants, unusedClients };
}
