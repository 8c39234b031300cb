/**
 * The token endpoint (reference §7.3–§7.5): authorization_code (+PKCE), refresh_token (rotating,
 * with a grace period for the old token), client_credentials and on-behalf-of (jwt-bearer).
 * [EMU] https://learn.microsoft.com/entra/identity-platform/v2-oauth2-auth-code-flow#redeem-a-code-for-an-access-token
 * [EMU] https://learn.microsoft.com/entra/identity-platform/v2-oauth2-on-behalf-of-flow
 * [EMU] https://learn.microsoft.com/entra/identity-platform/v2-oauth2-client-creds-grant-flow
 * [EMU] https://learn.microsoft.com/entra/identity-platform/refresh-tokens
 */
import type { Ctx, Sandbox } from '../context';
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { SandboxResponse } from '../http';
import type { AppRegistration, RefreshTokenRecord, SandboxUser } from '../state';
import { mintAccessToken } from '../tokens';
import { aadError, aadTimestamp } from './errors';
import { CODE_LIFETIME_MS, missingConsent } from './authorize';
import { GRAPH_RESOURCE, consentKey, parseScopes, type ParsedScopes } from './scopes';
import { capabilitiesFromClaims, identityState, servicePrincipalId } from './state';
import {
  canSignIn,
  resolveTenant,
  signInRefusal,
  unknownTenantMessage,
  type ResolvedTenant,
} from './tenants';

const JSON_HEADERS = {
  'content-type': 'application/json; charset=utf-8',
  'cache-control': 'no-store, no-cache',
  pragma: 'no-cache',
};

function missingParam(ctx: Ctx, name: string): SandboxResponse {
  return aadError(ctx, {
    error: 'invalid_request',
    code: 900144,
    message: `The request body must contain the following parameter: '${name}'.`,
  });
}

function secretMatches(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

function safeFormDecode(s: string): string | undefined {
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '));
  } catch {
    return undefined;
  }
}

/** Client authentication: client_secret in the body or HTTP Basic (§7.3). */
function authenticateClient(
  ctx: Ctx,
  form: URLSearchParams,
): { app: AppRegistration } | { error: SandboxResponse } {
  let clientId = form.get('client_id');
  let secret = form.get('client_secret');
  const authorization = ctx.headers.authorization;
  if (authorization?.toLowerCase().startsWith('basic ')) {
    const decoded = Buffer.from(authorization.slice(6).trim(), 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon > 0) {
      // RFC 6749 §2.3.1: both halves are form-urlencoded before Base64; a malformed escape is a
      // client authentication failure, not a server error.
      const formDecode = (s: string) => safeFormDecode(s);
      const id = formDecode(decoded.slice(0, colon));
      const pass = formDecode(decoded.slice(colon + 1));
      if (id === undefined || pass === undefined) {
        return {
          error: aadError(ctx, {
            status: 401,
            error: 'invalid_client',
            code: 7000215,
            message:
              'Invalid client secret provided. The client credentials in the Authorization header are not correctly form-encoded.',
          }),
        };
      }
      clientId ??= id;
      secret ??= pass;
    }
  }
  if (!clientId) return { error: missingParam(ctx, 'client_id') };
  const app = ctx.sandbox.directory.apps.get(clientId);
  if (!app) {
    return {
      error: aadError(ctx, {
        error: 'unauthorized_client',
        code: 700016,
        message: `Application with identifier '${clientId}' was not found in the directory '${ctx.params.tenant ?? ''}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.`,
      }),
    };
  }
  if (!secret) {
    return {
      error: aadError(ctx, {
        status: 401,
        error: 'invalid_client',
        code: 7000218,
        message:
          "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
      }),
    };
  }
  const match = app.secrets.find((s) => secretMatches(secret, s.value));
  if (!match) {
    // [EMU] AADSTS7000215, invalid_client, HTTP 401 (§7.4).
    return {
      error: aadError(ctx, {
        status: 401,
        error: 'invalid_client',
        code: 7000215,
        message: `Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${app.clientId}'.`,
      }),
    };
  }
  if (match.expiresAt <= ctx.sandbox.now()) {
    // [EMU] AADSTS7000222: the secret expired (§7.4).
    return {
      error: aadError(ctx, {
        status: 401,
        error: 'invalid_client',
        code: 7000222,
        message: `The provided client secret keys for app '${app.clientId}' are expired. Visit the Azure portal to create new keys for your app: https://aka.ms/NewClientSecret, or consider using certificate credentials for added security: https://aka.ms/certCreds.`,
      }),
    };
  }
  return { app };
}

