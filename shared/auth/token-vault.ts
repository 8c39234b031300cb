/**
 * The token vault: access tokens for a connected user, from the encrypted MSAL cache in Table
 * Storage, refreshed through acquireTokenSilent (ahead of expiry; rotated refresh tokens always
 * saved). Concurrent requests of one user in one instance share one in-flight acquisition.
 * Writes are conditional on the row's ETag; on a conflict the row is re-read and the newer cache
 * kept. When Microsoft says no (invalid_grant, interaction or consent required, MFA) the
 * connection becomes `reauth_required` once and is never retried in a loop; when the app's own
 * credentials are rejected (AADSTS7000215/7000222) callers get 503 and users are not marked.
 */
import type { InvocationContext } from '@azure/functions';
import type * as Msal from '@azure/msal-node';
import { getConfig, type Feature } from '../config';
import { unavailableIn } from '../cloud';
import { decrypt, DecryptionError, encrypt } from '../crypto/envelope';
import { Problem } from '../http/problem';
import {
  ConcurrencyConflict,
  getConnection,
  onConnectionWritten,
  patchConnection,
  saveConnection,
  type Connection,
} from '../storage/connections';
import { chooseAccount } from './accounts';
import { mapMsalError, startConnect } from './connect';
import { CACHE_PURPOSE, encryptionKeys } from './keys';
import { createMsalApp, UserCachePlugin } from './msal';
import { recordTokenRefresh } from '../telemetry';
import { grantedFeatures, resourceScopes, WORK_ONLY_FEATURES } from './scopes';

export interface AccessToken {
  token: string;
  expiresOn: Date;
}

export interface TokenRequest {
  forceRefresh?: boolean;
  /** Claims from a CAE challenge (decoded JSON). */
  claims?: string;
}

type Logger = Pick<InvocationContext, 'log' | 'warn' | 'error'>;
const silent: Logger = { log: () => undefined, warn: () => undefined, error: () => undefined };

const inflight = new Map<string, Promise<AccessToken>>();
/** Hook for the change feed (Delta sync issue): a connection becoming reauth_required is an event. */
const reauthListeners: Array<(userId: string, reason: string) => Promise<void>> = [];

export function onReauthRequired(listener: (userId: string, reason: string) => Promise<void>): void {
  reauthListeners.push(listener);
}

/**
 * The hot path reads the connection row once: an action (a batch, an MCP call) reads it to check
 * status and features and hands it to its Graph calls (CallOptions.connection), whose token lookup
 * uses it instead of reading the row again; other callers' lookups read it themselves.
 *
 * Access tokens this instance acquired are kept, each valid only while the connection row it came
 * from is unchanged (same ETag). Every lookup has a row read by the same request, or (a read-only
 * action, recentConnection) by a request of this instance less than CONNECTION_RECHECK_SECONDS
 * ago: a disconnect (row gone), reauth, scope change, reconnect or a refresh by another instance
 * takes effect within that bound, one written by this instance at the next request; a 401 from
 * Graph forces a refresh that bypasses and replaces the kept token. One is reused while it has more than TOKEN_REUSE_MARGIN_MS left (MSAL itself
 * refreshes 5 minutes ahead). Kept in memory only, never logged or stored.
 *
 * A read-only action may start its Graph call with a kept token before its own read of the row
 * returns (readAheadConnection; shared/actions/execute.ts readAhead): the answer is used only if
 * that read finds the row unchanged, so the guarantee above holds for every answer, and a read's
 * row lookup runs in parallel with its Graph call instead of before it.
 */
const TOKEN_REUSE_MARGIN_MS = 5 * 60 * 1000;
const TOKEN_MEMO_MAX = 5000;
const tokenMemo = new Map<string, { etag: string; token: AccessToken }>();

function memoize(etag: string | undefined, userId: string, token: AccessToken): void {
  if (!etag) return;
  tokenMemo.delete(userId);
  tokenMemo.set(userId, { etag, token });
  if (tokenMemo.size > TOKEN_MEMO_MAX) tokenMemo.delete(tokenMemo.keys().next().value!);
}

/** Whether this instance holds a usable token for the user from exactly this row. */
export function heldToken(userId: string, row: Connection): boolean {
  const held = tokenMemo.get(userId);
  return (
    !!held && held.etag === row.etag && held.token.expiresOn.getTime() - Date.now() > TOKEN_REUSE_MARGIN_MS
  );
}

