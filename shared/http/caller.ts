/**
 * Caller authentication: every action route requires `Authorization: Bearer <JWT>` issued by the
 * platform, verified with jose — HS256 with CALLER_TOKEN_SECRET, or asymmetric keys from
 * CALLER_JWKS_URL. `iss`, `aud` and `exp` are checked, the lifetime must be at most 15 minutes,
 * and `sub` is the user id: the only place a user id ever comes from.
 *
 * With ENTRA_API_AUDIENCE set, a platform whose users sign in with Entra ID may instead send the
 * user's Entra access token for this API (issued by MICROSOFT_AUTHORITY_HOST for the tenant in its
 * `tid`, verified against that tenant's published keys, audience ENTRA_API_AUDIENCE or the client
 * id, delegated scope ENTRA_API_SCOPE). The user id is then `entra:{tid}:{oid}` and the token is
 * kept as the on-behalf-of assertion (shared/auth/obo.ts): no second consent, no connect flow.
 */
import { createHash } from 'node:crypto';
import type { HttpRequest } from '@azure/functions';
import type * as Jose from 'jose';
import { getConfig } from '../config';
import { getSecret } from '../secrets';
import { Problem } from './problem';

export interface Caller {
  userId: string;
  tokenId?: string;
  /** An Entra access token for this API: the assertion the on-behalf-of grant trades for Graph tokens. */
  assertion?: string;
}

export const MAX_CALLER_TOKEN_LIFETIME_SECONDS = 15 * 60;
/** User ids become Table partition keys: no '/', '\\', '#', '?', control characters. */
export const USER_ID = /^[A-Za-z0-9._:@|=+-]{1,128}$/;
/**
 * A user id or one of the user's other Microsoft accounts (`{userId}~{accountId}`,
 * shared/storage/accounts.ts): what queue messages about a connection carry.
 */
export const PRINCIPAL_ID = /^[A-Za-z0-9._:@|=+-]{1,128}(?:~a[0-9a-f]{11})?$/;

const jose = (): typeof Jose => require('jose') as typeof Jose;
let jwks: ReturnType<typeof Jose.createRemoteJWKSet> | undefined;
let jwksUrl: string | undefined;

function unauthenticated(detail: string, error = 'invalid_token'): Problem {
  return new Problem(
    'unauthenticated',
    detail,
    {},
    {
      // Header text must be printable ASCII (an en dash once turned every 401 into a 500).
      'www-authenticate': `Bearer realm="m365-integration", error="${error}", error_description="${detail.replace(/"/g, "'").replace(/[^\x20-\x7e]/g, '-')}"`,
    },
  );
}

let hmac: { secret: string; key: Promise<CryptoKey> } | undefined;

/** The HS256 key, imported once per secret value (a rotated secret imports anew): half the cost of a check. */
async function hmacKey(secret: string): Promise<CryptoKey> {
  if (hmac?.secret !== secret) {
    const key = crypto.subtle.importKey(
      'raw',
      new TextEncoder().encode(secret),
      { name: 'HMAC', hash: 'SHA-256' },
      false,
      ['verify'],
    );
    hmac = { secret, key };
  }
  return await hmac.key;
}

