/**
 * The connect flow (product brief "User Authorization"): start → Microsoft sign-in and consent →
 * callback → (platform confirms) → tokens stored encrypted → connected. State is 256-bit random,
 * stored hashed with the user id, the encrypted PKCE verifier, nonce, scopes and return URL, for
 * 10 minutes, single use. The verifier never appears in a URL; only its S256 challenge does.
 *
 * The binding to the person who started (docs/security.md, "account linking"): whoever holds an
 * authorization URL can complete it in any browser, so a URL sent to someone else would link
 * their mailbox to the starter's account. A callback therefore links a Microsoft account to the
 * platform user only when that user already holds a connection to the same account (re-consent,
 * reauth); every other sign-in waits as a pending connection behind a one-time completion code
 * that travels only in the browser that signed in, and completes when the platform exchanges it
 * with the caller JWT of the same user (`POST /api/auth/microsoft/complete`).
 */
import { unavailableIn } from '../cloud';
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type * as Msal from '@azure/msal-node';
import { getConfig, type Feature, FEATURES } from '../config';
import { decrypt, encrypt } from '../crypto/envelope';
import { Problem } from '../http/problem';
import { addAccount, listAccounts, principalFor, splitPrincipal } from '../storage/accounts';
import { getConnection, saveConnection, type Connection, type SignedInAccount } from '../storage/connections';
import { consumePending, consumeState, savePending, saveState } from '../storage/oauth-states';
import { CACHE_PURPOSE, encryptionKeys, PKCE_PURPOSE } from './keys';
import { createMsalApp, msal, signInPagesOrigin, UserCachePlugin } from './msal';
import { grantedFeatures, resourceScopes, scopesFor, shortScope, WORK_ONLY_FEATURES } from './scopes';

export const STATE_LIFETIME_MS = 10 * 60 * 1000;
/** How long a completed sign-in waits for the platform's confirmation. */
export const PENDING_LIFETIME_MS = 10 * 60 * 1000;

export interface StartInput {
  features?: Feature[];
  returnUrl?: string;
  loginHint?: string;
  prompt?: 'login' | 'consent' | 'select_account' | 'none';
  /** CAE claims the new sign-in must satisfy (from a claims challenge). */
  claims?: string;
  /** How the platform names the user, shown on the confirmation page. */
  accountLabel?: string;
  /**
   * The sign-in of an MCP client's authorization (shared/mcp/oauth/flow.ts): the user is whoever
   * signs in (`mcp:{tid}:{oid}`), and the callback leads to the consent screen, not to a platform.
   */
  mcpRequest?: string;
}

export interface StartResult {
  authorizationUrl: string;
  expiresAt: string;
  features: Feature[];
}

/** A return URL must start with one of the allow-listed prefixes: same origin, path prefix. */
export function returnUrlAllowed(candidate: string, allowlist: readonly string[]): boolean {
  if (!URL.canParse(candidate)) return false;
  const url = new URL(candidate);
  if (url.username || url.password) return false;
  return allowlist.some((prefix) => {
    const allowed = new URL(prefix);
    const path = allowed.pathname.endsWith('/') ? allowed.pathname : `${allowed.pathname}/`;
    return (
      url.origin === allowed.origin && (url.pathname === allowed.pathname || url.pathname.startsWith(path))
    );
  });
}

function base64url(bytes: Buffer): string {
  return bytes.toString('base64url');
}