/** Keeps a token acquired outside the vault (on-behalf-of, shared/auth/obo.ts) for its row. */
export function rememberToken(userId: string, row: Connection, token: AccessToken): void {
  memoize(row.etag, userId, token);
}

/** The row each user's last request read in this instance (for readAheadConnection), and when. */
const rowMemo = new Map<string, Connection>();
const rowReadAt = new Map<string, number>();
onConnectionWritten((userId) => {
  rowMemo.delete(userId);
  rowReadAt.delete(userId);
  tokenMemo.delete(userId);
});

export async function loadConnection(userId: string): Promise<Connection> {
  const connection = await getConnection(userId);
  rowMemo.delete(userId);
  rowReadAt.delete(userId);
  if (connection) {
    rowMemo.set(userId, connection);
    rowReadAt.set(userId, Date.now());
    if (rowReadAt.size > TOKEN_MEMO_MAX) rowReadAt.delete(rowReadAt.keys().next().value!);
    if (rowMemo.size > TOKEN_MEMO_MAX) rowMemo.delete(rowMemo.keys().next().value!);
  }
  if (!connection) {
    tokenMemo.delete(userId);
    throw new Problem(
      'not_connected',
      'No Microsoft account is connected: start with POST /api/auth/microsoft/start.',
    );
  }
  return connection;
}

/**
 * The connection of one of the user's Microsoft accounts (shared/storage/accounts.ts): the one
 * `account` names (email or id), else the default. The usual request (no account named, the
 * default the first account) reads the user's own row only; a user who made another account the
 * default has it named on that row; one whose first account was disconnected reads the list.
 */
export async function loadAccountConnection(userId: string, account?: string): Promise<Connection> {
  if (account !== undefined) {
    const chosen = await chooseAccount(userId, account);
    if (!chosen) return await loadConnection(userId); // not_connected
    return await loadConnection(chosen.principal);
  }
  let own: Connection;
  try {
    own = await loadConnection(userId);
  } catch (err) {
    if (!(err instanceof Problem) || err.code !== 'not_connected') throw err;
    const fallback = await chooseAccount(userId, undefined);
    if (!fallback || fallback.principal === userId) throw err;
    return await loadConnection(fallback.principal);
  }
  if (own.defaultPrincipal && own.defaultPrincipal !== userId) {
    try {
      return await loadConnection(own.defaultPrincipal);
    } catch (err) {
      if (!(err instanceof Problem) || err.code !== 'not_connected') throw err;
      // The default was disconnected meanwhile: the user's own account serves.
    }
  }
  return own;
}

/**
 * The row this instance last read for the user, when a kept token came from it: a read-only call
 * may start with it while the request reads the row again, and is answered only if that read finds
 * the same ETag (shared/actions/execute.ts readAhead). Nothing is ever answered from it alone.
 */
export function readAheadConnection(userId: string): Connection | undefined {
  const row = rowMemo.get(userId);
  const held = tokenMemo.get(userId);
  if (!row?.etag || !held || row.status !== 'connected' || held.etag !== row.etag) return undefined;
  if (held.token.expiresOn.getTime() - Date.now() <= TOKEN_REUSE_MARGIN_MS) return undefined;
  return row;
}

/**
 * The row this instance read for the user less than `withinMs` ago, when it is the user's own
 * connection (not another account made the default) and a kept token came from it: a read-only
 * action may be answered from it without reading the row again (CONNECTION_RECHECK_SECONDS,
 * docs/security.md). A change this instance writes forgets it at once; one written by another
 * instance is seen once the bound has passed; a token Graph refuses is dropped at once.
 */
export function recentConnection(userId: string, withinMs: number): Connection | undefined {
  if (withinMs <= 0) return undefined;
  const row = readAheadConnection(userId);
  const readAt = rowReadAt.get(userId);
  if (!row || readAt === undefined || Date.now() - readAt >= withinMs) return undefined;
  if (row.defaultPrincipal && row.defaultPrincipal !== userId) return undefined;
  return row;
}

