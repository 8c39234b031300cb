/**
 * What happens around a connection: hooks run after a user connects (initial subscriptions and
 * sync, added by those features) and before a user disconnects (delete Graph subscriptions while
 * the token still works), plus the stores the connect flow owns for export and erasure.
 */
import type { InvocationContext } from '@azure/functions';
import { deleteAuditForUser, listAudit } from '../audit';
import { registerUserData } from '../privacy';
import { deleteConnection, getConnection, type Connection } from '../storage/connections';
import { grantedFeatures } from './scopes';
import { deleteStatesForUser } from '../storage/oauth-states';
import { eraseAccounts, listAccounts } from '../storage/accounts';

type Hook = (userId: string, context: InvocationContext) => Promise<void>;

/** A connection as the API shows it (GET /connections/me, POST /auth/microsoft/complete): never the cache. */
export function connectionView(c: Connection): Record<string, unknown> {
  return {
    status: c.status,
    account: { username: c.username, displayName: c.displayName, accountType: c.accountType },
    tenantId: c.tenantId,
    features: grantedFeatures(c.scopes.split(' ')),
    scopes: c.scopes.split(' '),
    connectedAt: c.connectedAt,
    lastRefreshAt: c.lastRefreshAt,
    ...(c.reauthReason && c.status === 'reauth_required'
      ? { reauthReason: c.reauthReason, reauthAt: c.reauthAt }
      : {}),
  };
}
const connectedHooks: Hook[] = [];
const disconnectingHooks: Hook[] = [];

export function onConnected(hook: Hook): void {
  connectedHooks.push(hook);
}
export function onDisconnecting(hook: Hook): void {
  disconnectingHooks.push(hook);
}

/** Post-connect work: failures are logged, never undo the connection (renewal/sync timers catch up). */
export async function runConnectedHooks(userId: string, context: InvocationContext): Promise<void> {
  for (const hook of connectedHooks) {
    await hook(userId, context).catch((err: unknown) =>
      context.warn(JSON.stringify({ event: 'post_connect_failed', message: (err as Error).message })),
    );
  }
}

export async function runDisconnectingHooks(userId: string, context: InvocationContext): Promise<void> {
  for (const hook of disconnectingHooks) {
    await hook(userId, context).catch((err: unknown) =>
      context.warn(JSON.stringify({ event: 'pre_disconnect_failed', message: (err as Error).message })),
    );
  }
}

registerUserData({
  name: 'connection',
  async export(userId) {
    const c = await getConnection(userId);
    if (!c) return null;
    // Everything but the encrypted token cache: tokens are secrets, not personal data to hand out.
    const { cacheData: _cache, cacheKeyId: _key, etag: _etag, ...rest } = c;
    return rest;
  },
  erase: async (userId) => ((await deleteConnection(userId)) ? 1 : 0),
  perAccount: true,
});
registerUserData({
  name: 'accounts',
  async export(userId) {
    const { accounts, defaultId } = await listAccounts(userId);
    return accounts.map((a) => ({
      id: a.id,
      username: a.username,
      accountType: a.accountType,
      addedAt: a.addedAt,
      default: a.id === defaultId,
    }));
  },
  erase: eraseAccounts,
});
registerUserData({
  name: 'pendingSignIns',
  export: async () => 'not exported (short-lived, secret-bearing)',
  erase: deleteStatesForUser,
});
registerUserData({
  name: 'audit',
  async export(userId) {
    const all = [];
    let after: string | undefined;
    do {
      const page = await listAudit(userId, { after, limit: 500 });
      all.push(...page.entries);
      after = page.next;
    } while (after);
    return all;
  },
  erase: deleteAuditForUser,
});
