/**
 * What an MCP client holds, and where it is kept:
 * - a grant per (user, client) in `mcpgrants` (partition = user id): its scope, the resource its
 *   tokens are for, the refresh generation and a random version. Authorizing the same client
 *   again replaces the grant (new version: every token issued before is dead); revoking deletes it.
 * - access tokens: JWTs (HS256, a key derived with HKDF from the token encryption key, its id as
 *   `kid`) for the audience `/api/mcp`, 15 minutes, naming the grant and its version; checked
 *   against the grant on every request, so a revocation takes effect at once.
 * - refresh tokens: `mrt1.<user>.<grant>.<generation>.<mac>`, one generation valid at a time.
 *   Using it moves the grant to the next generation; presenting an older one (a stolen token
 *   used after the client, or the client after the thief) revokes the whole grant (OAuth 2.1
 *   §4.3.1, refresh token rotation with reuse detection).
 * - authorization codes in `mcpauth` (keyed by their SHA-256), single use, 5 minutes; a second
 *   use revokes the grant the first one started (RFC 6749 §4.1.2).
 */
import { createHash, createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';
import type * as Jose from 'jose';
import { encryptionKeys } from '../../auth/keys';
import type { EncryptionKey } from '../../crypto/envelope';
import { registerUserData } from '../../privacy';
import { erasePartition, partitionRows, table, userTable } from '../../storage/clients';
import { OAuthError } from './clients';
import {
  ACCESS_TOKEN_SECONDS,
  CODE_SECONDS,
  GRANT_IDLE_DAYS,
  issuer,
  mcpResource,
  type McpScope,
} from './metadata';

export const GRANTS_TABLE = 'mcpgrants';
export const AUTH_TABLE = 'mcpauth';

const jose = (): typeof Jose => require('jose') as typeof Jose;

export interface Grant {
  userId: string;
  grantId: string;
  clientId: string;
  clientName: string;
  scope: McpScope[];
  resource: string;
  version: string;
  salt: string;
  refreshGeneration: number;
  createdAt: string;
  lastUsedAt: string;
  etag?: string;
}

const str = (v: unknown, fallback = ''): string => (typeof v === 'string' ? v : fallback);
const sha256 = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex');
/** One grant per client and user: the same client authorizing again replaces it. */
export const grantIdOf = (clientId: string) => sha256(`grant|${clientId}`).slice(0, 32);

function derived(key: EncryptionKey, purpose: string): Buffer {
  return Buffer.from(hkdfSync('sha256', key.key, 'm365-integration', `mcp-oauth:${purpose}`, 32));
}

function grantFromRow(
  row: Record<string, unknown> & { partitionKey?: string; rowKey?: string; etag?: string },
): Grant {
  return {
    userId: String(row.partitionKey),
    grantId: String(row.rowKey),
    clientId: str(row.clientId),
    clientName: str(row.clientName),
    scope: str(row.scope, 'mcp:read').split(' ') as McpScope[],
    resource: str(row.resource),
    version: str(row.version),
    salt: str(row.salt),
    refreshGeneration: Number(row.refreshGeneration ?? 0),
    createdAt: str(row.createdAt),
    lastUsedAt: str(row.lastUsedAt),
    ...(row.etag ? { etag: row.etag } : {}),
  };
}

export async function getGrant(userId: string, grantId: string): Promise<Grant | undefined> {
  try {
    const row = await (
      await userTable(GRANTS_TABLE, userId)
    ).getEntity<Record<string, unknown>>(userId, grantId);
    return grantFromRow(row);
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode === 404) return undefined;
    throw err;
  }
}

export async function listGrants(userId: string): Promise<Grant[]> {
  return (await partitionRows<Record<string, unknown>>(await userTable(GRANTS_TABLE, userId), userId)).map(
    (r) => grantFromRow({ ...r, partitionKey: userId }),
  );
}

/** Deletes a grant: its access and refresh tokens stop working at once. */
export async function revokeGrant(userId: string, grantId: string): Promise<boolean> {
  try {
    await (await userTable(GRANTS_TABLE, userId)).deleteEntity(userId, grantId);
    return true;
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode === 404) return false;
    throw err;
  }
}

/** A new (or replacing) grant for a client the user just allowed. */
export async function createGrant(input: {
  userId: string;
  clientId: string;
  clientName: string;
  scope: McpScope[];
  resource: string;
}): Promise<Grant> {
  const now = new Date().toISOString();
  const grant: Grant = {
    ...input,
    grantId: grantIdOf(input.clientId),
    version: randomBytes(9).toString('base64url'),
    salt: randomBytes(16).toString('base64url'),
    refreshGeneration: 0,
    createdAt: now,
    lastUsedAt: now,
  };
  await (
    await userTable(GRANTS_TABLE, grant.userId)
  ).upsertEntity(
    {
      partitionKey: grant.userId,
      rowKey: grant.grantId,
      clientId: grant.clientId,
      clientName: grant.clientName,
      scope: grant.scope.join(' '),
      resource: grant.resource,
      version: grant.version,
      salt: grant.salt,
      refreshGeneration: 0,
      createdAt: now,
      lastUsedAt: now,
    },
    'Replace',
  );
  return grant;
}

