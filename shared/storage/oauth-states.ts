/**
 * The `oauthstates` table: one row per sign-in attempt, keyed by the SHA-256 of the state (the
 * state itself is never stored), holding the user id, the encrypted PKCE verifier, nonce, scopes,
 * return URL and expiry. Consumption is single-use and atomic: read, then delete with If-Match.
 */
import { createHash } from 'node:crypto';
import { table } from './clients';

export const OAUTH_STATES_TABLE = 'oauthstates';
const ROW = 'state';

export interface OAuthState {
  userId: string;
  verifierKeyId: string;
  verifierData: string;
  nonce: string;
  scopes: string;
  features: string;
  returnUrl?: string;
  claims?: string;
  expiresAt: string;
}

export function hashState(state: string): string {
  return createHash('sha256').update(state, 'utf8').digest('hex');
}

export async function saveState(state: string, value: OAuthState): Promise<void> {
  const client = await table(OAUTH_STATES_TABLE);
  const entity: Record<string, unknown> & { partitionKey: string; rowKey: string } = {
    partitionKey: hashState(state),
    rowKey: ROW,
  };
  for (const [k, v] of Object.entries(value)) if (v !== undefined) entity[k] = v;
  await client.createEntity(entity);
}

export type ConsumeResult =
  { ok: true; value: OAuthState } | { ok: false; reason: 'unknown' | 'expired' | 'used' };

/** Takes a state exactly once: a replay, an unknown or an expired state fails. */
export async function consumeState(state: string, now = Date.now()): Promise<ConsumeResult> {
  if (!/^[A-Za-z0-9_-]{20,100}$/.test(state)) return { ok: false, reason: 'unknown' };
  const client = await table(OAUTH_STATES_TABLE);
  const key = hashState(state);
  let row;
  try {
    row = await client.getEntity<Record<string, unknown>>(key, ROW);
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode === 404) return { ok: false, reason: 'unknown' };
    throw err;
  }
  try {
    await client.deleteEntity(key, ROW, { etag: row.etag });
  } catch (err) {
    const code = (err as { statusCode?: number }).statusCode;
    if (code === 404 || code === 412) return { ok: false, reason: 'used' };
    throw err;
  }
  const value = row as unknown as OAuthState;
  if (Date.parse(value.expiresAt) <= now) return { ok: false, reason: 'expired' };
  return { ok: true, value };
}

/** Removes a user's pending sign-in attempts (disconnect / erasure). */
export async function deleteStatesForUser(userId: string): Promise<number> {
  const client = await table(OAUTH_STATES_TABLE);
  let n = 0;
  const escaped = userId.replace(/'/g, "''");
  for await (const row of client.listEntities({ queryOptions: { filter: `userId eq '${escaped}'` } })) {
    await client.deleteEntity(row.partitionKey!, row.rowKey!).catch(() => undefined);
    n++;
  }
  return n;
}