export async function startConnect(userId: string, input: StartInput): Promise<StartResult> {
  const config = getConfig();
  if (input.returnUrl !== undefined && !returnUrlAllowed(input.returnUrl, config.RETURN_URL_ALLOWLIST)) {
    throw new Problem('invalid_input', 'returnUrl is not on the allow-list (RETURN_URL_ALLOWLIST).', {
      errors: [{ field: 'returnUrl', message: 'must start with an allow-listed URL prefix' }],
    });
  }
  // prompt=select_account adds another Microsoft account (issue 30): nothing of the current one
  // (its features, its type, its name as the hint) shapes the new sign-in.
  const adding = input.prompt === 'select_account';
  const existing = adding ? undefined : await getConnection(userId);
  const requested = input.features ?? config.MICROSOFT_FEATURES;
  // Incremental consent: a connected user asking for more gets a URL for the union.
  const previously = existing ? grantedFeatures(existing.scopes.split(' ')) : [];
  const features = FEATURES.filter((f) => requested.includes(f) || previously.includes(f));
  const personal = config.MICROSOFT_TENANT_ID === 'consumers' || existing?.accountType === 'personal';
  const workOnly = features.filter((f) => WORK_ONLY_FEATURES.includes(f) && requested.includes(f));
  if (personal && workOnly.length > 0) {
    throw new Problem(
      'feature_unavailable',
      `${workOnly.join(', ')} need a work or school account; personal Microsoft accounts cannot use them. Ask again without them.`,
      { features: workOnly },
    );
  }
  const elsewhere = features.filter((f) => requested.includes(f) && unavailableIn(config.MICROSOFT_CLOUD, f));
  if (elsewhere.length > 0) {
    throw new Problem(
      'feature_unavailable',
      `${elsewhere.map((f) => unavailableIn(config.MICROSOFT_CLOUD, f)).join(' ')} Ask again without ${elsewhere.join(', ')}.`,
      { features: elsewhere, cloud: config.MICROSOFT_CLOUD },
    );
  }
  const scopes = scopesFor(features);
  const state = base64url(randomBytes(32));
  const verifier = base64url(randomBytes(32));
  const challenge = base64url(createHash('sha256').update(verifier).digest());
  const nonce = base64url(randomBytes(16));
  const expiresAt = new Date(Date.now() + STATE_LIFETIME_MS).toISOString();
  const keys = await encryptionKeys();
  const sealed = encrypt(verifier, { userId, purpose: PKCE_PURPOSE }, keys);
  await saveState(state, {
    userId,
    verifierKeyId: sealed.keyId,
    verifierData: sealed.data,
    nonce,
    scopes: scopes.join(' '),
    features: features.join(','),
    ...(input.returnUrl ? { returnUrl: input.returnUrl } : {}),
    ...(input.claims ? { claims: input.claims } : {}),
    ...(input.accountLabel ? { accountLabel: input.accountLabel } : {}),
    ...(input.mcpRequest ? { mcpRequest: input.mcpRequest } : {}),
    expiresAt,
  });
  const app = await createMsalApp(new UserCachePlugin(undefined));
  const authorizationUrl = await app.getAuthCodeUrl({
    scopes,
    redirectUri: config.MICROSOFT_REDIRECT_URI,
    state,
    nonce,
    codeChallenge: challenge,
    codeChallengeMethod: 'S256',
    responseMode: 'query',
    ...(input.prompt ? { prompt: input.prompt } : {}),
    ...((input.loginHint ?? existing?.username) ? { loginHint: input.loginHint ?? existing?.username } : {}),
    ...(input.claims ? { claims: input.claims } : {}),
  });
  return { authorizationUrl, expiresAt, features };
}

/**
 * The admin-consent URL for tenants whose administrators must consent (reference §7.6), on the
 * host that serves the authority's sign-in pages (signInPagesOrigin).
 */
export async function adminConsentUrl(features: readonly Feature[], tenant?: string): Promise<string> {
  const config = getConfig();
  const authorityTenant =
    tenant ??
    (['common', 'consumers'].includes(config.MICROSOFT_TENANT_ID)
      ? 'organizations'
      : config.MICROSOFT_TENANT_ID);
  const url = new URL(`${await signInPagesOrigin()}/${authorityTenant}/v2.0/adminconsent`);
  url.searchParams.set('client_id', config.MICROSOFT_CLIENT_ID);
  url.searchParams.set(
    'scope',
    resourceScopes(scopesFor(features))
      .map((s) => `https://graph.microsoft.com/${s}`)
      .join(' '),
  );
  url.searchParams.set('redirect_uri', config.MICROSOFT_REDIRECT_URI);
  return url.toString();
}

