/**
 * Table and Queue clients from the AzureWebJobsStorage setting: a connection string locally
 * (Azurite), identity-based (`AzureWebJobsStorage__accountName` / `__tableServiceUri` /
 * `__queueServiceUri`, managed identity) in Azure. Clients are lazy singletons per name.
 */
import type * as DataTables from '@azure/data-tables';
import type { TableClient } from '@azure/data-tables';
import type * as Identity from '@azure/identity';
import type * as StorageQueue from '@azure/storage-queue';
import type { QueueClient, QueueServiceClient } from '@azure/storage-queue';
import { withOrigin } from '../correlation';
import { countingPolicy, countRoundTrip } from '../meter';
import { HOME_SETTING, queueSettingFor, shardCount, shardOf, shardSetting } from '../shards';

// Loaded on first use: these SDKs cost tens of milliseconds each at cold start (toolchain.md).
const lazyTables = (): typeof DataTables => require('@azure/data-tables') as typeof DataTables;
const lazyQueues = (): typeof StorageQueue => require('@azure/storage-queue') as typeof StorageQueue;
const lazyIdentity = (): typeof Identity => require('@azure/identity') as typeof Identity;

const DEV_STORAGE =
  'DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;QueueEndpoint=http://127.0.0.1:10001/devstoreaccount1;TableEndpoint=http://127.0.0.1:10002/devstoreaccount1;';

type Env = Record<string, string | undefined>;

function connectionString(setting: string, env: Env): string | undefined {
  const value = env[setting];
  if (!value) return undefined;
  return value.trim() === 'UseDevelopmentStorage=true' ? DEV_STORAGE : value;
}

function serviceUri(setting: string, kind: 'table' | 'queue', env: Env): string {
  const explicit = env[`${setting}__${kind}ServiceUri`];
  if (explicit) return explicit;
  const account = env[`${setting}__accountName`];
  if (!account) {
    throw new Error(
      `${setting} is missing: set a connection string, or ${setting}__accountName for identity-based access`,
    );
  }
  return `https://${account}.${kind}.core.windows.net`;
}

async function credential(setting: string, env: Env) {
  const { DefaultAzureCredential, ManagedIdentityCredential } = lazyIdentity();
  const clientId = env[`${setting}__clientId`];
  return clientId ? new ManagedIdentityCredential({ clientId }) : new DefaultAzureCredential();
}

/**
 * Storage outages should surface quickly as 503 storage_unavailable (the caller retries) rather
 * than hold every request for the SDKs' default retry schedules (about 13 s measured): one retry.
 */
const TABLE_RETRY = { maxRetries: 1, retryDelayInMs: 200, maxRetryDelayInMs: 1000 };
const QUEUE_RETRY = { maxTries: 2, retryDelayInMs: 200, maxRetryDelayInMs: 1000, tryTimeoutInMs: 10_000 };

const tables = new Map<string, Promise<TableClient>>();
/** Every attempt against Table Storage is counted (shared/meter.ts). */
const COUNTED = [{ policy: countingPolicy('table'), position: 'perRetry' as const }];
const queueServices = new Map<string, Promise<QueueServiceClient>>();

export function tableClient(
  tableName: string,
  setting = HOME_SETTING,
  env: Env = process.env,
): Promise<TableClient> {
  const key = `${setting}|${tableName}|${env[setting] ?? ''}`;
  let client = tables.get(key);
  if (!client) {
    client = (async () => {
      const { TableClient } = lazyTables();
      const conn = connectionString(setting, env);
      if (conn)
        return TableClient.fromConnectionString(conn, tableName, {
          allowInsecureConnection: true,
          retryOptions: TABLE_RETRY,
          additionalPolicies: COUNTED,
        });
      return new TableClient(serviceUri(setting, 'table', env), tableName, await credential(setting, env), {
        retryOptions: TABLE_RETRY,
        additionalPolicies: COUNTED,
      });
    })();
    tables.set(key, client);
  }
  return client;
}

export function queueServiceClient(
  setting = HOME_SETTING,
  env: Env = process.env,
): Promise<QueueServiceClient> {
  const key = `${setting}|${env[setting] ?? ''}`;
  let client = queueServices.get(key);
  if (!client) {
    client = (async () => {
      const { QueueServiceClient } = lazyQueues();
      const conn = connectionString(setting, env);
      if (conn) return QueueServiceClient.fromConnectionString(conn, { retryOptions: QUEUE_RETRY });
      return new QueueServiceClient(serviceUri(setting, 'queue', env), await credential(setting, env), {
        retryOptions: QUEUE_RETRY,
      });
    })();
    queueServices.set(key, client);
  }
  return client;
}

export async function queueClient(
  queueName: string,
  setting = HOME_SETTING,
  env: Env = process.env,
): Promise<QueueClient> {
  return (await queueServiceClient(setting, env)).getQueueClient(queueName);
}

