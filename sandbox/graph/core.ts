/**
 * The Graph route wrapper every service module uses. One call registers a handler for the
 * `/me/...` and `/users/{id | userPrincipalName}/...` forms and runs, in Graph's order:
 * bearer token validation (401, CAE challenge §7.8) → permission check (403 naming the missing
 * scope) → target user resolution (404, other mailboxes need delegated rights) → Prefer headers →
 * the throttling model (429, §2.3) → the handler, whose thrown GraphHttpErrors become Graph's
 * error envelope (§1.1) with the workload's code casing.
 */
import type { Ctx, GraphAuth, Sandbox } from '../context';
import type { JWTPayload } from 'jose';
import { safeDecode, graphError, json, type SandboxResponse } from '../http';
import type { SandboxUser } from '../state';
import { GRAPH_RESOURCE_ID } from '../tokens';
import { accessDenied, badRequest, GraphHttpError, notFound, throttled, type Workload } from './errors';
import { persisted } from '../persist';
import { ChangeStore } from './store';
import { Throttle } from './throttle';
import { toIanaZone } from './timezones';

/** Per-sandbox Graph state, kept in `sandbox.modules.graph`. */
export interface GraphModule {
  store: ChangeStore;
  throttle: Throttle;
  batch: { shuffle: boolean; maxConcurrency: number };
}

export function graphState(sandbox: Sandbox): GraphModule {
  let state = sandbox.modules.graph as GraphModule | undefined;
  if (!state) {
    const now = () => sandbox.now();
    const t = sandbox.options.throttle ?? {};
    state = {
      store: new ChangeStore(now),
      throttle: new Throttle(now, {
        ...(t.requestsPerWindow !== undefined ? { requestsPerWindow: t.requestsPerWindow } : {}),
        ...(t.windowSeconds !== undefined ? { windowSeconds: t.windowSeconds } : {}),
        ...(t.concurrency !== undefined ? { concurrency: t.concurrency } : {}),
        ...(t.code !== undefined ? { code: t.code } : {}),
      }),
      // Graph sends at most 4 batch items at a time to Outlook (reference §2.3).
      batch: { shuffle: true, maxConcurrency: 4 },
    };
    sandbox.modules.graph = state;
    const store = state.store;
    const saved = persisted(sandbox, 'graph', () => ({ store: store.dump() }));
    if (saved) store.load(saved.store);
  }
  return state;
}

/** Parsed `Prefer` request headers (reference §4.2, §5.1 item 8). */
export interface GraphPreferences {
  /** `odata.maxpagesize=n`. */
  maxPageSize?: number;
  /** `outlook.timezone="..."` as sent (Windows or IANA name). */
  timeZone?: string;
  /** The IANA zone for `timeZone`, when it names a known zone. */
  timeZoneIana?: string;
  /** `outlook.body-content-type="text" | "html"`. */
  bodyContentType?: 'text' | 'html';
  /** `IdType="ImmutableId"`: ids survive moves (https://learn.microsoft.com/graph/outlook-immutable-id). */
  immutableId: boolean;
  allowUnsafeHtml: boolean;
  trackChanges: boolean;
  /** Every preference as name → raw value (quotes removed), names lower-cased. */
  raw: Record<string, string>;
}

export interface GraphCtx extends Ctx {
  auth: GraphAuth & { appOnly: boolean };
  /** The user the path targets (`/me` or `/users/{id}`); undefined for non-user paths. */
  user?: SandboxUser;
  /** The signed-in user of a delegated token. */
  caller?: SandboxUser;
  prefs: GraphPreferences;
  workload: Workload;
  graph: GraphModule;
  /** Echoes a preference in `Preference-Applied` (e.g. `odata.maxpagesize=5`). */
  applyPreference(preference: string): void;
}

export type GraphHandler = (ctx: GraphCtx) => Promise<SandboxResponse> | SandboxResponse;

export interface GraphRouteOptions {
  /**
   * Delegated permissions for the caller's own resources: any one of them suffices, and a
   * broader grant implies a narrower one (`Mail.ReadWrite` ⊇ `Mail.Read`, `X.All`/`X.Shared` ⊇ `X`).
   * `other` lists what another user's resource needs (default: the `.Shared` variants).
   * `app` lists application permissions for app-only tokens (default: the `.All`-less names
   * plus `.All` variants, without `.Shared`).
   */
  scopes: { anyOf: string[]; other?: string[]; app?: string[] };
  /** Error code casing (default `outlook`). */
  workload?: Workload;
  /**
   * Access to another user's resource with a delegated token: `mailboxRights` (default) needs
   * the target in the caller's Directory `mailboxRights`; `directory` only needs the `other`
   * scopes (user profiles); `deny` always answers 403 (e.g. `me`-only APIs).
   */
  otherUsers?: 'mailboxRights' | 'directory' | 'deny' | OtherUserRule;
  /** `/me` only with delegated tokens (§7.6); `delegatedOnly` rejects app-only tokens on every form. */
  delegatedOnly?: boolean;
  /** The mailbox a request counts against, when not the path's user (e.g. a group). */
  mailbox?: (ctx: GraphCtx) => string | undefined;
  /** `mailbox` (default) applies the per-mailbox Outlook limits; `none` skips them. */
  throttle?: 'mailbox' | 'none';
}