export type CallbackOutcome =
  | { kind: 'connected'; userId: string; returnUrl?: string; connection: Connection }
  /** The page was reloaded after a sign-in that connected: nothing was done again. */
  | { kind: 'already_connected'; userId?: undefined; returnUrl?: undefined }
  | {
      kind: 'confirm';
      userId: string;
      returnUrl?: string;
      /** One-time code the platform exchanges with the same user's caller JWT. */
      completionCode: string;
      username: string;
      accountLabel?: string;
      expiresAt: string;
    }
  | {
      /** An MCP client's sign-in: the user decides on the consent screen (shared/mcp/oauth/flow.ts). */
      kind: 'mcp_consent';
      userId: string;
      returnUrl?: undefined;
      mcpRequest: string;
      completionCode: string;
      username: string;
    }
  | {
      kind: 'error';
      code: string;
      message: string;
      userId?: string;
      returnUrl?: string;
      status: number;
      diagnostic?: string;
      mcpRequest?: string;
    };

const ERROR_TEXT: Record<string, string> = {
  access_denied:
    'You cancelled the sign-in or declined the permissions. Nothing was connected; you can try again.',
  consent_required:
    'Your organization requires an administrator to approve this app. Ask your admin to grant consent, then try again.',
  interaction_required:
    'Microsoft needs you to complete an extra sign-in step (such as MFA). Please try again.',
  login_required: 'Please sign in again.',
  state_invalid:
    'This sign-in link is unknown, expired or already used. Start connecting again from the app.',
  token_exchange_failed: 'Microsoft did not accept the sign-in. Start connecting again from the app.',
  app_credentials_invalid:
    'The app is not correctly configured with Microsoft right now. Your administrator has been notified.',
  temporarily_unavailable: 'Microsoft sign-in is temporarily unavailable. Please try again in a few minutes.',
};

export function callbackErrorText(code: string): string {
  return ERROR_TEXT[code] ?? 'The connection could not be completed. Please try again.';
}

