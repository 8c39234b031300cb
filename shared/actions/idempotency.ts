/**
 * Idempotency-Key for actions that must never happen twice (send, reply, forward, create): the
 * first request claims the key (a create that fails if the row exists) together with a hash of its
 * input, stores its result, and any repeat within 24 h gets that result back without touching
 * Graph. A repeat with another input is refused (422 `idempotency_key_reused`): a key names one
 * request, never "whatever came first".
 *
 * A first attempt whose outcome is unknown (Graph failed mid-way, or the worker died while the row
 * said `pending`) is never forgotten by expiry: the next repeat resolves it. Actions that leave a
 * findable trace (mail carries an `internetMessageId`, events a `transactionId`, both derived from
 * the key) look for it; others answer `outcome_unknown` with how to check. See docs/security.md.
 *
 * Row states: `pending` (running since `at`), `resolving` (a repeat checking Graph since
 * `resolvingAt`), `unknown` (the outcome could not be told), `done` (result stored).
 */
import { createHash } from 'node:crypto';
import { Problem } from '../http/problem';
import { registerUserData } from '../privacy';
import { userTable } from '../storage/clients';

export const IDEMPOTENCY_TABLE = 'idempotency';
const TTL_MS = 24 * 3600 * 1000;
/**
 * How long a claim may run before a repeat presumes its worker dead. Longer than any action runs
 * over HTTP (Azure's front end closes HTTP requests after 230 s), so a live worker is never
 * second-guessed.
 */
export const PENDING_LEASE_MS = 5 * 60 * 1000;

export interface StoredResult {
  status: number;
  body: unknown;
}

interface Row {
  state: 'pending' | 'resolving' | 'unknown' | 'done';
  at: string;
  action?: string;
  requestHash?: string;
  /** JSON of fieldHashes(input): which fields a reuse changed. */
  fields?: string;
  resolvingAt?: string;
  status?: number;
  body?: string;
  etag: string;
}

function rowKey(actionId: string, key: string): string {
  return createHash('sha256').update(`${actionId}|${key}`).digest('hex');
}

export function validKey(key: string): boolean {
  return /^[\x21-\x7e]{8,200}$/.test(key);
}

/** JSON with object keys sorted, so the same input always hashes the same. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/**
 * A hash per top-level input field, so a reused key can name which fields differ (never values).
 * (Action inputs are objects; anything else is one field named "".)
 */
export function fieldHashes(input: unknown): Record<string, string> {
  if (!input || typeof input !== 'object' || Array.isArray(input)) return { '': sha256(canonical(input)) };
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(input as Record<string, unknown>))
    if (v !== undefined) out[k] = sha256(canonical(v));
  return out;
}

/** The request's identity: the action and its field hashes (each value canonicalised once). */
export function requestHash(actionId: string, fields: Record<string, string>): string {
  return sha256(`${actionId}|${canonical(fields)}`);
}

function differingFields(stored: string | undefined, now: Record<string, string>): string[] {
  let before: Record<string, string> = {};
  try {
    before = stored ? (JSON.parse(stored) as Record<string, string>) : {};
  } catch {
    before = {};
  }
  const keys = new Set([...Object.keys(before), ...Object.keys(now)]);
  return [...keys].filter((k) => before[k] !== now[k]).sort();
}

/**
 * A stable token for (user, action, key), written into what the action creates at Graph (the
 * message's internetMessageId, the event's transactionId) so a later repeat can find it.
 */
export function idempotencyToken(userId: string, actionId: string, key: string): string {
  return createHash('sha256').update(`idem|${userId}|${actionId}|${key}`).digest('hex').slice(0, 40);
}

export type Claim =
  | { kind: 'run' }
  | { kind: 'replay'; result: StoredResult }
  /** A first attempt's outcome is unknown: look for its trace before anything else. `age` since it began. */
  | { kind: 'resolve'; ageMs: number };

function inProgress(retryAfterS: number): Problem {
  return new Problem(
    'conflict',
    'A request with this Idempotency-Key is still being processed; retry in a moment.',
    {},
    { 'retry-after': String(Math.max(1, retryAfterS)) },
  );
}