/**
 * A resource's own sharing rule for another user (e.g. a shared calendar): true lets the caller
 * in; full access to the mailbox always does.
 */
export type OtherUserRule = (ctx: GraphCtx, caller: SandboxUser | undefined, target: SandboxUser) => boolean;

const USER_PARAM = 'targetUser';

/** Registers a Graph handler; `pattern` is relative to the version root (`/me/messages/:id`). */
export function graphRoute(
  sandbox: Sandbox,
  method: string | string[],
  pattern: string | RegExp,
  options: GraphRouteOptions,
  handler: GraphHandler,
): void {
  const wrapped = wrapGraphHandler(sandbox, options, handler);
  for (const p of versionedPatterns(pattern)) sandbox.routes.on(method, p, wrapped);
}

/** `/me/x` → [`/v1.0/me/x`, `/v1.0/users/:targetUser/x`]; other paths just get the version prefix. */
export function versionedPatterns(pattern: string | RegExp): Array<string | RegExp> {
  if (typeof pattern === 'string') {
    const p = pattern.startsWith('/') ? pattern : `/${pattern}`;
    if (p === '/me' || p.startsWith('/me/')) {
      return [`/v1.0${p}`, `/v1.0/users/:${USER_PARAM}${p.slice(3)}`];
    }
    return [`/v1.0${p}`];
  }
  let source = pattern.source.replace(/^\^/, '');
  const flags = pattern.flags.includes('i') ? pattern.flags : `${pattern.flags}i`;
  const me = /^(\\\/|\/)me(?![\w])/.exec(source);
  if (me) {
    source = source.slice(me[0].length);
    return [
      new RegExp(`^/v1\\.0/me${source}`, flags),
      new RegExp(`^/v1\\.0/users/(?<${USER_PARAM}>[^/]+)${source}`, flags),
    ];
  }
  if (!source.startsWith('/') && !source.startsWith('\\/')) source = `/${source}`;
  return [new RegExp(`^/v1\\.0${source}`, flags)];
}

function wrapGraphHandler(sandbox: Sandbox, options: GraphRouteOptions, handler: GraphHandler) {
  const workload = options.workload ?? 'outlook';
  return async (ctx: Ctx): Promise<SandboxResponse> => {
    let release: (() => void) | undefined;
    try {
      const auth = await authenticate(sandbox, ctx);
      const gctx = ctx as GraphCtx;
      gctx.auth = auth;
      gctx.workload = workload;
      gctx.graph = graphState(sandbox);
      gctx.caller = auth.appOnly ? undefined : sandbox.directory.users.get(auth.userId);
      const applied = new Set<string>();
      gctx.applyPreference = (preference: string) => {
        applied.add(preference);
        ctx.responseHeaders['preference-applied'] = [...applied].join(', ');
      };
      gctx.prefs = parsePrefer(ctx.headers.prefer);

      const targetParam = ctx.params[USER_PARAM];
      const isMe = targetParam === undefined && /^\/v1\.0\/me(\/|$)/i.test(ctx.path);
      if (isMe && auth.appOnly) {
        // https://github.com/microsoftgraph/msgraph-sdk-php/issues/1163 (reference §7.6).
        throw new GraphHttpError(
          400,
          'BadRequest',
          '/me request is only valid with delegated authentication flow.',
        );
      }
      if (options.delegatedOnly && auth.appOnly) {
        throw accessDenied(workload, 'This operation is only supported with delegated permissions.');
      }
      let target: SandboxUser | undefined;
      if (isMe) {
        target = gctx.caller;
        if (!target)
          throw notFound(
            'directory',
            `Resource '${auth.userId}' does not exist or one of its queried reference-property objects are not present.`,
          );
      }
      const otherUser = targetParam !== undefined && !(gctx.caller && matchesUser(gctx.caller, targetParam));
      checkPermissions(auth, options, workload, otherUser);
      if (targetParam !== undefined) {
        target = sandbox.directory.findUser(targetParam);
        if (!target) {
          throw workload === 'outlook'
            ? new GraphHttpError(404, 'ErrorInvalidUser', `The requested user '${targetParam}' is invalid.`)
            : notFound(
                'directory',
                `Resource '${targetParam}' does not exist or one of its queried reference-property objects are not present.`,
              );
        }
        if (otherUser && !auth.appOnly) checkOtherUser(gctx, target, options, workload);
      }
      gctx.user = target;
      ctx.mailbox = options.mailbox?.(gctx) ?? target?.id;
      if (workload === 'outlook') echoOutlookPreferences(gctx);

      const graph = gctx.graph;
      if (ctx.mailbox && (options.throttle ?? 'mailbox') === 'mailbox') {
        const admission = graph.throttle.admitMailbox(auth.clientId, ctx.mailbox);
        ctx.concurrency = admission.concurrency;
        if (!admission.ok) throw throttled(admission.code, admission.message, admission.retryAfterSeconds);
        release = admission.release;
      }
      const latency = graph.throttle.settings.latencyMs;
      if (latency > 0) await new Promise((r) => setTimeout(r, latency));
      return await handler(gctx);
    } catch (err) {
      return errorResponse(ctx, err, workload);
    } finally {
      release?.();
    }
  };
}