/** Handles the redirect back from Microsoft: consumes the state, exchanges the code, stores the connection. */
export async function completeCallback(query: URLSearchParams): Promise<CallbackOutcome> {
  const config = getConfig();
  const state = query.get('state') ?? '';
  const consumed = await consumeState(state);
  if (!consumed.ok) {
    // A reload of the page after a sign-in that connected: say so, change nothing.
    if (consumed.reason === 'used' && consumed.usedBy) {
      const connection = await getConnection(consumed.usedBy);
      if (connection?.status === 'connected') return { kind: 'already_connected' };
    }
    return { kind: 'error', code: 'state_invalid', message: callbackErrorText('state_invalid'), status: 400 };
  }
  const { value } = consumed;
  const base = {
    userId: value.userId,
    ...(value.returnUrl ? { returnUrl: value.returnUrl } : {}),
    ...(value.mcpRequest ? { mcpRequest: value.mcpRequest } : {}),
  };
  const failed = (code: string): CallbackOutcome => ({
    kind: 'error',
    code,
    message: callbackErrorText(code),
    status: 400,
    ...base,
  });

  const error = query.get('error');
  if (error) {
    const code = [
      'access_denied',
      'consent_required',
      'interaction_required',
      'login_required',
      'temporarily_unavailable',
    ].includes(error)
      ? error
      : 'authorization_failed';
    return failed(code);
  }
  const code = query.get('code');
  if (!code || code.length > 4096) {
    return failed('authorization_failed');
  }

  const keys = await encryptionKeys();
  const verifier = decrypt(
    { keyId: value.verifierKeyId, data: value.verifierData },
    { userId: value.userId, purpose: PKCE_PURPOSE },
    keys,
  );
  const plugin = new UserCachePlugin(undefined);
  const app = await createMsalApp(plugin);
  let result: Msal.AuthenticationResult;
  try {
    result = await app.acquireTokenByCode({
      code,
      redirectUri: config.MICROSOFT_REDIRECT_URI,
      scopes: value.scopes.split(' '),
      codeVerifier: verifier,
      // MSAL checks the id_token's nonce against this one (replay protection).
      nonce: value.nonce,
    });
  } catch (err) {
    const mapped = mapMsalError(err);
    return {
      kind: 'error',
      code: mapped,
      message: callbackErrorText(mapped),
      status: mapped === 'app_credentials_invalid' ? 503 : 400,
      diagnostic: msalDiagnostic(err),
      ...base,
    };
  }
  const claims = (result.idTokenClaims ?? {}) as { nonce?: string; tid?: string; name?: string };
  if (claims.nonce !== undefined && claims.nonce !== value.nonce) {
    return failed('token_exchange_failed');
  }
  const account = result.account;
  if (!account || !plugin.serialized) {
    return failed('token_exchange_failed');
  }
  const tenantId = account.tenantId || claims.tid || '';
  // An MCP client's user is the Microsoft account itself: nothing to link, nobody to confirm.
  // A platform user's account they already hold is refreshed under its own principal.
  // (A flow started for another account of the user, e.g. its incremental consent, names its
  // principal: the list is the user's.)
  const known = value.mcpRequest
    ? undefined
    : (await listAccounts(splitPrincipal(value.userId).owner)).accounts.find(
        (a) => a.homeAccountId === account.homeAccountId,
      );
  const owner = value.mcpRequest
    ? mcpUserId(account.homeAccountId, tenantId)
    : (known?.principal ?? value.userId);
  if (!owner) {
    return failed('token_exchange_failed');
  }
  const sealed = encrypt(plugin.serialized, { userId: owner, purpose: CACHE_PURPOSE }, keys);
  const previous = await getConnection(owner);
  const granted = new Set([...value.scopes.split(' '), ...result.scopes.map(shortScope)]);
  const signedIn: SignedInAccount = {
    homeAccountId: account.homeAccountId,
    username: account.username,
    displayName: account.name ?? claims.name ?? '',
    tenantId,
    accountType: tenantId === PERSONAL_TENANT ? 'personal' : 'work',
    scopes: [...granted].join(' '),
    cacheKeyId: sealed.keyId,
    cacheData: sealed.data,
  };
  if (value.mcpRequest) {
    const completionCode = base64url(randomBytes(32));
    await savePending(completionCode, {
      userId: owner,
      ...signedIn,
      expiresAt: new Date(Date.now() + PENDING_LIFETIME_MS).toISOString(),
    });
    return {
      kind: 'mcp_consent',
      userId: owner,
      mcpRequest: value.mcpRequest,
      completionCode,
      username: account.username,
    };
  }
  if (known && previous && previous.homeAccountId === account.homeAccountId) {
    // Re-consent or reauth of an account this user already holds: it links nothing new.
    const connection = await storeConnection(owner, signedIn, previous);
    return { kind: 'connected', connection, ...base, userId: owner };
  }
  const completionCode = base64url(randomBytes(32));
  const expiresAt = new Date(Date.now() + PENDING_LIFETIME_MS).toISOString();
  await savePending(completionCode, {
    userId: value.userId,
    ...signedIn,
    ...(value.returnUrl ? { returnUrl: value.returnUrl } : {}),
    expiresAt,
  });
  return {
    kind: 'confirm',
    completionCode,
    username: account.username,
    expiresAt,
    ...(value.accountLabel ? { accountLabel: value.accountLabel } : {}),
    ...base,
  };
}

const PERSONAL_TENANT = '9188040d-6c67-4c5b-b112-36a304b66dad';
const GUID = /^[0-9a-f]{8}-(?:[0-9a-f]{4}-){3}[0-9a-f]{12}$/i;

/** The user id of an MCP client's user: `mcp:{tid}:{oid}` from MSAL's `{oid}.{tid}` home account id. */
export function mcpUserId(homeAccountId: string, tenantId: string): string | undefined {
  const [oid, tid] = homeAccountId.split('.');
  const tenant = tid || tenantId;
  if (!oid || !tenant || !GUID.test(oid) || !GUID.test(tenant)) return undefined;
  return `mcp:${tenant.toLowerCase()}:${oid.toLowerCase()}`;
}