const ensuredTables = new Set<string>();

/**
 * A table client whose table exists (created once per process), in the account of a storage
 * setting: AzureWebJobsStorage unless a shard's is given (shared/shards.ts).
 */
export async function table(tableName: string, setting = HOME_SETTING): Promise<TableClient> {
  const client = await tableClient(tableName, setting);
  const key = `${client.url}|${tableName}`;
  if (!ensuredTables.has(key)) {
    try {
      await client.createTable();
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode !== 409) throw err;
    }
    ensuredTables.add(key);
  }
  return client;
}

const ensuredQueues = new Set<string>();

/**
 * Sends a message the way the Functions host expects it (base64 text, the host.json default
 * `messageEncoding`), creating the queue on first use.
 */
export async function enqueue(
  queueName: string,
  message: unknown,
  options: { visibilityTimeoutSeconds?: number } = {},
): Promise<void> {
  // A user queue's message goes to the user's account (../shards.ts); others to the home account.
  const client = await queueClient(queueName, queueSettingFor(queueName, message));
  if (!ensuredQueues.has(client.url)) {
    countRoundTrip(`queue:${queueName} PUT`);
    await client.createIfNotExists();
    ensuredQueues.add(client.url);
  }
  // Object messages carry the origin of the work on (shared/correlation.ts).
  // A delayed message says when it is due: waiting for its turn is not lateness (the queue wait
  // and sync lag metrics, shared/telemetry.ts).
  const delay = options.visibilityTimeoutSeconds ?? 0;
  const dueAt = delay > 0 ? Date.now() + delay * 1000 : undefined;
  const text = typeof message === 'string' ? message : JSON.stringify(withOrigin(message, dueAt));
  countRoundTrip(`queue:${queueName} POST`);
  await client.sendMessage(Buffer.from(text, 'utf8').toString('base64'), {
    visibilityTimeout: options.visibilityTimeoutSeconds,
  });
}

/** A per-user table in the account that holds this user's rows (../shards.ts). */
export async function userTable(tableName: string, principal: string): Promise<TableClient> {
  return await table(tableName, shardSetting(shardOf(principal)));
}

/** The same per-user table in every account, shard 0 first: for work that visits every user. */
export async function everyShard(tableName: string): Promise<TableClient[]> {
  return await Promise.all(
    Array.from({ length: shardCount() }, async (_, k) => await table(tableName, shardSetting(k))),
  );
}

/** Every account's queue service, shard 0 first (queue metrics and health visit them all). */
export async function everyQueueService(): Promise<QueueServiceClient[]> {
  return await Promise.all(
    Array.from({ length: shardCount() }, async (_, k) => await queueServiceClient(shardSetting(k))),
  );
}

/** Forget cached clients (tests that switch storage accounts). */
export function resetStorageClients(): void {
  tables.clear();
  queueServices.clear();
  ensuredTables.clear();
  ensuredQueues.clear();
}

/**
 * Deletes rows of one partition in one transaction; rows someone else deleted meanwhile (an erase
 * racing the work that cleans up after it) are fine: the batch falls back to one delete per row,
 * ignoring those already gone. Erasing must never fail because the data is already erased.
 */
export async function deleteRows(
  client: TableClient,
  partitionKey: string,
  rowKeys: readonly string[],
): Promise<void> {
  if (rowKeys.length === 0) return;
  try {
    await client.submitTransaction(rowKeys.map((rowKey) => ['delete', { partitionKey, rowKey }]));
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode !== 404) throw err;
    for (const rowKey of rowKeys) {
      await client.deleteEntity(partitionKey, rowKey).catch((e: unknown) => {
        if ((e as { statusCode?: number }).statusCode !== 404) throw e;
      });
    }
  }
}

/** Every row of one partition (a user's rows in a per-user table). */
export async function partitionRows<T extends object>(
  client: TableClient,
  partitionKey: string,
): Promise<Array<T & { rowKey: string }>> {
  const rows: Array<T & { rowKey: string }> = [];
  const filter = `PartitionKey eq '${partitionKey.replace(/'/g, "''")}'`;
  for await (const row of client.listEntities<T>({ queryOptions: { filter } }))
    rows.push(row as T & { rowKey: string });
  return rows;
}

/** Erases one partition (GDPR erasure of a per-user table); returns how many rows went. */
export async function erasePartition(client: TableClient, partitionKey: string): Promise<number> {
  const keys = (await partitionRows(client, partitionKey)).map((r) => r.rowKey);
  // A table transaction holds at most 100 operations.
  for (let i = 0; i < keys.length; i += 100) await deleteRows(client, partitionKey, keys.slice(i, i + 100));
  return keys.length;
}