export async function authenticateCaller(request: HttpRequest): Promise<Caller> {
  const header = request.headers.get('authorization');
  if (!header) {
    throw new Problem(
      'unauthenticated',
      'Send the platform-issued token as "Authorization: Bearer <JWT>".',
      {},
      {
        'www-authenticate': 'Bearer realm="m365-integration"',
      },
    );
  }
  const match = /^Bearer\s+([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*)$/i.exec(header.trim());
  if (!match) throw unauthenticated('The Authorization header is not a Bearer JWT.', 'invalid_request');
  const token = match[1]!;
  const config = getConfig();
  const entraTenant = config.ENTRA_API_AUDIENCE ? entraIssuerTenant(token) : undefined;
  if (entraTenant) return await entraCaller(token, entraTenant);
  const hsSecretValue = config.CALLER_JWKS_URL ? undefined : await getSecret('CALLER_TOKEN_SECRET');
  const verifier = `${config.CALLER_TOKEN_ISSUER}|${config.CALLER_TOKEN_AUDIENCE}|${config.CALLER_JWKS_URL ?? hsSecretValue!}`;
  const known = verifiedCallers.get(token, verifier);
  if (known) return known;
  const { jwtVerify, createRemoteJWKSet, errors } = jose();
  const options: Jose.JWTVerifyOptions = {
    issuer: config.CALLER_TOKEN_ISSUER,
    audience: config.CALLER_TOKEN_AUDIENCE,
    requiredClaims: ['exp', 'iat', 'sub'],
    clockTolerance: 30,
  };
  // Read before verifying: a vault that cannot be reached is our outage (503), never a caller's
  // bad signature.
  const hsSecret = hsSecretValue === undefined ? undefined : await hmacKey(hsSecretValue);
  let payload: Jose.JWTPayload;
  try {
    if (config.CALLER_JWKS_URL) {
      if (!jwks || jwksUrl !== config.CALLER_JWKS_URL) {
        jwks = createRemoteJWKSet(new URL(config.CALLER_JWKS_URL));
        jwksUrl = config.CALLER_JWKS_URL;
      }
      ({ payload } = await jwtVerify(token, jwks, {
        ...options,
        algorithms: ['RS256', 'PS256', 'ES256', 'EdDSA'],
      }));
    } else {
      const secret = hsSecret!;
      // Only HS256: `alg: none` and algorithm-confusion tokens are rejected by the allow-list.
      ({ payload } = await jwtVerify(token, secret, { ...options, algorithms: ['HS256'] }));
    }
  } catch (err) {
    if (err instanceof errors.JWTExpired)
      throw unauthenticated('The caller token has expired: request a new one.');
    if (err instanceof errors.JWTClaimValidationFailed) {
      throw unauthenticated(`The caller token's "${err.claim}" claim is not valid (${err.reason}).`);
    }
    throw unauthenticated('The caller token signature or format is not valid.');
  }
  // The 15-minute rule holds against the clock too: a token "issued" a year ahead with a short
  // exp − iat would otherwise be accepted until it expires (jose only checks iat's type).
  if ((payload.iat ?? 0) > Math.floor(Date.now() / 1000) + 30) {
    throw unauthenticated('The caller token\'s "iat" is in the future: check the platform\'s clock.');
  }
  const lifetime = (payload.exp ?? 0) - (payload.iat ?? 0);
  if (lifetime <= 0 || lifetime > MAX_CALLER_TOKEN_LIFETIME_SECONDS) {
    throw unauthenticated(
      `Caller tokens may live at most ${MAX_CALLER_TOKEN_LIFETIME_SECONDS / 60} minutes.`,
    );
  }
  const sub = payload.sub ?? '';
  if (!USER_ID.test(sub)) {
    throw unauthenticated(
      'The caller token\'s "sub" (the user id) must be 1 to 128 characters of A-Z a-z 0-9 and . _ : @ | = + -',
    );
  }
  // `entra:` ids belong to Entra callers (their grant is on behalf of their own token), `mcp:`
  // ids to MCP clients' users (the Microsoft account itself, shared/mcp/oauth).
  const reserved = ['entra:', 'mcp:', 'mcp-signin:'].find((p) => sub.toLowerCase().startsWith(p));
  if (reserved)
    throw unauthenticated(
      `The caller token's "sub" may not start with "${reserved}": those ids are reserved for Entra callers and MCP clients' users.`,
    );
  const caller = { userId: sub, ...(payload.jti ? { tokenId: payload.jti } : {}) };
  verifiedCallers.set(token, verifier, caller, payload.exp!);
  return caller;
}

/**
 * Caller tokens this instance verified, by SHA-256 of the token: an assistant sends the same token
 * with every action of a turn, and checking its signature again (an HMAC through WebCrypto's thread
 * pool, or a public-key check) is a tenth of an action's own time. An entry is used only with the
 * same secret or key set (a rotation verifies anew), until the token's `exp` (without the clock
 * tolerance a full check allows) and for at most a minute. Bounded in size.
 */
const verifiedCallers = (() => {
  const MAX = 10_000;
  const TTL_MS = 60_000;
  const entries = new Map<string, { verifier: string; caller: Caller; until: number }>();
  const digest = (token: string) => createHash('sha256').update(token, 'utf8').digest('base64url');
  return {
    get(token: string, verifier: string): Caller | undefined {
      const key = digest(token);
      const e = entries.get(key);
      if (!e) return undefined;
      if (e.verifier !== verifier || Date.now() >= e.until) {
        entries.delete(key);
        return undefined;
      }
      return { ...e.caller };
    },
    set(token: string, verifier: string, caller: Caller, exp: number): void {
      if (entries.size >= MAX) entries.delete(entries.keys().next().value!);
      entries.set(digest(token), {
        verifier,
        caller: { ...caller },
        until: Math.min(exp * 1000, Date.now() + TTL_MS),
      });
    },
  };
})();

/** Mints a development caller token (`npm run token -- <userId>`), HS256 with CALLER_TOKEN_SECRET. */
export async function mintCallerToken(userId: string, lifetimeSeconds = 600): Promise<string> {
  const config = getConfig();
  const { SignJWT } = jose();
  const secret = new TextEncoder().encode(await getSecret('CALLER_TOKEN_SECRET'));
  return await new SignJWT({})
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(userId)
    .setIssuer(config.CALLER_TOKEN_ISSUER)
    .setAudience(config.CALLER_TOKEN_AUDIENCE)
    .setIssuedAt()
    .setExpirationTime(
      Math.floor(Date.now() / 1000) + Math.min(lifetimeSeconds, MAX_CALLER_TOKEN_LIFETIME_SECONDS),
    )
    .setJti(crypto.randomUUID())
    .sign(secret);
}

const GUID = /^[0-9a-f]{8}-(?:[0-9a-f]{4}-){3}[0-9a-f]{12}$/i;
const entraKeys = new Map<string, ReturnType<typeof Jose.createRemoteJWKSet>>();

/**
 * The issuers Microsoft's authority uses for a tenant's access tokens: v2.0 tokens
 * `{authority}/{tid}/v2.0`; v1.0 tokens (an API whose accessTokenAcceptedVersion is not 2)
 * `https://sts.windows.net/{tid}/` in the global service, `{authority}/{tid}/` in national clouds.
 */
function entraIssuers(tid: string): string[] {
  const authority = getConfig().MICROSOFT_AUTHORITY_HOST.replace(/\/$/, '');
  return [`${authority}/${tid}/v2.0`, `${authority}/${tid}/`, `https://sts.windows.net/${tid}/`];
}

/** The tenant of a token Microsoft's authority issued, read unverified (to pick the keys). */
function entraIssuerTenant(token: string): string | undefined {
  try {
    const { iss, tid } = jose().decodeJwt(token);
    if (typeof tid !== 'string' || !GUID.test(tid)) return undefined;
    return typeof iss === 'string' && entraIssuers(tid).includes(iss) ? tid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * An Entra access token for this API (v2 tokens, https://learn.microsoft.com/entra/identity-platform/access-tokens#validate-tokens):
 * signature by the tenant's keys, issuer, audience, lifetime, a delegated user (`oid`, `scp`).
 */
async function entraCaller(token: string, tid: string): Promise<Caller> {
  const config = getConfig();
  const authority = config.MICROSOFT_AUTHORITY_HOST.replace(/\/$/, '');
  const tenant = config.MICROSOFT_TENANT_ID;
  if (GUID.test(tenant) && tenant.toLowerCase() !== tid.toLowerCase())
    throw unauthenticated(
      `Entra tokens of tenant ${tid} are not accepted: this app serves tenant ${tenant}.`,
    );
  const { jwtVerify, createRemoteJWKSet, errors } = jose();
  let keys = entraKeys.get(tid);
  if (!keys) {
    keys = createRemoteJWKSet(new URL(`${authority}/${tid}/discovery/v2.0/keys`));
    entraKeys.set(tid, keys);
  }
  let payload: Jose.JWTPayload & { oid?: unknown; scp?: unknown };
  try {
    ({ payload } = await jwtVerify(token, keys, {
      issuer: entraIssuers(tid),
      audience: [config.ENTRA_API_AUDIENCE!, config.MICROSOFT_CLIENT_ID],
      algorithms: ['RS256'],
      requiredClaims: ['exp', 'oid'],
      clockTolerance: 30,
    }));
  } catch (err) {
    if (err instanceof errors.JWTExpired)
      throw unauthenticated(
        'The Entra access token has expired: get a new one for this API (MSAL acquireTokenSilent) and retry.',
      );
    if (err instanceof errors.JWTClaimValidationFailed)
      throw unauthenticated(`The Entra access token's "${err.claim}" claim is not valid (${err.reason}).`);
    throw unauthenticated('The Entra access token signature or format is not valid.');
  }
  const scopes = typeof payload.scp === 'string' ? payload.scp.split(' ') : [];
  if (!scopes.includes(config.ENTRA_API_SCOPE)) {
    throw unauthenticated(
      `The Entra access token lacks the delegated scope "${config.ENTRA_API_SCOPE}" of this API: request it when signing the user in.`,
    );
  }
  const oid = typeof payload.oid === 'string' && GUID.test(payload.oid) ? payload.oid : undefined;
  if (!oid) throw unauthenticated('The Entra access token has no user ("oid"): send a delegated user token.');
  return { userId: `entra:${tid.toLowerCase()}:${oid.toLowerCase()}`, assertion: token };
}