function pkceMatches(verifier: string, challenge: string, method: 'S256' | 'plain'): boolean {
  const computed = method === 'S256' ? createHash('sha256').update(verifier).digest('base64url') : verifier;
  return secretMatches(computed, challenge);
}

function pairwiseSub(userId: string, clientId: string): string {
  return createHash('sha256').update(`${userId}|${clientId}`).digest('base64url').slice(0, 43);
}

function consentRequired(ctx: Ctx, app: AppRegistration, missing: string[]): SandboxResponse {
  // [EMU] AADSTS65001 invalid_grant with suberror consent_required (§7.3, §7.4;
  // https://github.com/microsoftgraph/microsoft-graph-docs-contrib/issues/3462).
  return aadError(ctx, {
    error: 'invalid_grant',
    code: 65001,
    suberror: 'consent_required',
    message: `The user or administrator has not consented to use the application with ID '${app.clientId}' named '${app.displayName}'. Send an interactive authorization request for this user and resource. Missing: ${missing.join(' ')}.`,
  });
}

/** One resource per token request (AADSTS700022 otherwise, §7.4) and no unknown resources. */
function checkResources(ctx: Ctx, parsed: ParsedScopes, tenant: ResolvedTenant): SandboxResponse | undefined {
  if (parsed.unknownResources.length > 0) {
    return aadError(ctx, {
      error: 'invalid_resource',
      code: 500011,
      message: `The resource principal named ${parsed.unknownResources[0]} was not found in the tenant named ${tenant.segment}. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant.`,
    });
  }
  if (parsed.resources().length > 1) {
    return aadError(ctx, {
      error: 'invalid_scope',
      code: 700022,
      message: `The provided value for the input parameter scope is not valid because it contains more than one resource. Scope ${parsed.resourceScopes.map(consentKey).join(' ')} is not valid.`,
    });
  }
  return undefined;
}

