/**
 * The authorization code flow of this MCP authorization server (OAuth 2.1 with PKCE S256):
 *
 *   client → GET /api/oauth/authorize (client, redirect URI, PKCE, resource checked; a
 *   browser-binding cookie set) → Microsoft sign-in through the connect flow
 *   (shared/auth/connect.ts, `mcpRequest` on its state) → /api/auth/microsoft/callback → the
 *   consent screen (client, account, read-only or read-write) → POST /api/oauth/consent → the
 *   Microsoft 365 connection of `mcp:{tid}:{oid}` stored (or refreshed) and a grant made →
 *   redirect to the client with a code → POST /api/oauth/token.
 *
 * The cookie (HttpOnly, SameSite=Lax, 10 minutes, hashed in the request row) ties the sign-in
 * and the consent to the browser that started the authorization: a Microsoft sign-in link sent
 * to someone else can never hand their account to the sender's client. Errors before the
 * redirect URI is known to be the client's are shown as a page, never redirected (RFC 6749 §4.1.2.1).
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import { audit } from '../../audit';
import { startConnect, storeConnection, type CallbackOutcome } from '../../auth/connect';
import { runConnectedHooks } from '../../auth/lifecycle';
import { consentPage, resultPage } from '../../auth/pages';
import { getConfig } from '../../config';
import { table } from '../../storage/clients';
import { getConnection } from '../../storage/connections';
import { consumePending } from '../../storage/oauth-states';
import { authenticateClient, OAuthError, redirectMatches, resolveClient, type McpClient } from './clients';
import {
  AUTH_TABLE,
  consumeCode,
  createGrant,
  getGrant,
  isOurToken,
  issueCode,
  issueTokens,
  redeemRefreshToken,
  revokeGrant,
  verifyAccessToken,
  type IssuedTokens,
} from './grants';
import { endpoints, grantedScope, issuer, mcpResource, REQUEST_SECONDS, type McpScope } from './metadata';

const sha256 = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex');
const REQUEST_ID = /^[A-Za-z0-9_-]{43}$/;
const CHALLENGE = /^[A-Za-z0-9._~-]{43,128}$/;

interface AuthRequest {
  requestId: string;
  clientId: string;
  clientName: string;
  clientFrom: string;
  redirectUri: string;
  state?: string;
  codeChallenge: string;
  resource: string;
  scope: McpScope[];
  bindingHash: string;
  expiresAt: string;
  etag?: string;
}

const cookieName = (requestId: string) => `mcpauth_${requestId.slice(0, 16)}`;

function cookieValue(request: HttpRequest, name: string): string | undefined {
  for (const part of (request.headers.get('cookie') ?? '').split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === name) return v.join('=');
  }
  return undefined;
}

function setCookie(name: string, value: string, maxAge: number): string {
  const secure = getConfig().PUBLIC_BASE_URL.startsWith('https://') ? '; Secure' : '';
  return `${name}=${value}; Path=/api; HttpOnly; SameSite=Lax; Max-Age=${maxAge}${secure}`;
}

function page(status: number, title: string, text: string, code: string): HttpResponseInit {
  return resultPage(status, 'err', title, [text], code);
}

/** Where the client's answer goes, with the RFC 9207 `iss` so a client can tell servers apart. */
function redirectTo(
  uri: string,
  params: Record<string, string | undefined>,
  headers: Record<string, string> = {},
): HttpResponseInit {
  const target = new URL(uri);
  for (const [k, v] of Object.entries(params)) if (v !== undefined) target.searchParams.set(k, v);
  target.searchParams.set('iss', issuer());
  return {
    status: 302,
    headers: {
      location: target.toString(),
      'cache-control': 'no-store',
      'referrer-policy': 'no-referrer',
      ...headers,
    },
  };
}

function clientFrom(client: McpClient, redirectUri: string): string {
  if (client.kind === 'metadata_document') return client.clientId;
  const url = new URL(redirectUri);
  return url.protocol === 'http:' || url.protocol === 'https:' ? url.host : `${url.protocol}//`;
}

async function saveRequest(r: Omit<AuthRequest, 'etag'>): Promise<void> {
  await (
    await table(AUTH_TABLE)
  ).createEntity({
    partitionKey: r.requestId,
    rowKey: 'request',
    clientId: r.clientId,
    clientName: r.clientName,
    clientFrom: r.clientFrom,
    redirectUri: r.redirectUri,
    ...(r.state !== undefined ? { state: r.state } : {}),
    codeChallenge: r.codeChallenge,
    resource: r.resource,
    scope: r.scope.join(' '),
    bindingHash: r.bindingHash,
    expiresAt: r.expiresAt,
  });
}

