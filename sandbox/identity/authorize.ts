/**
 * The authorize endpoint (reference §7.2) and admin consent (§7.6): validates the request,
 * renders the sign-in + consent page (or auto-approves for tests), and redirects back with a
 * code or an error.
 * [EMU] https://learn.microsoft.com/entra/identity-platform/v2-oauth2-auth-code-flow#request-an-authorization-code
 * [EMU] https://learn.microsoft.com/entra/identity-platform/v2-admin-consent
 */
import type { Ctx, Sandbox } from '../context';
import { randomBytes, randomUUID } from 'node:crypto';
import type { SandboxResponse } from '../http';
import type { AppRegistration, SandboxUser } from '../state';
import { redirectErrorDescription, redirectWith } from './errors';
import { consentPage, errorPage, formPostPage } from './page';
import {
  ADMIN_ONLY_SCOPES,
  GRAPH_RESOURCE,
  consentKey,
  describeScope,
  includesScope,
  parseScopes,
  type ParsedScopes,
} from './scopes';
import {
  capabilitiesFromClaims,
  identityState,
  type IdentityState,
  type PendingAuthorization,
} from './state';
import {
  canSignIn,
  resolveTenant,
  signInRefusal,
  unknownTenantMessage,
  type ResolvedTenant,
} from './tenants';

/** [EMU] Authorization codes live about 10 minutes (§7.2). */
export const CODE_LIFETIME_MS = 10 * 60 * 1000;
const PENDING_LIFETIME_MS = 10 * 60 * 1000;

/** Canonical names of the admin-restricted scopes (what `.default` grants in admin consent). */
const ADMIN_SCOPE_NAMES = [
  'ChannelMessage.Read.All',
  'User.Read.All',
  'Group.Read.All',
  'Directory.Read.All',
  'People.Read.All',
  'TeamMember.Read.All',
  'OnlineMeetingTranscript.Read.All',
];

function page(ctx: Ctx, status: number, code: number, message: string): SandboxResponse {
  return errorPage(status, code, message, ctx.requestId);
}

function redirect(location: string): SandboxResponse {
  return { status: 302, headers: { location, 'cache-control': 'no-store' } };
}

function respond(
  pending: Pick<PendingAuthorization, 'redirectUri' | 'responseMode'>,
  params: Record<string, string | undefined>,
): SandboxResponse {
  if (pending.responseMode === 'form_post') return formPostPage(pending.redirectUri, params);
  return redirect(redirectWith(pending.redirectUri, params, pending.responseMode));
}

function errorRedirect(
  ctx: Ctx,
  pending: Pick<PendingAuthorization, 'redirectUri' | 'responseMode' | 'state'>,
  error: string,
  code: number,
  message: string,
): SandboxResponse {
  return respond(pending, {
    error,
    error_description: redirectErrorDescription(ctx, code, message),
    error_uri: `https://login.microsoftonline.com/error?code=${code}`,
    state: pending.state,
  });
}

/** Scopes (by consent key) the user or an admin has granted this app. */
export function grantedScopes(app: AppRegistration, user: SandboxUser): string[] {
  return [...(user.consents[app.clientId] ?? []), ...app.adminConsentedScopes];
}

/** Resource scopes (consent keys) from the request that nobody consented to yet. */
export function missingConsent(app: AppRegistration, user: SandboxUser, parsed: ParsedScopes): string[] {
  const granted = grantedScopes(app, user);
  return parsed.resourceScopes
    .filter((s) => s.name !== '.default')
    .map(consentKey)
    .filter((key) => !includesScope(granted, key));
}

function adminRequired(app: AppRegistration, parsed: ParsedScopes): string[] {
  return parsed.resourceScopes
    .filter((s) => s.resource === GRAPH_RESOURCE && ADMIN_ONLY_SCOPES.has(s.name.toLowerCase()))
    .map(consentKey)
    .filter((key) => !includesScope(app.adminConsentedScopes, key));
}

function recordConsent(app: AppRegistration, user: SandboxUser, parsed: ParsedScopes): void {
  const current = user.consents[app.clientId] ?? [];
  for (const s of parsed.resourceScopes) {
    if (s.name === '.default') continue;
    const key = consentKey(s);
    if (!includesScope(current, key)) current.push(key);
  }
  user.consents[app.clientId] = current;
}