/** Converts what a Graph handler threw into Graph's error envelope. */
export function errorResponse(ctx: Ctx, err: unknown, workload: Workload = 'generic'): SandboxResponse {
  if (err instanceof GraphHttpError) {
    const inner: Record<string, string> = {};
    if (err.status === 429) {
      // The throttling.md sample's innerError (reference §2.2).
      inner.status = '429';
      inner.message = 'Please retry after';
    }
    return graphError(ctx, err.status, err.code, err.message, {
      headers: err.extra.headers ?? {},
      ...(err.extra.innerCode ? { innerCode: err.extra.innerCode } : {}),
      inner,
    });
  }
  if (err instanceof SyntaxError) {
    const e = badRequest(
      workload,
      'Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.',
    );
    return graphError(ctx, 400, e.code, e.message);
  }
  throw err;
}

function matchesUser(user: SandboxUser, idOrUpn: string): boolean {
  const needle = idOrUpn.toLowerCase();
  return (
    user.id.toLowerCase() === needle ||
    user.userPrincipalName.toLowerCase() === needle ||
    user.mail.toLowerCase() === needle
  );
}

// ---------------------------------------------------------------- authentication

function unauthorized(
  sandbox: Sandbox,
  message: string,
  extraHeaders: Record<string, string> = {},
): GraphHttpError {
  return new GraphHttpError(401, 'InvalidAuthenticationToken', message, {
    headers: {
      'www-authenticate': `Bearer realm="", authorization_uri="${sandbox.authorityHost}/common/oauth2/authorize", client_id="${GRAPH_RESOURCE_ID}"`,
      ...extraHeaders,
    },
  });
}

const GRAPH_AUDIENCES = new Set([
  GRAPH_RESOURCE_ID,
  'https://graph.microsoft.com',
  'https://graph.microsoft.com/',
]);

/**
 * Validates the bearer token (reference §7.7/§7.8). Messages are the observed ones:
 * "Access token is empty.", "Lifetime validation failed, the token is expired.", "IDX14100: JWT
 * is not well formed...".
 */
