/**
 * Token maintenance, fanned out one message per connection (never a loop over all users in one
 * invocation): keep idle connections alive well before Entra's 90-day refresh-token inactivity
 * expiry (reference §7.5), and re-encrypt token caches written under an older key after rotation.
 */
import type { InvocationContext } from '@azure/functions';
import { decrypt, encrypt } from '../crypto/envelope';
import { enqueue } from '../storage/clients';
import {
  ConcurrencyConflict,
  getConnection,
  listConnections,
  saveConnection,
  type Connection,
} from '../storage/connections';
import { CACHE_PURPOSE, encryptionKeys } from './keys';
import { getAccessToken } from './token-vault';

export const MAINTENANCE_QUEUE = 'token-maintenance';
/** Refresh connections idle this long; Entra revokes refresh tokens after 90 days of inactivity. */
export const KEEPALIVE_AFTER_DAYS = 14;

export type MaintenanceMessage = { kind: 'keepalive' | 'reencrypt'; userId: string };

/** The connections to fan out over: every one, or one storage account's (shared/fanout.ts). */
type Connections = AsyncIterable<Connection> | Iterable<Connection>;

export async function fanOutKeepAlive(
  now = Date.now(),
  connections: Connections = listConnections(),
): Promise<number> {
  const cutoff = new Date(now - KEEPALIVE_AFTER_DAYS * 24 * 3600 * 1000).toISOString();
  let n = 0;
  for await (const c of connections) {
    if (c.status !== 'connected' || c.lastRefreshAt > cutoff) continue;
    await enqueue(MAINTENANCE_QUEUE, { kind: 'keepalive', userId: c.userId } satisfies MaintenanceMessage);
    n++;
  }
  return n;
}

export async function fanOutReencrypt(connections: Connections = listConnections()): Promise<number> {
  const [current] = await encryptionKeys();
  let n = 0;
  for await (const c of connections) {
    if (c.cacheKeyId === current?.id) continue;
    await enqueue(MAINTENANCE_QUEUE, { kind: 'reencrypt', userId: c.userId } satisfies MaintenanceMessage);
    n++;
  }
  return n;
}

/** Rewrites one connection's cache under the current key (conditional on its ETag; retried on conflict). */
export async function reencryptConnection(userId: string): Promise<boolean> {
  const keys = await encryptionKeys();
  for (let attempt = 0; attempt < 3; attempt++) {
    const c = await getConnection(userId);
    if (!c || c.cacheKeyId === keys[0]?.id) return false;
    const plain = decrypt(
      { keyId: c.cacheKeyId, data: c.cacheData },
      { userId, purpose: CACHE_PURPOSE },
      keys,
    );
    const sealed = encrypt(plain, { userId, purpose: CACHE_PURPOSE }, keys);
    try {
      await saveConnection({ ...c, cacheKeyId: sealed.keyId, cacheData: sealed.data });
      return true;
    } catch (err) {
      if (!(err instanceof ConcurrencyConflict)) throw err;
    }
  }
  return false;
}

export async function handleMaintenance(
  message: MaintenanceMessage,
  context: InvocationContext,
): Promise<void> {
  if (message.kind === 'reencrypt') {
    const done = await reencryptConnection(message.userId);
    context.log(JSON.stringify({ event: 'token_cache_reencrypted', done }));
    return;
  }
  try {
    await getAccessToken(message.userId, { forceRefresh: true }, context);
    context.log(JSON.stringify({ event: 'connection_kept_alive' }));
  } catch (err) {
    // reauth_required is recorded by the vault itself; nothing to retry.
    context.warn(JSON.stringify({ event: 'keepalive_failed', code: (err as { code?: string }).code }));
  }
}