function issueCode(sandbox: Sandbox, state: IdentityState, pending: PendingAuthorization, user: SandboxUser) {
  const code = `0.A${randomBytes(48).toString('base64url')}`;
  state.codes.set(code, {
    code,
    clientId: pending.clientId,
    userId: user.id,
    redirectUri: pending.redirectUri,
    tenantSegment: pending.tenantSegment,
    scope: pending.scope,
    codeChallenge: pending.codeChallenge,
    codeChallengeMethod: pending.codeChallengeMethod,
    nonce: pending.nonce,
    capabilities: pending.capabilities,
    issuedAt: sandbox.now(),
    redeemed: false,
  });
  return code;
}

/** The user pressed Accept (or auto-approve did): record consent, satisfy MFA, send a code. */
function approve(
  sandbox: Sandbox,
  state: IdentityState,
  app: AppRegistration,
  pending: PendingAuthorization,
  user: SandboxUser,
): SandboxResponse {
  recordConsent(app, user, parseScopes(pending.scope));
  // The interactive sign-in satisfies the Conditional Access MFA requirement (§7.4 AADSTS50076:
  // "retry with a new authorize request").
  user.requireMfa = false;
  const code = issueCode(sandbox, state, pending, user);
  return respond(pending, { code, state: pending.state, session_state: randomUUID() });
}

function eligibleUsers(sandbox: Sandbox, tenant: ResolvedTenant): SandboxUser[] {
  return [...sandbox.directory.users.values()].filter((u) => canSignIn(tenant, u));
}

interface ValidatedClient {
  tenant: ResolvedTenant;
  app: AppRegistration;
  redirectUri: string;
}

/**
 * Checks that decide whether we may redirect at all. [EMU] An unknown client or a redirect_uri
 * that doesn't exactly match a registered one gets an error page, never a redirect (AADSTS50011,
 * https://learn.microsoft.com/troubleshoot/entra/entra-id/app-integration/error-code-aadsts50011-redirect-uri-mismatch).
 */
function validateClient(
  ctx: Ctx,
  params: URLSearchParams,
): { ok: ValidatedClient } | { page: SandboxResponse } {
  const sandbox = ctx.sandbox;
  const segment = ctx.params.tenant ?? '';
  const tenant = resolveTenant(sandbox, segment);
  if (!tenant) return { page: page(ctx, 400, 90002, unknownTenantMessage(segment)) };
  const clientId = params.get('client_id');
  if (!clientId) {
    return {
      page: page(ctx, 400, 900144, "The request body must contain the following parameter: 'client_id'."),
    };
  }
  const app = sandbox.directory.apps.get(clientId);
  if (!app) {
    return {
      page: page(
        ctx,
        400,
        700016,
        `Application with identifier '${clientId}' was not found in the directory '${segment}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.`,
      ),
    };
  }
  const redirectUri = params.get('redirect_uri');
  if (!redirectUri || !app.redirectUris.includes(redirectUri)) {
    return {
      page: page(
        ctx,
        400,
        50011,
        `The redirect URI '${redirectUri ?? ''}' specified in the request does not match the redirect URIs configured for the application '${clientId}'. Make sure the redirect URI sent in the request matches one added to your application in the Azure portal. Navigate to https://aka.ms/redirectUriMismatchError to learn more about how to fix this.`,
      ),
    };
  }
  return { ok: { tenant, app, redirectUri } };
}