export async function storeConnection(
  userId: string,
  signedIn: SignedInAccount,
  previous: Connection | undefined,
): Promise<Connection> {
  const now = new Date().toISOString();
  const connection: Connection = {
    userId,
    status: 'connected',
    ...signedIn,
    connectedAt: previous?.homeAccountId === signedIn.homeAccountId ? previous.connectedAt : now,
    lastRefreshAt: now,
  };
  await saveConnection(connection, { replace: true });
  return connection;
}

function sameUser(a: string, b: string): boolean {
  const ha = createHash('sha256').update(a, 'utf8').digest();
  const hb = createHash('sha256').update(b, 'utf8').digest();
  return timingSafeEqual(ha, hb);
}

export type CompleteOutcome =
  { kind: 'connected'; connection: Connection } | { kind: 'mismatch'; startedBy: string };

/**
 * The platform confirms a pending sign-in: the caller (verified JWT) must be the user who started
 * it. The code is single-use either way: a wrong user discards the tokens, so a forwarded link can
 * never be completed by anyone.
 */
export async function completeConnection(
  callerUserId: string,
  completionCode: string,
): Promise<CompleteOutcome> {
  const consumed = await consumePending(completionCode);
  if (!consumed.ok) {
    throw new Problem(
      'completion_invalid',
      'This completion code is unknown, expired or already used. Start connecting again.',
      { reason: consumed.reason },
    );
  }
  const pending = consumed.value;
  if (!sameUser(pending.userId, callerUserId)) return { kind: 'mismatch', startedBy: pending.userId };
  const { userId: _startedBy, returnUrl: _returnUrl, expiresAt: _expiresAt, ...signedIn } = pending;
  // Another Microsoft account joins the user's accounts (issue 30); one they hold is refreshed.
  const { accounts } = await listAccounts(callerUserId);
  const known = accounts.find((a) => a.homeAccountId === signedIn.homeAccountId);
  const principal = known?.principal ?? principalFor(callerUserId, signedIn.homeAccountId, accounts);
  if (principal !== callerUserId) {
    // The pending cache was sealed for the user; the account's own principal owns it now.
    const keys = await encryptionKeys();
    const plain = decrypt(
      { keyId: signedIn.cacheKeyId, data: signedIn.cacheData },
      { userId: callerUserId, purpose: CACHE_PURPOSE },
      keys,
    );
    const resealed = encrypt(plain, { userId: principal, purpose: CACHE_PURPOSE }, keys);
    signedIn.cacheKeyId = resealed.keyId;
    signedIn.cacheData = resealed.data;
  }
  const connection = await storeConnection(principal, signedIn, await getConnection(principal));
  if (!known) await addAccount(callerUserId, principal, signedIn);
  return { kind: 'connected', connection };
}

/** What an operator needs from an MSAL error (error code, AADSTS number), nothing user-identifying. */
export function msalDiagnostic(err: unknown): string {
  const e = err as { name?: string; errorCode?: string; errorMessage?: string; subError?: string };
  const aadsts = /AADSTS\d+/.exec(e.errorMessage ?? '')?.[0];
  return [e.name, e.errorCode, e.subError, aadsts].filter(Boolean).join(' ');
}

/** Classifies an MSAL error into the code the product acts on. */
export function mapMsalError(err: unknown): string {
  const { InteractionRequiredAuthError, ServerError } = msal();
  const e = err as { errorCode?: string; errorMessage?: string; subError?: string };
  const text = `${e.errorCode ?? ''} ${e.errorMessage ?? ''}`;
  if (
    /AADSTS(7000215|7000222|700016|7000218)\b/.test(text) ||
    e.errorCode === 'invalid_client' ||
    e.errorCode === 'unauthorized_client'
  ) {
    return 'app_credentials_invalid';
  }
  if (err instanceof InteractionRequiredAuthError) return 'interaction_required';
  if (err instanceof ServerError) {
    if (e.errorCode === 'invalid_grant') return 'invalid_grant';
    if (e.errorCode === 'temporarily_unavailable') return 'temporarily_unavailable';
    return 'token_exchange_failed';
  }
  if (/network|ECONN|ETIMEDOUT|fetch failed/i.test(text)) return 'temporarily_unavailable';
  return 'token_exchange_failed';
}