/** Access, refresh and ID tokens for a user, in the v2 success shape (§7.3). */
async function userTokens(
  ctx: Ctx,
  input: {
    app: AppRegistration;
    user: SandboxUser;
    parsed: ParsedScopes;
    capabilities: string[];
    nonce?: string;
    refreshScopes: string[];
  },
): Promise<SandboxResponse> {
  const sandbox = ctx.sandbox;
  const { app, user, parsed } = input;
  const nowMs = sandbox.now();
  const resourceScopes = parsed.resourceScopes.filter((s) => s.name !== '.default');
  const defaultScope = parsed.resourceScopes.find((s) => s.name === '.default');
  const resource = parsed.resourceScopes[0]?.resource ?? GRAPH_RESOURCE;
  const audience = parsed.resourceScopes[0]?.audience;
  // `.default` (delegated) means every scope the user consented to for that resource.
  const granted = defaultScope
    ? (user.consents[app.clientId] ?? [])
        .map((k) => parseScopes(k).resourceScopes[0])
        .filter((s) => s?.resource === resource)
        .map((s) => s!.name)
    : resourceScopes.map((s) => s.name);
  const oidcForToken = [...parsed.oidc].filter((s) => s !== 'offline_access');
  // With only OIDC scopes Entra still returns a Graph token carrying those scopes.
  const scp = granted.length > 0 ? granted : oidcForToken;
  const lifetime = sandbox.options.accessTokenLifetimeSeconds;
  const accessToken = await mintAccessToken(sandbox.keys, {
    userId: user.id,
    tenantId: user.tenantId,
    clientId: app.clientId,
    scopes: scp,
    capabilities: input.capabilities,
    audience,
    lifetimeSeconds: lifetime,
    nowMs,
    issuerHost: sandbox.authorityHost,
  });
  const scopeOut = [
    ...(granted.length > 0 ? granted : []).map((name) =>
      resource === GRAPH_RESOURCE ? name : `${resource}/${name}`,
    ),
    ...oidcForToken,
  ];
  if (parsed.oidc.has('offline_access')) scopeOut.push('offline_access');
  const body: Record<string, unknown> = {
    token_type: 'Bearer',
    scope: scopeOut.join(' '),
    expires_in: lifetime,
    ext_expires_in: lifetime,
    access_token: accessToken,
  };
  // [EMU] refresh_token only with offline_access; id_token only with openid (§7.3).
  if (parsed.oidc.has('offline_access')) {
    const token = `0.A${randomBytes(96).toString('base64url')}`;
    const record: RefreshTokenRecord = {
      token,
      userId: user.id,
      clientId: app.clientId,
      scopes: input.refreshScopes,
      issuedAt: nowMs,
      expiresAt: nowMs + sandbox.options.refreshTokenLifetimeSeconds * 1000,
      capabilities: input.capabilities,
    };
    sandbox.directory.refreshTokens.set(token, record);
    body.refresh_token = token;
  }
  if (parsed.oidc.has('openid')) {
    const claims: Record<string, unknown> = {
      aud: app.clientId,
      iss: `${sandbox.authorityHost}/${user.tenantId}/v2.0`,
      oid: user.id,
      tid: user.tenantId,
      sub: pairwiseSub(user.id, app.clientId),
      preferred_username: user.userPrincipalName,
      name: user.displayName,
      ver: '2.0',
      uti: randomBytes(16).toString('base64url'),
    };
    if (parsed.oidc.has('email')) claims.email = user.mail;
    if (input.nonce) claims.nonce = input.nonce;
    body.id_token = await sandbox.keys.sign(claims, 3600, Math.floor(nowMs / 1000));
  }
  // client_info gives MSAL homeAccountId = uid.utid (§7.9; toolchain.md).
  body.client_info = Buffer.from(JSON.stringify({ uid: user.id, utid: user.tenantId })).toString('base64url');
  return { status: 200, headers: JSON_HEADERS, body };
}

function mfaRequired(ctx: Ctx, error: 'interaction_required' | 'invalid_grant'): SandboxResponse {
  // [EMU] AADSTS50076 (§7.4): interaction_required at the code redemption, invalid_grant with
  // suberror basic_action on the refresh path, which MSAL maps to InteractionRequiredAuthError.
  return aadError(ctx, {
    error,
    code: 50076,
    suberror: 'basic_action',
    message:
      "Due to a configuration change made by your administrator, or because you moved to a new location, you must use multi-factor authentication to access '00000003-0000-0000-c000-000000000000'.",
    extra: {
      claims: JSON.stringify({ access_token: { capolids: { essential: true, values: ['sandbox-mfa'] } } }),
    },
  });
}

/** A code or refresh token this app never got: AADSTS9002313. */
function unknownGrant(ctx: Ctx): SandboxResponse {
  return aadError(ctx, {
    error: 'invalid_grant',
    code: 9002313,
    message: 'Invalid request. Request is malformed or invalid.',
  });
}

/**
 * What both user grants check once the code or refresh token itself is good, in the identity
 * platform's order: the user still exists and may sign in to this tenant, the scopes name known
 * resources, and consent covers them. The user and the parsed scopes, or the error to answer.
 */
function checkUserGrant(
  ctx: Ctx,
  app: AppRegistration,
  tenant: ResolvedTenant,
  userId: string,
  scope: string,
): { user: SandboxUser; parsed: ParsedScopes } | SandboxResponse {
  const user = ctx.sandbox.directory.users.get(userId);
  if (!user)
    return aadError(ctx, {
      error: 'invalid_grant',
      code: 50034,
      message: 'The user account does not exist in the directory.',
    });
  if (!canSignIn(tenant, user)) {
    const refusal = signInRefusal(tenant, user);
    return aadError(ctx, { error: 'invalid_grant', code: refusal.code, message: refusal.message });
  }
  const parsed = parseScopes(scope);
  const bad = checkResources(ctx, parsed, tenant);
  if (bad) return bad;
  const missing = missingConsent(app, user, parsed);
  if (missing.length > 0) return consentRequired(ctx, app, missing);
  return { user, parsed };
}