function authorizeGet(ctx: Ctx): SandboxResponse {
  const sandbox = ctx.sandbox;
  const state = identityState(sandbox);
  const q = ctx.query;
  const checked = validateClient(ctx, q);
  if ('page' in checked) return checked.page;
  const { tenant, app, redirectUri } = checked.ok;

  const modeParam = q.get('response_mode') ?? 'query';
  const responseMode = (['query', 'fragment', 'form_post'] as const).find((m) => m === modeParam);
  const base = { redirectUri, responseMode: responseMode ?? 'query', state: q.get('state') ?? undefined };
  if (!responseMode) {
    return errorRedirect(
      ctx,
      base,
      'invalid_request',
      9002313,
      'Invalid request. Request is malformed or invalid.',
    );
  }
  if (q.get('response_type') !== 'code') {
    return errorRedirect(
      ctx,
      base,
      'unsupported_response_type',
      700054,
      `response_type '${q.get('response_type') ?? ''}' is not enabled for the application.`,
    );
  }
  const scope = q.get('scope');
  if (!scope) {
    return errorRedirect(
      ctx,
      base,
      'invalid_request',
      900144,
      "The request body must contain the following parameter: 'scope'.",
    );
  }
  const parsed = parseScopes(scope);
  if (parsed.unknownResources.length > 0) {
    return errorRedirect(
      ctx,
      base,
      'invalid_resource',
      500011,
      `The resource principal named ${parsed.unknownResources[0]} was not found in the tenant named ${tenant.segment}. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant.`,
    );
  }
  const codeChallenge = q.get('code_challenge') ?? undefined;
  const method = q.get('code_challenge_method') ?? (codeChallenge ? 'plain' : undefined);
  if (method !== undefined && method !== 'S256' && method !== 'plain') {
    return errorRedirect(
      ctx,
      base,
      'invalid_request',
      9002313,
      'Invalid request. Request is malformed or invalid.',
    );
  }

  // [EMU] Admin-restricted permissions without tenant-wide admin consent: the user can't grant
  // them, so the app is sent back with consent_required (§7.2, §7.6).
  const needsAdmin = adminRequired(app, parsed);
  if (needsAdmin.length > 0) {
    return errorRedirect(
      ctx,
      base,
      'consent_required',
      65001,
      `The user or administrator has not consented to use the application with ID '${app.clientId}' named '${app.displayName}'. Send an interactive authorization request for this user and resource. Admin consent is required for: ${needsAdmin.join(' ')}.`,
    );
  }

  const pending: PendingAuthorization = {
    id: randomUUID(),
    kind: 'user',
    createdAt: sandbox.now(),
    tenantSegment: tenant.segment,
    clientId: app.clientId,
    redirectUri,
    responseMode,
    scope,
    state: base.state,
    nonce: q.get('nonce') ?? undefined,
    codeChallenge,
    codeChallengeMethod: method,
    capabilities: capabilitiesFromClaims(q.get('claims')),
  };

  const loginHint = q.get('login_hint');
  const hinted = loginHint ? sandbox.directory.findUser(loginHint) : undefined;
  if (hinted && !canSignIn(tenant, hinted)) {
    const refusal = signInRefusal(tenant, hinted);
    return page(ctx, 400, refusal.code, refusal.message);
  }
  const prompt = q.get('prompt');
  if (prompt === 'none') {
    // No browser session in the sandbox: silent authorize works only in auto-approve mode for a
    // hinted user who already consented (AADSTS50058 otherwise, §7.4).
    if (!state.autoApprove || !hinted) {
      return errorRedirect(
        ctx,
        base,
        'login_required',
        50058,
        'A silent sign-in request was sent but no user is signed in.',
      );
    }
    if (missingConsent(app, hinted, parsed).length > 0) {
      return errorRedirect(
        ctx,
        base,
        'consent_required',
        65001,
        `The user or administrator has not consented to use the application with ID '${app.clientId}' named '${app.displayName}'. Send an interactive authorization request for this user and resource.`,
      );
    }
    return approve(sandbox, state, app, pending, hinted);
  }
  if (state.autoApprove && hinted && prompt !== 'select_account') {
    return approve(sandbox, state, app, pending, hinted);
  }

  state.pending.set(pending.id, pending);
  return renderConsent(ctx, app, tenant, pending, hinted);
}

function renderConsent(
  ctx: Ctx,
  app: AppRegistration,
  tenant: ResolvedTenant,
  pending: PendingAuthorization,
  hinted?: SandboxUser,
): SandboxResponse {
  const parsed = parseScopes(pending.scope);
  const scopes = [
    ...[...parsed.oidc].map((s) => ({ scope: s, description: describeScope(s) })),
    ...parsed.resourceScopes.map((s) => ({
      scope: s.resource === GRAPH_RESOURCE ? s.name : `${s.resource}/${s.name}`,
      description: describeScope(s.name),
    })),
  ];
  const action =
    pending.kind === 'admin'
      ? `/${tenant.segment}/v2.0/adminconsent`
      : `/${tenant.segment}/oauth2/v2.0/authorize`;
  return consentPage({
    action,
    requestId: pending.id,
    appName: app.displayName,
    clientId: app.clientId,
    redirectUri: pending.redirectUri,
    scopes,
    users: eligibleUsers(ctx.sandbox, tenant),
    selectedUserId: hinted?.id,
    admin: pending.kind === 'admin',
  });
}