export async function authenticate(sandbox: Sandbox, ctx: Ctx): Promise<GraphAuth & { appOnly: boolean }> {
  const header = ctx.headers.authorization;
  const raw = typeof header === 'string' ? header : '';
  const token = /^Bearer\s+/i.test(raw) ? raw.replace(/^Bearer\s+/i, '').trim() : '';
  if (!token) throw unauthorized(sandbox, 'Access token is empty.');
  if (token.split('.').length !== 3) {
    throw unauthorized(
      sandbox,
      "IDX14100: JWT is not well formed, there are no dots (.).\nThe token needs to be in JWS or JWE Compact Serialization Format. (JWS): 'EncodedHeader.EndcodedPayload.EncodedSignature'.",
    );
  }
  const result = await sandbox.keys.verify(token, Math.floor(sandbox.now() / 1000));
  if (!result.ok) {
    throw unauthorized(
      sandbox,
      result.reason === 'expired'
        ? 'Lifetime validation failed, the token is expired.'
        : 'Access token validation failure.',
    );
  }
  const claims = result.claims as JWTPayload & Record<string, unknown>;
  const audiences = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
  if (!audiences.some((a) => typeof a === 'string' && GRAPH_AUDIENCES.has(a))) {
    throw unauthorized(sandbox, 'Access token validation failure. Invalid audience.');
  }
  const userId = claimText(claims.oid) || claimText(claims.sub);
  const capabilities = toList(claims.xms_cc);
  const revokedBefore = sandbox.directory.revokedBefore.get(userId);
  // Revocation is per second (iat has second precision): a token minted in the revocation's own
  // second still counts as fresh, so a refresh right after revoking doesn't loop.
  if (revokedBefore !== undefined && (claims.iat ?? 0) < Math.floor(revokedBefore / 1000)) {
    if (capabilities.includes('cp1')) {
      // CAE claims challenge (reference §7.8, claims-challenge.md): only for clients declaring cp1.
      const claimsJson = JSON.stringify({
        access_token: { nbf: { essential: true, value: String(Math.floor(revokedBefore / 1000)) } },
      });
      throw new GraphHttpError(
        401,
        'InvalidAuthenticationToken',
        'Continuous access evaluation resulted in challenge with result: InteractionRequired and code: TokenIssuedBeforeRevocationTimestamp',
        {
          headers: {
            'www-authenticate': `Bearer realm="", authorization_uri="${sandbox.authorityHost}/common/oauth2/authorize", error="insufficient_claims", claims="${Buffer.from(claimsJson).toString('base64')}"`,
          },
        },
      );
    }
    throw unauthorized(sandbox, 'Access token has expired or is not yet valid.');
  }
  const scopes = typeof claims.scp === 'string' ? claims.scp.split(' ').filter(Boolean) : [];
  const roles = toList(claims.roles);
  const appOnly = claims.scp === undefined && roles.length > 0;
  return {
    userId,
    tenantId: claimText(claims.tid),
    clientId: claimText(claims.appid) || claimText(claims.azp),
    scopes,
    ...(appOnly ? { roles } : {}),
    tokenId: claimText(claims.uti),
    capabilities,
    appOnly,
  };
}