async function authorizationCodeGrant(
  ctx: Ctx,
  form: URLSearchParams,
  app: AppRegistration,
  tenant: ResolvedTenant,
): Promise<SandboxResponse> {
  const sandbox = ctx.sandbox;
  const state = identityState(sandbox);
  const codeValue = form.get('code');
  if (!codeValue) return missingParam(ctx, 'code');
  const code = state.codes.get(codeValue);
  if (!code || code.clientId !== app.clientId) return unknownGrant(ctx);
  if (code.redeemed) {
    // [EMU] Codes are single use: AADSTS54005 (§7.2, §7.4).
    return aadError(ctx, {
      error: 'invalid_grant',
      code: 54005,
      message:
        'OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing refresh token.',
    });
  }
  code.redeemed = true;
  if (sandbox.now() - code.issuedAt > CODE_LIFETIME_MS) {
    return aadError(ctx, {
      error: 'invalid_grant',
      code: 70008,
      message:
        'The provided authorization code or refresh token has expired due to inactivity. Send a new interactive authorization request for this user and resource.',
    });
  }
  if (form.get('redirect_uri') !== code.redirectUri) {
    return aadError(ctx, {
      error: 'invalid_grant',
      code: 500112,
      message: `The reply address '${form.get('redirect_uri') ?? ''}' does not match the reply address '${code.redirectUri}' provided when requesting Authorization code.`,
    });
  }
  if (code.codeChallenge && code.codeChallengeMethod) {
    const verifier = form.get('code_verifier');
    if (!verifier || !pkceMatches(verifier, code.codeChallenge, code.codeChallengeMethod)) {
      // [EMU] AADSTS501481 (§7.4).
      return aadError(ctx, {
        error: 'invalid_grant',
        code: 501481,
        message: 'The Code_Verifier does not match the code_challenge supplied in the authorization request.',
      });
    }
  }
  const checked = checkUserGrant(ctx, app, tenant, code.userId, form.get('scope') ?? code.scope);
  if ('status' in checked) return checked;
  const { user, parsed } = checked;
  // [EMU] AADSTS50076 is interaction_required at the code redemption (§7.4).
  if (user.requireMfa) return mfaRequired(ctx, 'interaction_required');
  const capabilities = [...new Set([...code.capabilities, ...capabilitiesFromClaims(form.get('claims'))])];
  const authorized = parseScopes(code.scope);
  return await userTokens(ctx, {
    app,
    user,
    parsed,
    capabilities,
    nonce: code.nonce,
    refreshScopes: [...authorized.oidc, ...authorized.resourceScopes.map(consentKey)],
  });
}