async function loadRequest(requestId: string): Promise<AuthRequest | undefined> {
  if (!REQUEST_ID.test(requestId)) return undefined;
  try {
    const row = await (await table(AUTH_TABLE)).getEntity<Record<string, unknown>>(requestId, 'request');
    const r: AuthRequest = {
      requestId,
      clientId: String(row.clientId),
      clientName: String(row.clientName),
      clientFrom: String(row.clientFrom),
      redirectUri: String(row.redirectUri),
      ...(typeof row.state === 'string' ? { state: row.state } : {}),
      codeChallenge: String(row.codeChallenge),
      resource: String(row.resource),
      scope: String(row.scope).split(' ') as McpScope[],
      bindingHash: String(row.bindingHash),
      expiresAt: String(row.expiresAt),
      etag: row.etag,
    };
    return Date.parse(r.expiresAt) > Date.now() ? r : undefined;
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode === 404) return undefined;
    throw err;
  }
}

/** Single use: whoever deletes the request row first goes on. */
async function takeRequest(r: AuthRequest): Promise<boolean> {
  try {
    await (await table(AUTH_TABLE)).deleteEntity(r.requestId, 'request', { etag: r.etag ?? '*' });
    return true;
  } catch (err) {
    const status = (err as { statusCode?: number }).statusCode;
    if (status === 404 || status === 412) return false;
    throw err;
  }
}

function boundToThisBrowser(request: HttpRequest, r: AuthRequest): boolean {
  const value = cookieValue(request, cookieName(r.requestId));
  if (!value) return false;
  return timingSafeEqual(Buffer.from(sha256(value), 'hex'), Buffer.from(r.bindingHash, 'hex'));
}

const notServed = (): HttpResponseInit =>
  page(
    404,
    'MCP authorization is off',
    'This server does not act as an authorization server for MCP clients (MCP_OAUTH=false).',
    'mcp_oauth_off',
  );

// ------------------------------------------------------------------ GET /api/oauth/authorize

export async function authorize(request: HttpRequest): Promise<HttpResponseInit> {
  if (!getConfig().MCP_OAUTH) return notServed();
  const q = new URL(request.url).searchParams;
  let client: McpClient;
  try {
    client = await resolveClient(q.get('client_id'));
  } catch (err) {
    if (!(err instanceof OAuthError)) throw err;
    return page(
      400,
      'This app cannot sign you in',
      `The MCP client is not known here: ${err.description}`,
      err.error,
    );
  }
  const presented =
    q.get('redirect_uri') ?? (client.redirectUris.length === 1 ? client.redirectUris[0]! : '');
  if (!presented || !redirectMatches(client.redirectUris, presented)) {
    return page(
      400,
      'This app cannot sign you in',
      `The redirect URI ${presented ? `"${presented.slice(0, 200)}" ` : ''}is not one ${client.name} registered; nothing was sent anywhere. Reconnect the client, or tell its maker.`,
      'invalid_redirect_uri',
    );
  }
  const state = q.get('state') ?? undefined;
  const fail = (error: string, description: string) =>
    redirectTo(presented, { error, error_description: description, state });
  if (q.get('response_type') !== 'code')
    return fail('unsupported_response_type', 'Only response_type=code is supported.');
  const method = q.get('code_challenge_method');
  if (method !== 'S256')
    return fail(
      'invalid_request',
      `PKCE with code_challenge_method=S256 is required${method ? ` (not ${method.slice(0, 20)})` : ''}.`,
    );
  const challenge = q.get('code_challenge') ?? '';
  if (!CHALLENGE.test(challenge))
    return fail('invalid_request', 'code_challenge must be the base64url S256 of the code verifier.');
  const resources = q.getAll('resource');
  if (resources.length > 1 || (resources.length === 1 && resources[0] !== mcpResource()))
    return fail('invalid_target', `This server issues tokens for ${mcpResource()} only.`);
  if (state !== undefined && state.length > 2000)
    return fail('invalid_request', 'state is longer than 2000 characters.');

  const requestId = randomBytes(32).toString('base64url');
  const binding = randomBytes(32).toString('base64url');
  await saveRequest({
    requestId,
    clientId: client.clientId,
    clientName: client.name,
    clientFrom: clientFrom(client, presented),
    redirectUri: presented,
    ...(state !== undefined ? { state } : {}),
    codeChallenge: challenge,
    resource: mcpResource(),
    scope: grantedScope(q.get('scope')),
    bindingHash: sha256(binding),
    expiresAt: new Date(Date.now() + REQUEST_SECONDS * 1000).toISOString(),
  });
  const started = await startConnect(`mcp-signin:${requestId.slice(0, 32)}`, {
    mcpRequest: requestId,
    prompt: 'select_account',
  });
  return {
    status: 302,
    headers: {
      location: started.authorizationUrl,
      'set-cookie': setCookie(cookieName(requestId), binding, REQUEST_SECONDS),
      'cache-control': 'no-store',
      'referrer-policy': 'no-referrer',
    },
  };
}