// ------------------------------------------------------------------ authorization codes

export interface CodeRecord {
  userId: string;
  grantId: string;
  grantVersion: string;
  clientId: string;
  redirectUri: string;
  codeChallenge: string;
  resource: string;
  expiresAt: string;
}

export async function issueCode(record: Omit<CodeRecord, 'expiresAt'>): Promise<string> {
  const code = randomBytes(32).toString('base64url');
  await (
    await table(AUTH_TABLE)
  ).createEntity({
    partitionKey: sha256(code),
    rowKey: 'code',
    ...record,
    expiresAt: new Date(Date.now() + CODE_SECONDS * 1000).toISOString(),
  });
  return code;
}

/** Takes a code once; a second presentation revokes the grant the first one started. */
export async function consumeCode(code: string): Promise<CodeRecord> {
  const invalid = new OAuthError(
    'invalid_grant',
    'The authorization code is unknown, expired or already used.',
  );
  if (!/^[A-Za-z0-9_-]{20,100}$/.test(code)) throw invalid;
  const client = await table(AUTH_TABLE);
  let row: Record<string, unknown> & { etag: string };
  try {
    row = await client.getEntity<Record<string, unknown>>(sha256(code), 'code');
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode === 404) throw invalid;
    throw err;
  }
  const record = row as unknown as CodeRecord & { consumedAt?: string };
  if (record.consumedAt) {
    const grant = await getGrant(record.userId, record.grantId);
    if (grant && grant.version === record.grantVersion) await revokeGrant(record.userId, record.grantId);
    throw invalid;
  }
  if (Date.parse(record.expiresAt) < Date.now()) throw invalid;
  try {
    await client.updateEntity(
      { partitionKey: sha256(code), rowKey: 'code', consumedAt: new Date().toISOString() },
      'Merge',
      { etag: row.etag },
    );
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode === 412) throw invalid;
    throw err;
  }
  return record;
}

// ------------------------------------------------------------------ tokens

export interface IssuedTokens {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  refresh_token: string;
  scope: string;
}

async function signAccessToken(grant: Grant, scope: McpScope[]): Promise<string> {
  const [key] = await encryptionKeys();
  const { SignJWT } = jose();
  return await new SignJWT({
    client_id: grant.clientId,
    scope: scope.join(' '),
    gid: grant.grantId,
    gv: grant.version,
  })
    .setProtectedHeader({ alg: 'HS256', typ: 'at+jwt', kid: key!.id })
    .setIssuer(issuer())
    .setAudience(grant.resource)
    .setSubject(grant.userId)
    .setIssuedAt()
    .setExpirationTime(Math.floor(Date.now() / 1000) + ACCESS_TOKEN_SECONDS)
    .setJti(randomBytes(12).toString('base64url'))
    .sign(derived(key!, 'access-token'));
}

async function refreshMac(
  userId: string,
  grantId: string,
  generation: number,
  salt: string,
): Promise<string> {
  const [key] = await encryptionKeys();
  return createHmac('sha256', derived(key!, 'refresh-token'))
    .update(`${userId}|${grantId}|${generation}|${salt}`)
    .digest('base64url');
}

/** Moves the grant to `generation` (only from the one before it) and issues both tokens. */
export async function issueTokens(
  grant: Grant,
  fromGeneration: number,
  scope = grant.scope,
): Promise<IssuedTokens> {
  const generation = fromGeneration + 1;
  try {
    await (
      await userTable(GRANTS_TABLE, grant.userId)
    ).updateEntity(
      {
        partitionKey: grant.userId,
        rowKey: grant.grantId,
        refreshGeneration: generation,
        lastUsedAt: new Date().toISOString(),
      },
      'Merge',
      { etag: grant.etag ?? '*' },
    );
  } catch (err) {
    const status = (err as { statusCode?: number }).statusCode;
    // Someone moved the grant first: the same refresh token used twice at once.
    if (status === 412 || status === 404) {
      await revokeGrant(grant.userId, grant.grantId);
      throw new OAuthError(
        'invalid_grant',
        'This refresh token was already used; the grant is revoked. Authorize again.',
      );
    }
    throw err;
  }
  const refresh = `mrt1.${Buffer.from(grant.userId, 'utf8').toString('base64url')}.${grant.grantId}.${generation}.${await refreshMac(grant.userId, grant.grantId, generation, grant.salt)}`;
  return {
    access_token: await signAccessToken(grant, scope),
    token_type: 'Bearer',
    expires_in: ACCESS_TOKEN_SECONDS,
    refresh_token: refresh,
    scope: scope.join(' '),
  };
}