async function refreshTokenGrant(
  ctx: Ctx,
  form: URLSearchParams,
  app: AppRegistration,
  tenant: ResolvedTenant,
): Promise<SandboxResponse> {
  const sandbox = ctx.sandbox;
  const now = sandbox.now();
  const value = form.get('refresh_token');
  if (!value) return missingParam(ctx, 'refresh_token');
  const record = sandbox.directory.refreshTokens.get(value);
  if (!record || record.clientId !== app.clientId) return unknownGrant(ctx);
  if (record.revoked) {
    // [EMU] Sessions revoked: AADSTS50173 (§7.4, §7.5).
    return aadError(ctx, {
      error: 'invalid_grant',
      code: 50173,
      message: `The provided grant has expired due to it being revoked, a fresh auth token is needed. The user might have changed or reset their password. The grant was issued on '${new Date(record.issuedAt).toISOString()}' and the TokensValidFrom date (before which tokens are not valid) for this user is '${new Date(sandbox.directory.revokedBefore.get(record.userId) ?? now).toISOString()}'.`,
    });
  }
  if (now >= record.expiresAt) {
    // [EMU] Inactive refresh token: AADSTS700082 (§7.4, §7.5).
    return aadError(ctx, {
      error: 'invalid_grant',
      code: 700082,
      message: `The refresh token has expired due to inactivity. The token was issued on ${new Date(record.issuedAt).toISOString()} and was inactive for ${Math.round((now - record.issuedAt) / 86400000)}.00:00:00.`,
    });
  }
  // Sandbox rule (options.refreshTokenGraceSeconds): a redeemed refresh token keeps working for a
  // grace period, so two instances racing on the same token both succeed; after that it is dead.
  if (record.usedAt !== undefined && now > record.usedAt + sandbox.options.refreshTokenGraceSeconds * 1000) {
    return aadError(ctx, {
      error: 'invalid_grant',
      code: 70008,
      message: `The provided authorization code or refresh token has expired due to inactivity. Send a new interactive authorization request for this user and resource. The refresh token was replaced at ${aadTimestamp(record.usedAt)}.`,
    });
  }
  const checked = checkUserGrant(
    ctx,
    app,
    tenant,
    record.userId,
    form.get('scope') ?? record.scopes.join(' '),
  );
  if ('status' in checked) return checked;
  const { user, parsed } = checked;
  // [EMU] ... and invalid_grant with suberror basic_action on the refresh path (§7.4).
  if (user.requireMfa) return mfaRequired(ctx, 'invalid_grant');
  record.usedAt ??= now;
  const capabilities = [...new Set([...record.capabilities, ...capabilitiesFromClaims(form.get('claims'))])];
  const refreshScopes = [...record.scopes];
  for (const s of [...parsed.oidc, ...parsed.resourceScopes.map(consentKey)]) {
    if (!refreshScopes.some((r) => r.toLowerCase() === s.toLowerCase())) refreshScopes.push(s);
  }
  // [EMU] Refresh tokens "replace themselves with a fresh token upon every use" (§7.5).
  return await userTokens(ctx, { app, user, parsed, capabilities, refreshScopes });
}

async function clientCredentialsGrant(
  ctx: Ctx,
  form: URLSearchParams,
  app: AppRegistration,
  tenant: ResolvedTenant,
): Promise<SandboxResponse> {
  const sandbox = ctx.sandbox;
  const scope = form.get('scope');
  if (!scope) return missingParam(ctx, 'scope');
  const parsed = parseScopes(scope);
  const bad = checkResources(ctx, parsed, tenant);
  if (bad) return bad;
  const only = parsed.resourceScopes[0];
  if (parsed.resourceScopes.length !== 1 || parsed.oidc.size > 0 || !only || only.name !== '.default') {
    // [EMU] AADSTS1002012: client credentials need `<resource>/.default` (§7.6).
    return aadError(ctx, {
      error: 'invalid_scope',
      code: 1002012,
      message: `The provided value for scope ${scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).`,
    });
  }
  const lifetime = sandbox.options.accessTokenLifetimeSeconds;
  const accessToken = await mintAccessToken(sandbox.keys, {
    userId: servicePrincipalId(identityState(sandbox), app.clientId),
    tenantId: tenant.tenantId ?? sandbox.tenantId,
    clientId: app.clientId,
    scopes: [],
    roles: only.resource === GRAPH_RESOURCE ? (app.applicationPermissions ?? []) : [],
    capabilities: capabilitiesFromClaims(form.get('claims')),
    audience: only.audience,
    lifetimeSeconds: lifetime,
    nowMs: sandbox.now(),
    issuerHost: sandbox.authorityHost,
  });
  return {
    status: 200,
    headers: JSON_HEADERS,
    body: { token_type: 'Bearer', expires_in: lifetime, ext_expires_in: lifetime, access_token: accessToken },
  };
}

/** The grant type of the on-behalf-of flow (v2-oauth2-on-behalf-of-flow.md). */
const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';

/**
 * On-behalf-of (https://learn.microsoft.com/entra/identity-platform/v2-oauth2-on-behalf-of-flow):
 * a middle tier (this client) trades the user's access token for its own API (`assertion`, with
 * `aud` = its client id or Application ID URI) for a token to Graph, within what the user
 * consented to for this client. Errors as documented: the assertion's signature, time or audience
 * (AADSTS50013 / 500133, invalid_grant), consent (AADSTS65001 consent_required), MFA (AADSTS50076,
 * interaction_required with claims for the client to send back).
 */
