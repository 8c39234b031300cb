/**
 * The `subscriptions` table (DESIGN.md Storage): one row per subscription under the user's
 * partition (row key = Graph subscription id) plus a lookup row per subscription id, so the
 * webhook finds the owner and the clientState hash with one point read and no user id in the URL.
 * The user's rows live in the user's storage shard; the lookup rows (keyed by subscription id,
 * before the user is known) in the home account (shared/shards.ts).
 */
import type { TableEntityResult } from '@azure/data-tables';
import { table, userTable } from '../storage/clients';

export const SUBSCRIPTIONS_TABLE = 'subscriptions';
const LOOKUP_ROW = 'lookup';
const lookupPartition = (subscriptionId: string): string => `sub-${subscriptionId}`;

export interface SubscriptionRecord {
  userId: string;
  subscriptionId: string;
  /** The desired subscription it fulfils (resources.ts), e.g. `mail:inbox`, `todo:{listId}`. */
  key: string;
  resource: string;
  changeType: string;
  /** What Graph returned (never what we asked for: §6.1 [INT]). */
  expiresAt: string;
  clientStateHash: string;
  createdAt: string;
  renewedAt?: string;
  /** Consecutive failed renewals; the next timer round retries. */
  failures: number;
  lastError?: string;
}

export interface SubscriptionLookup {
  subscriptionId: string;
  userId: string;
  key: string;
  clientStateHash: string;
}

type Row = Record<string, unknown>;

function statusOf(err: unknown): number | undefined {
  return (err as { statusCode?: number }).statusCode;
}

function fromRow(row: TableEntityResult<Row>): SubscriptionRecord {
  return {
    userId: row.partitionKey!,
    subscriptionId: row.rowKey!,
    key: String(row.key),
    resource: String(row.resource),
    changeType: String(row.changeType),
    expiresAt: String(row.expiresAt),
    clientStateHash: String(row.clientStateHash),
    createdAt: String(row.createdAt),
    ...(typeof row.renewedAt === 'string' ? { renewedAt: row.renewedAt } : {}),
    failures: Number(row.failures ?? 0),
    ...(typeof row.lastError === 'string' ? { lastError: row.lastError } : {}),
  };
}

/** Writes the lookup row first: a notification can arrive as soon as Graph answered the create. */
export async function saveSubscription(record: SubscriptionRecord): Promise<void> {
  await (
    await table(SUBSCRIPTIONS_TABLE)
  ).upsertEntity(
    {
      partitionKey: lookupPartition(record.subscriptionId),
      rowKey: LOOKUP_ROW,
      userId: record.userId,
      key: record.key,
      clientStateHash: record.clientStateHash,
    },
    'Replace',
  );
  const { userId, subscriptionId, ...rest } = record;
  await (
    await userTable(SUBSCRIPTIONS_TABLE, userId)
  ).upsertEntity({ partitionKey: userId, rowKey: subscriptionId, ...rest }, 'Replace');
}

export async function updateSubscription(
  userId: string,
  subscriptionId: string,
  patch: Partial<Pick<SubscriptionRecord, 'expiresAt' | 'renewedAt' | 'failures' | 'lastError'>>,
): Promise<void> {
  const client = await userTable(SUBSCRIPTIONS_TABLE, userId);
  const entity: Row = { partitionKey: userId, rowKey: subscriptionId };
  for (const [k, v] of Object.entries(patch)) entity[k] = v ?? '';
  try {
    await client.updateEntity(entity as Row & { partitionKey: string; rowKey: string }, 'Merge');
  } catch (err) {
    if (statusOf(err) !== 404) throw err;
  }
}

export async function getSubscription(
  userId: string,
  subscriptionId: string,
): Promise<SubscriptionRecord | undefined> {
  const client = await userTable(SUBSCRIPTIONS_TABLE, userId);
  try {
    return fromRow(await client.getEntity<Row>(userId, subscriptionId));
  } catch (err) {
    if (statusOf(err) === 404) return undefined;
    throw err;
  }
}

export async function getLookup(subscriptionId: string): Promise<SubscriptionLookup | undefined> {
  const client = await table(SUBSCRIPTIONS_TABLE);
  try {
    const row = await client.getEntity<Row>(lookupPartition(subscriptionId), LOOKUP_ROW);
    return {
      subscriptionId,
      userId: String(row.userId),
      key: String(row.key),
      clientStateHash: String(row.clientStateHash),
    };
  } catch (err) {
    if (statusOf(err) === 404) return undefined;
    throw err;
  }
}

export async function listSubscriptions(userId: string): Promise<SubscriptionRecord[]> {
  const client = await userTable(SUBSCRIPTIONS_TABLE, userId);
  const out: SubscriptionRecord[] = [];
  const filter = `PartitionKey eq '${userId.replace(/'/g, "''")}'`;
  for await (const row of client.listEntities<Row>({ queryOptions: { filter } })) out.push(fromRow(row));
  return out;
}

export async function deleteSubscriptionRecord(userId: string, subscriptionId: string): Promise<void> {
  for (const [client, pk, rk] of [
    [await userTable(SUBSCRIPTIONS_TABLE, userId), userId, subscriptionId],
    [await table(SUBSCRIPTIONS_TABLE), lookupPartition(subscriptionId), LOOKUP_ROW],
  ] as const) {
    try {
      await client.deleteEntity(pk, rk);
    } catch (err) {
      if (statusOf(err) !== 404) throw err;
    }
  }
}