function sameText(a: string, b: string): boolean {
  const ha = createHash('sha256').update(a, 'utf8').digest();
  const hb = createHash('sha256').update(b, 'utf8').digest();
  return timingSafeEqual(ha, hb);
}

/** The grant a refresh token belongs to, if the token is ours and current; reuse revokes it. */
export async function redeemRefreshToken(
  token: string,
  clientId: string,
): Promise<{ grant: Grant; generation: number }> {
  const invalid = new OAuthError(
    'invalid_grant',
    'The refresh token is unknown, expired or revoked. Authorize again.',
  );
  const parts = token.split('.');
  if (parts.length !== 5 || parts[0] !== 'mrt1' || !/^\d{1,9}$/.test(parts[3]!)) throw invalid;
  let userId: string;
  try {
    userId = Buffer.from(parts[1]!, 'base64url').toString('utf8');
  } catch {
    throw invalid;
  }
  const grantId = parts[2]!;
  const generation = Number(parts[3]);
  if (!/^[0-9a-f]{32}$/.test(grantId) || !userId.startsWith('mcp:')) throw invalid;
  const grant = await getGrant(userId, grantId);
  if (!grant) throw invalid;
  if (!sameText(await refreshMac(userId, grantId, generation, grant.salt), parts[4]!)) throw invalid;
  if (grant.clientId !== clientId)
    throw new OAuthError('invalid_grant', 'This refresh token was issued to another client.');
  if (generation < grant.refreshGeneration) {
    // A rotated-out token came back: whoever holds the newer one, the grant can no longer be trusted.
    await revokeGrant(userId, grantId);
    throw new OAuthError(
      'invalid_grant',
      'This refresh token was already used; the grant is revoked. Authorize again.',
    );
  }
  if (generation !== grant.refreshGeneration) throw invalid;
  const idleSince = Date.parse(grant.lastUsedAt);
  if (Number.isFinite(idleSince) && Date.now() - idleSince > GRANT_IDLE_DAYS * 86400_000) {
    await revokeGrant(userId, grantId);
    throw invalid;
  }
  return { grant, generation };
}

export interface VerifiedAccess {
  userId: string;
  clientId: string;
  scope: McpScope[];
  grant: Grant;
}

/** Whether a bearer token claims to be ours (issuer), read unverified to pick the path. */
export function isOurToken(token: string): boolean {
  try {
    return jose().decodeJwt(token).iss === issuer();
  } catch {
    return false;
  }
}

/**
 * Verifies an access token for /api/mcp: signature (any current key), issuer, audience = this
 * resource exactly (RFC 8707: a token for another resource is refused), lifetime, and a grant
 * that still exists in the same version.
 */
export async function verifyAccessToken(token: string): Promise<VerifiedAccess> {
  const { jwtVerify, decodeProtectedHeader, errors } = jose();
  let kid: string | undefined;
  try {
    kid = decodeProtectedHeader(token).kid;
  } catch {
    throw new OAuthError('invalid_token', 'The access token is not a JWT.', 401);
  }
  const key = (await encryptionKeys()).find((k) => k.id === kid);
  if (!key)
    throw new OAuthError(
      'invalid_token',
      'The access token was signed with a key this server no longer has.',
      401,
    );
  let payload: Jose.JWTPayload & { client_id?: unknown; scope?: unknown; gid?: unknown; gv?: unknown };
  try {
    ({ payload } = await jwtVerify(token, derived(key, 'access-token'), {
      issuer: issuer(),
      audience: mcpResource(),
      algorithms: ['HS256'],
      typ: 'at+jwt',
      requiredClaims: ['exp', 'sub', 'gid', 'gv'],
      clockTolerance: 30,
    }));
  } catch (err) {
    if (err instanceof errors.JWTExpired)
      throw new OAuthError('invalid_token', 'The access token has expired: refresh it.', 401);
    if (err instanceof errors.JWTClaimValidationFailed && err.claim === 'aud')
      throw new OAuthError(
        'invalid_token',
        `The access token is for another resource; this one is ${mcpResource()}.`,
        401,
      );
    throw new OAuthError('invalid_token', 'The access token is not valid here.', 401);
  }
  const grant = await getGrant(String(payload.sub), String(payload.gid));
  if (!grant || grant.version !== payload.gv)
    throw new OAuthError('invalid_token', 'The access token was revoked: authorize again.', 401);
  const scope = str(payload.scope)
    .split(' ')
    .filter((s): s is McpScope => s === 'mcp:read' || s === 'mcp:write');
  return { userId: grant.userId, clientId: grant.clientId, scope, grant };
}

registerUserData({
  name: 'mcpClients',
  async export(userId) {
    return (await listGrants(userId)).map((g) => ({
      clientId: g.clientId,
      clientName: g.clientName,
      scope: g.scope.join(' '),
      createdAt: g.createdAt,
      lastUsedAt: g.lastUsedAt,
    }));
  },
  erase: async (userId) => await erasePartition(await userTable(GRANTS_TABLE, userId), userId),
});