async function onBehalfOfGrant(
  ctx: Ctx,
  form: URLSearchParams,
  app: AppRegistration,
  tenant: ResolvedTenant,
): Promise<SandboxResponse> {
  const sandbox = ctx.sandbox;
  const use = form.get('requested_token_use');
  if (!use) return missingParam(ctx, 'requested_token_use');
  if (use !== 'on_behalf_of') {
    return aadError(ctx, {
      error: 'invalid_request',
      code: 50027,
      message: `Invalid requested_token_use '${use.slice(0, 40)}': the jwt-bearer grant takes 'on_behalf_of'.`,
    });
  }
  const assertion = form.get('assertion');
  if (!assertion) return missingParam(ctx, 'assertion');
  const scope = form.get('scope');
  if (!scope) return missingParam(ctx, 'scope');
  const verified = await sandbox.keys.verify(assertion, Math.floor(sandbox.now() / 1000));
  if (!verified.ok) {
    return aadError(
      ctx,
      verified.reason === 'expired'
        ? { error: 'invalid_grant', code: 500133, message: 'Assertion is not within its valid time range.' }
        : { error: 'invalid_grant', code: 50013, message: 'Assertion failed signature validation.' },
    );
  }
  const claims = verified.claims as { aud?: string; oid?: string; scp?: string };
  const expected = [app.clientId, `api://${app.clientId}`];
  if (!claims.aud || !expected.includes(claims.aud)) {
    return aadError(ctx, {
      error: 'invalid_grant',
      code: 50013,
      message: `Assertion audience does not match the Client app presenting the assertion. The audience in the assertion was '${String(claims.aud)}' and the expected audience is '${app.clientId}' or one of the Application Id URIs of this application.`,
    });
  }
  if (!claims.oid || !claims.scp) {
    return aadError(ctx, {
      error: 'invalid_grant',
      code: 50013,
      message:
        'Assertion is not a delegated user token: the on-behalf-of flow needs a token issued to a user.',
    });
  }
  const checked = checkUserGrant(ctx, app, tenant, claims.oid, scope);
  if ('status' in checked) return checked;
  const { user, parsed } = checked;
  if (user.requireMfa) return mfaRequired(ctx, 'interaction_required');
  const refreshScopes = [...parsed.oidc, ...parsed.resourceScopes.map(consentKey)];
  return await userTokens(ctx, {
    app,
    user,
    parsed,
    capabilities: capabilitiesFromClaims(form.get('claims')),
    refreshScopes,
  });
}

async function tokenPost(ctx: Ctx): Promise<SandboxResponse> {
  const sandbox = ctx.sandbox;
  const form = new URLSearchParams((await ctx.body()).toString('utf8'));
  const grantType = form.get('grant_type');
  if (grantType) ctx.grantType = grantType;
  const segment = ctx.params.tenant ?? '';
  const tenant = resolveTenant(sandbox, segment);
  if (!tenant)
    return aadError(ctx, { error: 'invalid_request', code: 90002, message: unknownTenantMessage(segment) });
  if (!grantType) return missingParam(ctx, 'grant_type');
  const client = authenticateClient(ctx, form);
  if ('error' in client) return client.error;
  switch (grantType) {
    case 'authorization_code':
      return await authorizationCodeGrant(ctx, form, client.app, tenant);
    case 'refresh_token':
      return await refreshTokenGrant(ctx, form, client.app, tenant);
    case 'client_credentials':
      return await clientCredentialsGrant(ctx, form, client.app, tenant);
    case JWT_BEARER:
      return await onBehalfOfGrant(ctx, form, client.app, tenant);
    default:
      return aadError(ctx, {
        error: 'unsupported_grant_type',
        code: 70003,
        message: `The app requested an unsupported grant type '${grantType}'.`,
      });
  }
}

export function installToken(sandbox: Sandbox): void {
  sandbox.routes.on('POST', '/:tenant/oauth2/v2.0/token', tokenPost);
}
