/**
 * Idempotency-Key for actions that must never happen twice (send, reply, forward, draft-send):
 * the first request claims the key (a create that fails if the row exists), stores its result,
 * and any repeat within 24 h gets that result back without touching Graph. A repeat that arrives
 * while the first is still running gets 409.
 */
import { createHash } from 'node:crypto';
import { Problem } from '../http/problem';
import { table } from '../storage/clients';

export const IDEMPOTENCY_TABLE = 'idempotency';
const TTL_MS = 24 * 3600 * 1000;

export interface StoredResult {
  status: number;
  body: unknown;
}

function rowKey(actionId: string, key: string): string {
  return createHash('sha256').update(`${actionId}|${key}`).digest('hex');
}

export function validKey(key: string): boolean {
  return /^[\x21-\x7e]{8,200}$/.test(key);
}

/** Claims the key, or returns the stored result of the first request. */
export async function claim(
  userId: string,
  actionId: string,
  key: string,
): Promise<{ claimed: true } | { claimed: false; result: StoredResult }> {
  if (!validKey(key)) {
    throw new Problem('invalid_input', 'Idempotency-Key must be 8–200 visible ASCII characters.', {
      errors: [{ field: 'Idempotency-Key', message: 'must be 8–200 visible ASCII characters' }],
    });
  }
  const client = await table(IDEMPOTENCY_TABLE);
  const rk = rowKey(actionId, key);
  try {
    await client.createEntity({
      partitionKey: userId,
      rowKey: rk,
      state: 'pending',
      at: new Date().toISOString(),
    });
    return { claimed: true };
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode !== 409) throw err;
  }
  const row = await client.getEntity<{ state: string; at: string; status?: number; body?: string }>(
    userId,
    rk,
  );
  if (Date.now() - Date.parse(row.at) > TTL_MS) {
    // Expired: take it over (conditional on what we read, so two takers can't both win).
    await client.updateEntity(
      {
        partitionKey: userId,
        rowKey: rk,
        state: 'pending',
        at: new Date().toISOString(),
        status: 0,
        body: '',
      },
      'Replace',
      { etag: row.etag },
    );
    return { claimed: true };
  }
  if (row.state === 'unknown') {
    throw new Problem(
      'conflict',
      'The first request with this Idempotency-Key ended with an unknown outcome (Microsoft Graph failed mid-way). Check whether it took effect (for mail: Sent Items) before trying again with a new key.',
      { outcomeUnknown: true },
    );
  }
  if (row.state !== 'done') {
    throw new Problem(
      'conflict',
      'A request with this Idempotency-Key is still being processed; retry in a moment.',
      {},
      { 'retry-after': '2' },
    );
  }
  return {
    claimed: false,
    result: { status: row.status ?? 200, body: row.body ? (JSON.parse(row.body) as unknown) : null },
  };
}

export async function complete(
  userId: string,
  actionId: string,
  key: string,
  result: StoredResult,
): Promise<void> {
  const client = await table(IDEMPOTENCY_TABLE);
  await client.upsertEntity(
    {
      partitionKey: userId,
      rowKey: rowKey(actionId, key),
      state: 'done',
      at: new Date().toISOString(),
      status: result.status,
      body: JSON.stringify(result.body ?? null),
    },
    'Replace',
  );
}

/** Remembers that the first attempt's outcome is unknown, so a repeat is refused with that explanation. */
export async function markUnknown(userId: string, actionId: string, key: string): Promise<void> {
  const client = await table(IDEMPOTENCY_TABLE);
  await client.upsertEntity(
    { partitionKey: userId, rowKey: rowKey(actionId, key), state: 'unknown', at: new Date().toISOString() },
    'Replace',
  );
}

/** A failed first attempt releases the key only when nothing can have happened (the caller may retry). */
export async function release(userId: string, actionId: string, key: string): Promise<void> {
  const client = await table(IDEMPOTENCY_TABLE);
  await client.deleteEntity(userId, rowKey(actionId, key)).catch(() => undefined);
}
