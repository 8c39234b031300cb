/**
 * The platform's event endpoints (table `eventendpoints`, one partition): URL, event-type filter,
 * and whether delivery is disabled (the endpoint answered 410 Gone, which Standard Webhooks
 * defines as "stop sending"). Registered through the admin routes (functions/events/endpoints.ts).
 */
import { createHash } from 'node:crypto';
import { table } from '../storage/clients';
import { filterProblem } from './types';

export const ENDPOINTS_TABLE = 'eventendpoints';
const PARTITION = 'endpoint';
/** How long the hot path (every feed append) trusts its copy of the list. */
const CACHE_MS = 5_000;

export interface Endpoint {
  id: string;
  url: string;
  /** Event types or `service.*` prefixes; empty = every event. */
  types: string[];
  createdAt: string;
  disabled: boolean;
  disabledAt?: string;
  disabledReason?: string;
}

let cached: { at: number; list: Endpoint[] } | undefined;

export function endpointId(url: string): string {
  return `ep_${createHash('sha256').update(url).digest('base64url').slice(0, 16)}`;
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

/** Problems with an endpoint registration, as `{field, message}` (empty when it is fine). */
export function endpointProblems(url: unknown, types: unknown): Array<{ field: string; message: string }> {
  const problems: Array<{ field: string; message: string }> = [];
  if (typeof url !== 'string' || url.length > 2048 || !URL.canParse(url)) {
    problems.push({ field: 'url', message: 'must be an absolute URL (at most 2048 characters)' });
  } else {
    const u = new URL(url);
    if (u.username || u.password) problems.push({ field: 'url', message: 'must not carry credentials' });
    else if (u.protocol !== 'https:' && !(u.protocol === 'http:' && LOOPBACK.has(u.hostname))) {
      problems.push({ field: 'url', message: 'must be https:// (http:// only on loopback, for local runs)' });
    }
  }
  if (types !== undefined) {
    if (!Array.isArray(types) || types.length > 50 || types.some((t) => typeof t !== 'string')) {
      problems.push({ field: 'types', message: 'must be a list of at most 50 event types' });
    } else {
      (types as string[]).forEach((t, i) => {
        const problem = filterProblem(t);
        if (problem) problems.push({ field: `types[${i}]`, message: problem });
      });
    }
  }
  return problems;
}

const text = (v: unknown): string => (typeof v === 'string' ? v : '');

function fromRow(row: Record<string, unknown>): Endpoint {
  return {
    id: String(row.rowKey),
    url: String(row.url),
    types: JSON.parse(text(row.types) || '[]') as string[],
    createdAt: String(row.createdAt),
    disabled: row.disabled === true,
    ...(text(row.disabledAt) ? { disabledAt: text(row.disabledAt) } : {}),
    ...(text(row.disabledReason) ? { disabledReason: text(row.disabledReason) } : {}),
  };
}

export async function listEndpoints(options: { fresh?: boolean } = {}): Promise<Endpoint[]> {
  if (!options.fresh && cached && Date.now() - cached.at < CACHE_MS) return cached.list;
  const client = await table(ENDPOINTS_TABLE);
  const list: Endpoint[] = [];
  for await (const row of client.listEntities<Record<string, unknown>>({
    queryOptions: { filter: `PartitionKey eq '${PARTITION}'` },
  })) {
    list.push(fromRow(row));
  }
  cached = { at: Date.now(), list };
  return list;
}

/** Registers (or re-registers, enabling again) an endpoint. */
export async function putEndpoint(url: string, types: string[], now = new Date()): Promise<Endpoint> {
  const client = await table(ENDPOINTS_TABLE);
  const id = endpointId(url);
  const endpoint: Endpoint = { id, url, types, createdAt: now.toISOString(), disabled: false };
  await client.upsertEntity(
    {
      partitionKey: PARTITION,
      rowKey: id,
      url,
      types: JSON.stringify(types),
      createdAt: endpoint.createdAt,
      disabled: false,
      disabledAt: '',
      disabledReason: '',
    },
    'Replace',
  );
  cached = undefined;
  return endpoint;
}

export async function deleteEndpoint(id: string): Promise<boolean> {
  const client = await table(ENDPOINTS_TABLE);
  cached = undefined;
  try {
    await client.deleteEntity(PARTITION, id);
    return true;
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode === 404) return false;
    throw err;
  }
}

export async function disableEndpoint(id: string, reason: string, now = new Date()): Promise<void> {
  const client = await table(ENDPOINTS_TABLE);
  await client.updateEntity(
    {
      partitionKey: PARTITION,
      rowKey: id,
      disabled: true,
      disabledAt: now.toISOString(),
      disabledReason: reason,
    },
    'Merge',
  );
  cached = undefined;
}

/** Tests: forget the cached list. */
export function resetEndpointCache(): void {
  cached = undefined;
}