// ------------------------------------------------------------------ the Microsoft callback

const CLIENT_ERRORS: Record<string, string> = {
  access_denied: 'access_denied',
  temporarily_unavailable: 'temporarily_unavailable',
  app_credentials_invalid: 'server_error',
};

/** The callback of an MCP authorization's Microsoft sign-in: the consent screen, or the error back to the client. */
export async function mcpCallback(
  outcome: Extract<CallbackOutcome, { kind: 'mcp_consent' } | { kind: 'error' }>,
  mcpRequest: string,
  request: HttpRequest,
): Promise<HttpResponseInit> {
  const r = await loadRequest(mcpRequest);
  const discard = async () => {
    if (outcome.kind === 'mcp_consent') await consumePending(outcome.completionCode);
  };
  if (!r) {
    await discard();
    return page(
      400,
      'This sign-in has expired',
      'Start connecting again from your MCP client.',
      'request_expired',
    );
  }
  if (!boundToThisBrowser(request, r)) {
    await discard();
    return page(
      403,
      'This sign-in was started in another browser',
      'Nothing was connected. If someone sent you this link, close this window. Otherwise start connecting again from your MCP client, in this browser.',
      'browser_mismatch',
    );
  }
  if (outcome.kind === 'error') {
    await takeRequest(r);
    return redirectTo(r.redirectUri, {
      error: CLIENT_ERRORS[outcome.code] ?? 'access_denied',
      error_description: outcome.message,
      state: r.state,
    });
  }
  const redirect = new URL(r.redirectUri);
  return consentPage({
    clientName: r.clientName,
    clientFrom: r.clientFrom,
    username: outcome.username,
    readWrite: r.scope.includes('mcp:write'),
    features: getConfig().MICROSOFT_FEATURES,
    formAction: endpoints().consent,
    redirectTarget:
      redirect.protocol === 'http:' || redirect.protocol === 'https:' ? redirect.origin : redirect.protocol,
    fields: { request: r.requestId, completion: outcome.completionCode },
  });
}

// ------------------------------------------------------------------ POST /api/oauth/consent

export async function consent(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  if (!getConfig().MCP_OAUTH) return notServed();
  const form = await readForm(request);
  const r = await loadRequest(form.get('request') ?? '');
  if (!r)
    return page(
      400,
      'This sign-in has expired',
      'Start connecting again from your MCP client.',
      'request_expired',
    );
  if (!boundToThisBrowser(request, r))
    return page(
      403,
      'This sign-in was started in another browser',
      'Nothing was connected. Start connecting again from your MCP client, in this browser.',
      'browser_mismatch',
    );
  const pending = await consumePending(form.get('completion') ?? '');
  if (!(await takeRequest(r)) || !pending.ok || !pending.value.userId.startsWith('mcp:'))
    return page(
      400,
      'This sign-in has expired',
      'It was already answered or took too long. Start connecting again from your MCP client.',
      'request_expired',
    );
  const clear = { 'set-cookie': setCookie(cookieName(r.requestId), '', 0) };
  if (form.get('decision') !== 'allow')
    return redirectTo(
      r.redirectUri,
      { error: 'access_denied', error_description: 'The user denied access.', state: r.state },
      clear,
    );

  const { userId, returnUrl: _r, expiresAt: _e, ...signedIn } = pending.value;
  const connection = await storeConnection(userId, signedIn, await getConnection(userId));
  await runConnectedHooks(userId, context);
  const grant = await createGrant({
    userId,
    clientId: r.clientId,
    clientName: r.clientName,
    scope: r.scope,
    resource: r.resource,
  });
  const code = await issueCode({
    userId,
    grantId: grant.grantId,
    grantVersion: grant.version,
    clientId: r.clientId,
    redirectUri: r.redirectUri,
    codeChallenge: r.codeChallenge,
    resource: r.resource,
  });
  await audit(
    {
      userId,
      action: 'mcp.client_authorized',
      outcome: 'success',
      status: 200,
      targetIds: [r.clientId.slice(0, 200)],
      invocationId: context.invocationId,
    },
    context,
  );
  context.log(
    JSON.stringify({
      event: 'mcp_client_authorized',
      scope: r.scope.join(' '),
      account: connection.accountType,
    }),
  );
  return redirectTo(r.redirectUri, { code, state: r.state }, clear);
}