/** The problem an action answers when the user must sign in again, with a working URL. */
export async function reauthProblem(connection: Connection, claims?: string): Promise<Problem> {
  const features = grantedFeatures(connection.scopes.split(' '));
  const start = await startConnect(connection.userId, {
    features,
    loginHint: connection.username,
    ...((claims ?? connection.pendingClaims) ? { claims: claims ?? connection.pendingClaims } : {}),
  });
  return new Problem(
    'reauth_required',
    'The Microsoft connection needs the user to sign in again (the grant expired, was revoked, or needs MFA or consent).',
    { authorizationUrl: start.authorizationUrl, expiresAt: start.expiresAt, reason: connection.reauthReason },
    { 'www-authenticate': 'Bearer realm="microsoft", error="reauth_required"' },
  );
}

/** An action needing a feature the connection lacks answers 403 with the URL that adds it. */
export async function ensureFeature(connection: Connection, feature: Feature): Promise<void> {
  const cloud = getConfig().MICROSOFT_CLOUD;
  const elsewhere = unavailableIn(cloud, feature);
  if (elsewhere) throw new Problem('feature_unavailable', elsewhere, { feature, cloud });
  // A personal account never uses work-only features, whatever scopes it holds.
  if (connection.accountType === 'personal' && WORK_ONLY_FEATURES.includes(feature)) {
    throw new Problem(
      'feature_unavailable',
      `"${feature}" needs a work or school account; this is a personal Microsoft account.`,
      { feature },
    );
  }
  if (grantedFeatures(connection.scopes.split(' ')).includes(feature)) return;
  const start = await startConnect(connection.userId, {
    features: [feature],
    loginHint: connection.username,
  });
  throw new Problem(
    'feature_not_granted',
    `The connection does not include "${feature}". Send the user to authorizationUrl to add it.`,
    {
      feature,
      authorizationUrl: start.authorizationUrl,
      expiresAt: start.expiresAt,
    },
  );
}

export async function markReauthRequired(
  connection: Connection,
  reason: string,
  claims?: string,
  log: Logger = silent,
): Promise<void> {
  await patchConnection(connection.userId, {
    status: 'reauth_required',
    reauthReason: reason,
    reauthAt: new Date().toISOString(),
    ...(claims ? { pendingClaims: claims } : {}),
  });
  connection.status = 'reauth_required';
  connection.reauthReason = reason;
  log.warn(JSON.stringify({ event: 'connection_reauth_required', reason }));
  for (const listener of reauthListeners) await listener(connection.userId, reason).catch(() => undefined);
}

/**
 * Persists a changed MSAL cache; on an ETag conflict keeps whichever cache is newer. Returns the
 * saved row's ETag (undefined when another writer's row was kept).
 */
async function persistCache(
  connection: Connection,
  serialized: string,
  refreshedAt: string,
): Promise<string | undefined> {
  const keys = await encryptionKeys();
  let current: Connection = connection;
  for (let attempt = 0; attempt < 3; attempt++) {
    const sealed = encrypt(serialized, { userId: connection.userId, purpose: CACHE_PURPOSE }, keys);
    try {
      return await saveConnection({
        ...current,
        cacheKeyId: sealed.keyId,
        cacheData: sealed.data,
        lastRefreshAt: refreshedAt,
        lastUsedAt: refreshedAt,
      });
    } catch (err) {
      if (!(err instanceof ConcurrencyConflict)) throw err;
      const latest = await getConnection(connection.userId);
      if (!latest) return undefined; // disconnected meanwhile: nothing to keep
      if (latest.lastRefreshAt >= refreshedAt || latest.status !== 'connected') return undefined; // theirs is newer
      current = latest;
    }
  }
  return undefined;
}

