/**
 * Health: is the configuration valid, and can we reach Table Storage, Queue Storage, Key Vault
 * (when configured), the identity authority and Graph? Each part reports its latency; any failing
 * part makes the whole answer 503 and is named.
 */
import { ConfigError, getConfig, type AppConfig } from './config';
import { queueServiceClient, tableClient } from './storage/clients';
import { shardCount, shardSetting } from './shards';

export interface PartHealth {
  name: string;
  ok: boolean;
  latencyMs: number;
  detail?: string;
}

export interface HealthReport {
  status: 'healthy' | 'unhealthy';
  checkedAt: string;
  parts: PartHealth[];
  /** Extra figures other modules contribute (e.g. the recent Graph throttling rate). */
  metrics?: Record<string, unknown>;
}

const CHECK_TIMEOUT_MS = 5000;

async function timed(name: string, check: () => Promise<string | void>): Promise<PartHealth> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    const detail = await Promise.race([
      check(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`no answer within ${CHECK_TIMEOUT_MS} ms`)),
          CHECK_TIMEOUT_MS,
        );
      }),
    ]);
    return {
      name,
      ok: true,
      latencyMs: Math.round(performance.now() - started),
      ...(detail ? { detail } : {}),
    };
  } catch (err) {
    return { name, ok: false, latencyMs: Math.round(performance.now() - started), detail: describe(err) };
  } finally {
    clearTimeout(timer);
  }
}

function describe(err: unknown): string {
  const e = err as { message?: string; statusCode?: number; cause?: { code?: string } };
  const cause = e.cause?.code ? ` (${e.cause.code})` : '';
  return `${e.message ?? String(err)}${cause}`.slice(0, 300);
}

export const HEALTH_USER_AGENT = 'm365-integration-health-probe';

/**
 * Any HTTP answer below 500 proves reachability (Graph and Key Vault answer 401 without a
 * token); `mustSucceed` asks for a 2xx (the authority's OpenID metadata is public).
 */
async function reachable(url: string, mustSucceed = false): Promise<string> {
  const res = await fetch(url, {
    method: 'GET',
    redirect: 'manual',
    // Named, so the probes can be told apart in the dependencies' logs.
    headers: { 'user-agent': HEALTH_USER_AGENT },
  });
  await res.body?.cancel();
  if (res.status >= 500 || (mustSucceed && !res.ok)) throw new Error(`answered ${res.status}`);
  return `HTTP ${res.status}`;
}

/**
 * `/api/health` is anonymous: its outbound probes are shared and remembered (a success for 30 s,
 * a failure for 5 s), so callers cannot turn it into traffic towards Microsoft or Key Vault.
 */
const PROBE_OK_MS = 30_000;
const PROBE_FAILED_MS = 5_000;
const probes = new Map<string, { at: number; result: Promise<string>; failed?: boolean }>();

function probe(url: string, mustSucceed = false): Promise<string> {
  const now = performance.now();
  const cached = probes.get(url);
  if (cached && now - cached.at < (cached.failed ? PROBE_FAILED_MS : PROBE_OK_MS)) return cached.result;
  const entry: { at: number; result: Promise<string>; failed?: boolean } = {
    at: now,
    result: reachable(url, mustSucceed),
  };
  entry.result.catch(() => {
    entry.failed = true;
  });
  probes.set(url, entry);
  return entry.result;
}

const contributors: Array<() => Record<string, unknown>> = [];

/** Lets other modules (e.g. Graph usage metrics) add figures to the health report. */
export function contributeHealthMetrics(fn: () => Record<string, unknown>): void {
  contributors.push(fn);
}

/** Listing one entity of a possibly missing table still proves the account's Table service answers. */
async function probeTables(setting: string): Promise<void> {
  const client = await tableClient('health', setting);
  const iter = client
    .listEntities({ queryOptions: { filter: "PartitionKey eq 'health'" } })
    .byPage({ maxPageSize: 1 });
  try {
    await iter.next();
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode !== 404) throw err;
  }
}

export async function checkHealth(): Promise<HealthReport> {
  let config: AppConfig;
  try {
    config = getConfig();
  } catch (err) {
    const detail = err instanceof ConfigError ? err.problems.join(' | ') : describe(err);
    return {
      status: 'unhealthy',
      checkedAt: new Date().toISOString(),
      parts: [{ name: 'configuration', ok: false, latencyMs: 0, detail }],
    };
  }
  const checks: Array<Promise<PartHealth>> = [
    Promise.resolve({ name: 'configuration', ok: true, latencyMs: 0 }),
    // Every storage shard holds users' rows and queued work: one it cannot reach fails them.
    ...Array.from({ length: shardCount() }, (_, k) =>
      timed(
        k === 0 ? 'tableStorage' : `tableStorageShard${k}`,
        async () => await probeTables(shardSetting(k)),
      ),
    ),
    ...Array.from({ length: shardCount() }, (_, k) =>
      timed(k === 0 ? 'queueStorage' : `queueStorageShard${k}`, async () => {
        const client = await queueServiceClient(shardSetting(k));
        await client.listQueues().byPage({ maxPageSize: 1 }).next();
      }),
    ),
    timed(
      'identityAuthority',
      async () =>
        await probe(
          `${config.MICROSOFT_AUTHORITY_HOST}/${config.MICROSOFT_TENANT_ID}/v2.0/.well-known/openid-configuration`,
          true,
        ),
    ),
    timed('graph', async () => await probe(`${config.GRAPH_BASE_URL}/$metadata`)),
  ];
  if (config.KEY_VAULT_URL) {
    const vault = config.KEY_VAULT_URL;
    checks.push(
      timed('keyVault', async () => await probe(`${vault.replace(/\/$/, '')}/secrets?api-version=7.5`)),
    );
  }
  const parts = await Promise.all(checks);
  const metrics = Object.assign({}, ...contributors.map((fn) => fn())) as Record<string, unknown>;
  return {
    status: parts.every((p) => p.ok) ? 'healthy' : 'unhealthy',
    checkedAt: new Date().toISOString(),
    parts,
    ...(Object.keys(metrics).length > 0 ? { metrics } : {}),
  };
}