// ------------------------------------------------------------------ POST /api/oauth/token, /revoke

async function readForm(request: HttpRequest, limit = 16 * 1024): Promise<URLSearchParams> {
  const type = request.headers.get('content-type') ?? '';
  if (!type.toLowerCase().startsWith('application/x-www-form-urlencoded'))
    throw new OAuthError('invalid_request', 'Send the parameters as application/x-www-form-urlencoded.');
  const text = await request.text();
  if (text.length > limit)
    throw new OAuthError('invalid_request', `The request is larger than ${limit} bytes.`);
  return new URLSearchParams(text);
}

/** Client authentication at the token endpoint: client_secret_basic, client_secret_post, or none. */
async function tokenClient(request: HttpRequest, form: URLSearchParams): Promise<McpClient> {
  let clientId = form.get('client_id') ?? undefined;
  let secret = form.get('client_secret') ?? undefined;
  const basic = /^Basic\s+([A-Za-z0-9+/=]+)$/i.exec(request.headers.get('authorization') ?? '');
  if (basic) {
    const [id, ...rest] = Buffer.from(basic[1]!, 'base64').toString('utf8').split(':');
    clientId = decodeURIComponent(id ?? '');
    secret = decodeURIComponent(rest.join(':'));
  }
  let client: McpClient;
  try {
    client = await resolveClient(clientId);
  } catch (err) {
    if (err instanceof OAuthError && err.error !== 'invalid_request')
      throw new OAuthError('invalid_client', err.description, 401);
    throw err;
  }
  authenticateClient(client, secret);
  return client;
}

function checkResource(form: URLSearchParams, expected: string): void {
  const asked = form.getAll('resource');
  if (asked.length > 1 || (asked.length === 1 && asked[0] !== expected))
    throw new OAuthError('invalid_target', `This grant is for ${expected} only.`);
}

export async function token(request: HttpRequest): Promise<IssuedTokens> {
  if (!getConfig().MCP_OAUTH)
    throw new OAuthError('unsupported_grant_type', 'MCP authorization is off on this server.');
  const form = await readForm(request);
  const client = await tokenClient(request, form);
  const grantType = form.get('grant_type');
  if (grantType === 'authorization_code') {
    const record = await consumeCode(form.get('code') ?? '');
    if (record.clientId !== client.clientId)
      throw new OAuthError('invalid_grant', 'The authorization code was issued to another client.');
    if (form.get('redirect_uri') !== record.redirectUri)
      throw new OAuthError('invalid_grant', 'redirect_uri must be the one of the authorization request.');
    const verifier = form.get('code_verifier') ?? '';
    if (
      !CHALLENGE.test(verifier) ||
      createHash('sha256').update(verifier).digest('base64url') !== record.codeChallenge
    )
      throw new OAuthError(
        'invalid_grant',
        'The code_verifier does not match the code_challenge (PKCE S256).',
      );
    checkResource(form, record.resource);
    const grant = await getGrant(record.userId, record.grantId);
    if (!grant || grant.version !== record.grantVersion)
      throw new OAuthError('invalid_grant', 'The grant of this code was revoked. Authorize again.');
    return await issueTokens(grant, 0);
  }
  if (grantType === 'refresh_token') {
    const { grant, generation } = await redeemRefreshToken(form.get('refresh_token') ?? '', client.clientId);
    checkResource(form, grant.resource);
    // A client may ask for less (read-only) than its grant, never for more.
    const asked = form.get('scope');
    const scope = asked ? grantedScope(asked).filter((x) => grant.scope.includes(x)) : grant.scope;
    return await issueTokens(grant, generation, scope);
  }
  throw new OAuthError('unsupported_grant_type', 'grant_type must be authorization_code or refresh_token.');
}

/** RFC 7009: revoking either token of a grant revokes the grant; unknown tokens are fine. */
export async function revoke(request: HttpRequest): Promise<void> {
  const form = await readForm(request);
  const client = await tokenClient(request, form);
  const presented = form.get('token') ?? '';
  if (presented.startsWith('mrt1.')) {
    try {
      const { grant } = await redeemRefreshToken(presented, client.clientId);
      await revokeGrant(grant.userId, grant.grantId);
    } catch (err) {
      if (!(err instanceof OAuthError)) throw err;
    }
    return;
  }
  if (isOurToken(presented)) {
    try {
      const access = await verifyAccessToken(presented);
      if (access.clientId === client.clientId) await revokeGrant(access.userId, access.grant.grantId);
    } catch (err) {
      if (!(err instanceof OAuthError)) throw err;
    }
  }
}