function claimText(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

function toList(v: unknown): string[] {
  if (Array.isArray(v)) return v.map(String);
  if (typeof v === 'string') return v.split(' ').filter(Boolean);
  return [];
}

// ---------------------------------------------------------------- permissions

/** Everything a granted permission implies (`Mail.ReadWrite.Shared` ⊇ `Mail.Read.Shared` ⊇ `Mail.Read`). */
export function impliedScopes(granted: string): Set<string> {
  const out = new Set<string>();
  const queue = [granted.toLowerCase()];
  while (queue.length > 0) {
    const s = queue.pop() as string;
    if (out.has(s)) continue;
    out.add(s);
    if (s.includes('.readwrite')) queue.push(s.replace('.readwrite', '.read'));
    if (s.endsWith('.shared')) queue.push(s.slice(0, -'.shared'.length));
    if (s.endsWith('.all')) queue.push(s.slice(0, -'.all'.length));
    // Mail.Read also covers the basic variant (Mail.ReadBasic).
    if (/\.read$/.test(s)) queue.push(`${s}basic`);
    if (/\.read\.all$/.test(s)) queue.push(s.replace(/\.read\.all$/, '.readbasic.all'));
  }
  return out;
}

/** Whether a delegated token's scopes grant one of `required` (with the implied narrower ones). */
export function grantsAny(auth: GraphAuth, required: string[]): boolean {
  return hasAny(auth.scopes, required);
}

function hasAny(granted: string[], required: string[]): boolean {
  const implied = new Set<string>();
  for (const g of granted) for (const s of impliedScopes(g)) implied.add(s);
  return required.some((r) => implied.has(r.toLowerCase()));
}

function checkPermissions(
  auth: GraphAuth & { appOnly: boolean },
  options: GraphRouteOptions,
  workload: Workload,
  otherUser: boolean,
): void {
  let required: string[];
  let granted: string[];
  if (auth.appOnly) {
    granted = auth.roles ?? [];
    required =
      options.scopes.app ??
      [
        ...new Set(
          [...options.scopes.anyOf, ...(options.scopes.other ?? [])].map((s) => s.replace(/\.Shared$/i, '')),
        ),
      ].flatMap((s) => (/\.All$/i.test(s) ? [s] : [s, `${s}.All`]));
  } else {
    granted = auth.scopes;
    required = otherUser
      ? (options.scopes.other ??
        options.scopes.anyOf.map((s) => (/\.(Shared|All)$/i.test(s) ? s : `${s}.Shared`)))
      : options.scopes.anyOf;
  }
  if (hasAny(granted, required)) return;
  // Graph's gateway wording names what is missing and what the token had (observed).
  throw accessDenied(
    workload,
    `Missing scope permissions on the request. API requires one of '${required.join(', ')}'. ${auth.appOnly ? 'Roles' : 'Scopes'} on the request '${granted.join(', ')}'`,
  );
}

function checkOtherUser(
  ctx: GraphCtx,
  target: SandboxUser,
  options: GraphRouteOptions,
  workload: Workload,
): void {
  const caller = ctx.caller;
  const mode = options.otherUsers ?? 'mailboxRights';
  if (mode === 'directory') return;
  if (mode !== 'deny' && caller?.mailboxRights[target.id]?.fullAccess) return;
  if (typeof mode === 'function' && mode(ctx, caller, target)) return;
  throw accessDenied(workload);
}

// ---------------------------------------------------------------- Prefer

/** Parses `Prefer` headers: `a=1, b="x y"` (several headers arrive comma-joined). */
export function parsePrefer(header: string | string[] | undefined): GraphPreferences {
  const text = Array.isArray(header) ? header.join(',') : (header ?? '');
  const raw: Record<string, string> = {};
  for (const m of text.matchAll(/\s*([^=,\s]+)\s*(?:=\s*("([^"]*)"|[^,]*))?\s*(?:,|$)/g)) {
    const name = m[1];
    if (!name) continue;
    raw[name.toLowerCase()] = (m[3] ?? m[2] ?? '').trim();
  }
  const prefs: GraphPreferences = {
    immutableId: (raw.idtype ?? '').toLowerCase() === 'immutableid',
    allowUnsafeHtml: 'outlook.allow-unsafe-html' in raw,
    trackChanges: 'odata.track-changes' in raw,
    raw,
  };
  const maxPageSize = Number(raw['odata.maxpagesize']);
  if (Number.isInteger(maxPageSize) && maxPageSize > 0) prefs.maxPageSize = maxPageSize;
  const tz = raw['outlook.timezone'];
  if (tz) {
    prefs.timeZone = tz;
    const iana = toIanaZone(tz);
    if (iana) prefs.timeZoneIana = iana;
  }
  const bodyType = (raw['outlook.body-content-type'] ?? '').toLowerCase();
  if (bodyType === 'text' || bodyType === 'html') prefs.bodyContentType = bodyType;
  return prefs;
}

/** Outlook echoes the preferences it honours (reference §4.2, user-list-calendarview.md). */
function echoOutlookPreferences(ctx: GraphCtx): void {
  if (ctx.prefs.timeZone && ctx.prefs.timeZoneIana)
    ctx.applyPreference(`outlook.timezone="${ctx.prefs.timeZone}"`);
  if (ctx.prefs.bodyContentType)
    ctx.applyPreference(`outlook.body-content-type="${ctx.prefs.bodyContentType}"`);
  if (ctx.prefs.immutableId) ctx.applyPreference('IdType="ImmutableId"');
  if (ctx.prefs.trackChanges) ctx.applyPreference('odata.track-changes');
}

// ---------------------------------------------------------------- responses

/** `@odata.context` for a path relative to the metadata document (`users('id')/messages`). */
export function odataContext(ctx: Ctx, suffix: string): string {
  return `${ctx.sandbox.graphBaseUrl}/$metadata#${suffix}`;
}

/**
 * The default `@odata.context` suffix for this request's path: `/me/x/y` and `/users/{id}/x/y`
 * become `users('{id}')/x/y`; `$select` adds `(a,b)`.
 */
export function contextPath(ctx: GraphCtx, select?: string[]): string {
  const rest = ctx.path.replace(/^\/v1\.0\//i, '').replace(/\/$/, '');
  const segs = rest.split('/');
  let out: string;
  if (segs[0]?.toLowerCase() === 'me' && ctx.user)
    out = [`users('${ctx.user.id}')`, ...segs.slice(1)].join('/');
  else if (segs[0]?.toLowerCase() === 'users' && segs[1] && ctx.user) {
    out = [`users('${safeDecode(segs[1])}')`, ...segs.slice(2)].join('/');
  } else out = rest;
  return select ? `${out}(${select.join(',')})` : out;
}

/** A single entity answer with `@odata.context` first, as Graph orders it. */
export function entityResponse(
  ctx: GraphCtx,
  entity: Record<string, unknown>,
  options: { status?: number; context?: string; headers?: Record<string, string> } = {},
): SandboxResponse {
  return json(
    options.status ?? 200,
    { '@odata.context': odataContext(ctx, options.context ?? `${contextPath(ctx)}/$entity`), ...entity },
    options.headers ?? {},
  );
}