/** The consent page's Accept / Cancel (both the user and the admin consent page post here). */
async function decisionPost(ctx: Ctx): Promise<SandboxResponse> {
  const sandbox = ctx.sandbox;
  const state = identityState(sandbox);
  const form = new URLSearchParams((await ctx.body()).toString('utf8'));
  const pending = state.pending.get(form.get('sandbox_request') ?? '');
  if (!pending || sandbox.now() - pending.createdAt > PENDING_LIFETIME_MS) {
    return page(
      ctx,
      400,
      9002313,
      'This sign-in request has expired or was already used. Start again from the application.',
    );
  }
  state.pending.delete(pending.id);
  const app = sandbox.directory.apps.get(pending.clientId);
  const tenant = resolveTenant(sandbox, pending.tenantSegment);
  if (!app || !tenant) return page(ctx, 400, 700016, 'The application is no longer registered.');

  if (form.get('decision') !== 'accept') {
    // [EMU] Declined consent: access_denied for sign-in, consent_required for admin consent,
    // both with AADSTS65004 (§7.2, §7.6).
    return errorRedirect(
      ctx,
      pending,
      pending.kind === 'admin' ? 'consent_required' : 'access_denied',
      65004,
      'User declined to consent to access the app.',
    );
  }
  const user = sandbox.directory.users.get(form.get('user') ?? '');
  if (!user) return page(ctx, 400, 50034, 'The user account does not exist in the sandbox directory.');
  if (!canSignIn(tenant, user)) {
    const refusal = signInRefusal(tenant, user);
    return page(ctx, 400, refusal.code, refusal.message);
  }
  if (pending.kind === 'admin') return grantAdminConsent(sandbox, app, pending);
  return approve(sandbox, state, app, pending, user);
}

function grantAdminConsent(
  sandbox: Sandbox,
  app: AppRegistration,
  pending: PendingAuthorization,
): SandboxResponse {
  const parsed = parseScopes(pending.scope);
  for (const s of parsed.resourceScopes) {
    const keys = s.name === '.default' && s.resource === GRAPH_RESOURCE ? ADMIN_SCOPE_NAMES : [consentKey(s)];
    for (const key of keys)
      if (!includesScope(app.adminConsentedScopes, key)) app.adminConsentedScopes.push(key);
  }
  return respond(pending, {
    admin_consent: 'True',
    tenant: sandbox.tenantId,
    scope: pending.scope,
    state: pending.state,
  });
}

/** GET /{tenant}/v2.0/adminconsent?client_id&scope&redirect_uri&state (§7.6). */
function adminConsentGet(ctx: Ctx): SandboxResponse {
  const sandbox = ctx.sandbox;
  const state = identityState(sandbox);
  const checked = validateClient(ctx, ctx.query);
  if ('page' in checked) return checked.page;
  const { tenant, app, redirectUri } = checked.ok;
  const pending: PendingAuthorization = {
    id: randomUUID(),
    kind: 'admin',
    createdAt: sandbox.now(),
    tenantSegment: tenant.segment,
    clientId: app.clientId,
    redirectUri,
    responseMode: 'query',
    scope: ctx.query.get('scope') ?? 'https://graph.microsoft.com/.default',
    state: ctx.query.get('state') ?? undefined,
    capabilities: [],
  };
  if (state.autoApprove) return grantAdminConsent(sandbox, app, pending);
  state.pending.set(pending.id, pending);
  return renderConsent(ctx, app, tenant, pending);
}

export function installAuthorize(sandbox: Sandbox): void {
  const r = sandbox.routes;
  r.on('GET', '/:tenant/oauth2/v2.0/authorize', authorizeGet);
  r.on('POST', '/:tenant/oauth2/v2.0/authorize', decisionPost);
  r.on('GET', '/:tenant/v2.0/adminconsent', adminConsentGet);
  r.on('POST', '/:tenant/v2.0/adminconsent', decisionPost);
}
