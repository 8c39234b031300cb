/**
 * The `oauthstates` table: one row per sign-in attempt, keyed by the SHA-256 of the state (the
 * state itself is never stored), holding the user id, the encrypted PKCE verifier, nonce, scopes,
 * return URL and expiry; and one row per sign-in waiting for the platform's confirmation, keyed by
 * the SHA-256 of its completion code, holding the encrypted token cache (docs/security.md).
 * Consumption is single-use and atomic: read, then delete with If-Match.
 */
import { createHash } from 'node:crypto';
import { table } from './clients';
import { cacheColumns, cacheFromColumns, type SignedInAccount } from './connections';

export const OAUTH_STATES_TABLE = 'oauthstates';
const ROW = 'state';
const PENDING_ROW = 'completion';

export interface OAuthState {
  userId: string;
  verifierKeyId: string;
  verifierData: string;
  nonce: string;
  scopes: string;
  features: string;
  returnUrl?: string;
  claims?: string;
  accountLabel?: string;
  /** A sign-in an MCP client's authorization started (shared/mcp/oauth/flow.ts): its request id. */
  mcpRequest?: string;
  expiresAt: string;
}

export function hashState(state: string): string {
  return createHash('sha256').update(state, 'utf8').digest('hex');
}

/** A sign-in Microsoft completed, waiting for the platform to confirm the same user came back. */
export interface PendingConnection extends SignedInAccount {
  userId: string;
  returnUrl?: string;
  expiresAt: string;
}

async function saveRow(secret: string, row: string, value: object): Promise<void> {
  const client = await table(OAUTH_STATES_TABLE);
  const entity: Record<string, unknown> & { partitionKey: string; rowKey: string } = {
    partitionKey: hashState(secret),
    rowKey: row,
  };
  for (const [k, v] of Object.entries(value)) if (v !== undefined) entity[k] = v;
  await client.createEntity(entity);
}

export async function saveState(state: string, value: OAuthState): Promise<void> {
  await saveRow(state, ROW, value);
}

export async function savePending(completionCode: string, value: PendingConnection): Promise<void> {
  const { cacheData, ...rest } = value;
  await saveRow(completionCode, PENDING_ROW, { ...rest, ...cacheColumns(cacheData) });
}

export type ConsumeResult<T = OAuthState> =
  | { ok: true; value: T }
  /** `usedBy`: for a sign-in state already taken, whose it was (to tell a reload apart). */
  | { ok: false; reason: 'unknown' | 'expired' | 'used'; usedBy?: string };

/**
 * Takes a state exactly once: a replay, an unknown or an expired state fails. A taken state stays
 * as a tombstone holding only the user id until it would have expired (the verifier and the rest
 * are gone), so reloading the result page can say the connection is fine instead of "unknown".
 */
export async function consumeState(state: string, now = Date.now()): Promise<ConsumeResult> {
  return await consumeRow<OAuthState>(state, ROW, now, true);
}

/** Takes a pending connection exactly once, by its completion code. */
export async function consumePending(
  completionCode: string,
  now = Date.now(),
): Promise<ConsumeResult<PendingConnection>> {
  const result = await consumeRow<Record<string, unknown> & { expiresAt: string }>(
    completionCode,
    PENDING_ROW,
    now,
  );
  if (!result.ok) return result;
  const row = result.value;
  const text = (key: string) => (typeof row[key] === 'string' ? row[key] : '');
  return {
    ok: true,
    value: {
      userId: text('userId'),
      homeAccountId: text('homeAccountId'),
      username: text('username'),
      displayName: text('displayName'),
      tenantId: text('tenantId'),
      accountType: row.accountType === 'personal' ? 'personal' : 'work',
      scopes: text('scopes'),
      cacheKeyId: text('cacheKeyId'),
      cacheData: cacheFromColumns(row),
      ...(typeof row.returnUrl === 'string' ? { returnUrl: row.returnUrl } : {}),
      expiresAt: text('expiresAt'),
    },
  };
}

async function consumeRow<T extends { expiresAt: string }>(
  secret: string,
  rowKey: string,
  now: number,
  tombstone = false,
): Promise<ConsumeResult<T>> {
  if (!/^[A-Za-z0-9_-]{20,100}$/.test(secret)) return { ok: false, reason: 'unknown' };
  const client = await table(OAUTH_STATES_TABLE);
  const key = hashState(secret);
  let row;
  try {
    row = await client.getEntity<Record<string, unknown>>(key, rowKey);
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode === 404) return { ok: false, reason: 'unknown' };
    throw err;
  }
  if (row.consumedAt) {
    return { ok: false, reason: 'used', ...(typeof row.userId === 'string' ? { usedBy: row.userId } : {}) };
  }
  try {
    if (tombstone) {
      await client.updateEntity(
        {
          partitionKey: key,
          rowKey,
          userId: row.userId,
          expiresAt: row.expiresAt,
          consumedAt: new Date(now).toISOString(),
        },
        'Replace',
        { etag: row.etag },
      );
    } else {
      await client.deleteEntity(key, rowKey, { etag: row.etag });
    }
  } catch (err) {
    const code = (err as { statusCode?: number }).statusCode;
    if (code === 404 || code === 412) return { ok: false, reason: 'used' };
    throw err;
  }
  const value = row as unknown as T;
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