/** Claims the key, returns the first request's result, or says the first outcome must be resolved. */
export async function claim(
  userId: string,
  actionId: string,
  key: string,
  hash: string,
  fields: Record<string, string> = {},
): Promise<Claim> {
  if (!validKey(key)) {
    throw new Problem('invalid_input', 'Idempotency-Key must be 8–200 visible ASCII characters.', {
      errors: [{ field: 'Idempotency-Key', message: 'must be 8–200 visible ASCII characters' }],
    });
  }
  const client = await userTable(IDEMPOTENCY_TABLE, userId);
  const rk = rowKey(actionId, key);
  const now = Date.now();
  try {
    await client.createEntity({
      partitionKey: userId,
      rowKey: rk,
      state: 'pending',
      at: new Date(now).toISOString(),
      action: actionId,
      requestHash: hash,
      fields: JSON.stringify(fields),
    });
    return { kind: 'run' };
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode !== 409) throw err;
  }
  const row = await client.getEntity<Omit<Row, 'etag'>>(userId, rk);
  const age = now - Date.parse(row.at);
  const conditional = async (fields: Partial<Row>): Promise<boolean> => {
    try {
      await client.updateEntity({ partitionKey: userId, rowKey: rk, ...fields }, 'Merge', { etag: row.etag });
      return true;
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode === 412) return false;
      throw err;
    }
  };
  if (row.state === 'done' && age > TTL_MS) {
    // Expired after success: the key is free again (taken over conditionally, so one taker wins).
    const fresh = {
      state: 'pending',
      at: new Date(now).toISOString(),
      requestHash: hash,
      fields: JSON.stringify(fields),
      status: 0,
      body: '',
    };
    if (!(await conditional(fresh as Partial<Row>))) throw inProgress(2);
    return { kind: 'run' };
  }
  if (row.requestHash && row.requestHash !== hash) {
    const differing = differingFields(row.fields, fields);
    throw new Problem(
      'idempotency_key_reused',
      `This Idempotency-Key was already used for a request with a different input${differing.length ? ` (${differing.join(', ')} differ)` : ''}; nothing was done. Use a new key for a new request, or repeat the first request exactly.`,
      { fields: differing },
    );
  }
  if (row.state === 'done') {
    return {
      kind: 'replay',
      result: { status: row.status ?? 200, body: row.body ? (JSON.parse(row.body) as unknown) : null },
    };
  }
  if (row.state === 'pending' && age < PENDING_LEASE_MS) {
    throw inProgress(Math.ceil((PENDING_LEASE_MS - age) / 1000));
  }
  if (row.state === 'resolving') {
    const since = now - Date.parse(row.resolvingAt ?? row.at);
    if (since < PENDING_LEASE_MS) throw inProgress(Math.ceil((PENDING_LEASE_MS - since) / 1000));
  }
  // A stale pending (its worker died), an unknown outcome, or a resolver that died: resolve it.
  if (!(await conditional({ state: 'resolving', resolvingAt: new Date(now).toISOString() })))
    throw inProgress(2);
  return { kind: 'resolve', ageMs: age };
}

export async function complete(
  userId: string,
  actionId: string,
  key: string,
  hash: string,
  result: StoredResult,
  fields: Record<string, string> = {},
): Promise<void> {
  const client = await userTable(IDEMPOTENCY_TABLE, userId);
  await client.upsertEntity(
    {
      partitionKey: userId,
      rowKey: rowKey(actionId, key),
      state: 'done',
      at: new Date().toISOString(),
      action: actionId,
      requestHash: hash,
      fields: JSON.stringify(fields),
      status: result.status,
      body: JSON.stringify(result.body ?? null),
    },
    'Replace',
  );
}

/** Remembers that the outcome is unknown, keeping when the attempt began (`at`). */
export async function markUnknown(userId: string, actionId: string, key: string): Promise<void> {
  const client = await userTable(IDEMPOTENCY_TABLE, userId);
  await client.updateEntity(
    { partitionKey: userId, rowKey: rowKey(actionId, key), state: 'unknown', resolvingAt: '' },
    'Merge',
  );
}

/** A failed first attempt releases the key only when nothing can have happened (the caller may retry). */
export async function release(userId: string, actionId: string, key: string): Promise<void> {
  const client = await userTable(IDEMPOTENCY_TABLE, userId);
  await client.deleteEntity(userId, rowKey(actionId, key)).catch(() => undefined);
}

// The stored results hold what the actions created (tasks, events, contacts): personal data.
registerUserData({
  name: 'idempotencyKeys',
  perAccount: true,
  async export(userId) {
    const client = await userTable(IDEMPOTENCY_TABLE, userId);
    const out = [];
    const escaped = userId.replace(/'/g, "''");
    for await (const row of client.listEntities<Omit<Row, 'etag'>>({
      queryOptions: { filter: `PartitionKey eq '${escaped}'` },
    })) {
      out.push({
        action: row.action ?? null,
        state: row.state,
        at: row.at,
        ...(row.status ? { status: row.status } : {}),
        ...(row.body ? { result: JSON.parse(row.body) as unknown } : {}),
      });
    }
    return out;
  },
  async erase(userId) {
    const client = await userTable(IDEMPOTENCY_TABLE, userId);
    const escaped = userId.replace(/'/g, "''");
    let n = 0;
    for await (const row of client.listEntities({
      queryOptions: { filter: `PartitionKey eq '${escaped}'`, select: ['RowKey'] },
    })) {
      await client.deleteEntity(userId, row.rowKey!).catch(() => undefined);
      n++;
    }
    return n;
  },
});