/** One acquisition without sharing (what a second instance does); use getAccessToken. */
export async function acquireToken(
  userId: string,
  request: TokenRequest = {},
  log: Logger = silent,
): Promise<AccessToken> {
  const connection = await loadConnection(userId);
  if (connection.status === 'reauth_required') throw await reauthProblem(connection);
  if (connection.grant === 'obo') {
    // Its Graph tokens come only from the caller's own Entra token (obo.ts), never in the background.
    throw new Problem(
      'unauthenticated',
      "This user's Microsoft access is granted on behalf of their Entra token: call again with a current one.",
    );
  }
  const keys = await encryptionKeys();
  let serialized: string;
  try {
    serialized = decrypt(
      { keyId: connection.cacheKeyId, data: connection.cacheData },
      { userId, purpose: CACHE_PURPOSE },
      keys,
    );
  } catch (err) {
    if (!(err instanceof DecryptionError)) throw err;
    log.error(JSON.stringify({ event: 'token_cache_undecryptable', reason: err.message }));
    await markReauthRequired(connection, 'token_cache_unreadable', undefined, log);
    throw await reauthProblem(connection);
  }
  const plugin = new UserCachePlugin(serialized);
  const app = await createMsalApp(plugin);
  const account = await app.getTokenCache().getAccountByHomeId(connection.homeAccountId);
  if (!account) {
    await markReauthRequired(connection, 'account_missing_from_cache', undefined, log);
    throw await reauthProblem(connection);
  }
  let result: Msal.AuthenticationResult;
  try {
    result = await app.acquireTokenSilent({
      account,
      scopes: resourceScopes(connection.scopes.split(' ')),
      ...(request.forceRefresh ? { forceRefresh: true } : {}),
      ...(request.claims ? { claims: request.claims } : {}),
    });
  } catch (err) {
    const code = mapMsalError(err);
    recordTokenRefresh(
      code === 'interaction_required' || code === 'invalid_grant' ? 'reauth_required' : 'failed',
    );
    if (code === 'app_credentials_invalid') {
      const text = `${(err as { errorMessage?: string }).errorMessage ?? ''}`;
      const aadsts = /AADSTS\d+/.exec(text)?.[0] ?? 'invalid_client';
      log.error(
        JSON.stringify({
          event: 'app_credentials_invalid',
          aadsts,
          action:
            aadsts === 'AADSTS7000222'
              ? 'The client secret expired: create a new one and update MICROSOFT_CLIENT_SECRET'
              : 'Check MICROSOFT_CLIENT_ID and MICROSOFT_CLIENT_SECRET',
        }),
      );
      throw new Problem(
        'app_credentials_invalid',
        'Microsoft rejected the app credentials; an operator must update the client secret. Users do not need to do anything.',
        {},
        { 'retry-after': '300' },
      );
    }
    if (code === 'temporarily_unavailable') {
      throw new Problem(
        'upstream_unavailable',
        'The Microsoft identity platform is unavailable; nothing was done. Retry shortly.',
        {},
        { 'retry-after': '30' },
      );
    }
    if (code === 'interaction_required' || code === 'invalid_grant') {
      const text = `${(err as { errorMessage?: string }).errorMessage ?? ''}`;
      const reason = /AADSTS\d+/.exec(text)?.[0] ?? code;
      await markReauthRequired(connection, reason, request.claims, log);
      throw await reauthProblem(connection, request.claims);
    }
    throw new Problem('upstream_error', 'Token acquisition failed unexpectedly; retry later.');
  }
  let rowEtag = connection.etag;
  if (plugin.changed && plugin.serialized) {
    // The cache changed: MSAL went to the identity platform (a refresh), not to its cache.
    recordTokenRefresh('ok');
    rowEtag = await persistCache(connection, plugin.serialized, new Date().toISOString());
  }
  const token = { token: result.accessToken, expiresOn: result.expiresOn ?? new Date(Date.now() + 300_000) };
  // A plain acquisition is kept for the next requests; one made for CAE claims is not.
  if (!request.claims) memoize(rowEtag, userId, token);
  return token;
}

/**
 * An access token for the user's Graph calls. Concurrent calls for one user share one acquisition.
 * `connection`: the row this request already read (the token is checked against it).
 */
export async function getAccessToken(
  userId: string,
  request: TokenRequest = {},
  log: Logger = silent,
  connection?: Connection,
): Promise<AccessToken> {
  let known: Connection | undefined;
  if (request.forceRefresh || request.claims) {
    tokenMemo.delete(userId); // Graph refused it, or it lacks the claims: never reused again
  } else {
    known = connection ?? (await loadConnection(userId));
    const held = tokenMemo.get(userId);
    if (
      held &&
      known.status === 'connected' &&
      held.etag === known.etag &&
      held.token.expiresOn.getTime() - Date.now() > TOKEN_REUSE_MARGIN_MS
    ) {
      return held.token;
    }
  }
  // A miss acquires from a fresh read of the row: the one this request holds may predate a refresh
  // that another request of this instance just saved (its cache is then the one to use).
  const key = `${userId}|${request.forceRefresh ? 'force' : ''}|${request.claims ?? ''}`;
  let pending = inflight.get(key);
  if (!pending) {
    pending = acquireToken(userId, request, log).finally(() => inflight.delete(key));
    inflight.set(key, pending);
  }
  return await pending;
}
