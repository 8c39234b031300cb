/**
 * Signing and verifying the sandbox's JWTs (RS256, a fresh key per sandbox start, published in
 * the JWKS). Identity issues them; Graph and Key Vault verify them.
 */
import { randomUUID } from 'node:crypto';
import {
  exportJWK,
  generateKeyPair,
  importJWK,
  jwtVerify,
  SignJWT,
  decodeJwt,
  type JWK,
  type JWTPayload,
} from 'jose';

/** Microsoft Graph's resource app id, the `aud` of Graph access tokens. */
export const GRAPH_RESOURCE_ID = '00000003-0000-0000-c000-000000000000';
export const KEY_VAULT_RESOURCE = 'https://vault.azure.net';

export interface SigningKeys {
  kid: string;
  sign(claims: JWTPayload, lifetimeSeconds: number, nowSeconds: number): Promise<string>;
  verify(
    token: string,
    nowSeconds: number,
  ): Promise<{ ok: true; claims: JWTPayload } | { ok: false; reason: 'expired' | 'invalid' }>;
  jwks(): { keys: JWK[] };
  /** The private key as a JWK, so a persisted sandbox signs with the same key after a restart. */
  exportPrivate(): Promise<SavedSigningKey>;
}

export interface SavedSigningKey {
  kid: string;
  privateJwk: JWK;
}

/** A fresh RS256 key, or the saved one (a restarted `npm start` keeps issued tokens valid). */
export async function createSigningKeys(saved?: SavedSigningKey): Promise<SigningKeys> {
  let publicKey: CryptoKey;
  let privateKey: CryptoKey;
  let kid: string;
  if (saved) {
    kid = saved.kid;
    privateKey = (await importJWK(saved.privateJwk, 'RS256', { extractable: true })) as CryptoKey;
    const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, ...pub } = saved.privateJwk;
    publicKey = (await importJWK(pub, 'RS256', { extractable: true })) as CryptoKey;
  } else {
    ({ publicKey, privateKey } = await generateKeyPair('RS256', { extractable: true }));
    kid = randomUUID().replace(/-/g, '').slice(0, 20);
  }
  const publicJwk = { ...(await exportJWK(publicKey)), kid, use: 'sig', alg: 'RS256' };
  return {
    kid,
    exportPrivate: async () => ({ kid, privateJwk: await exportJWK(privateKey) }),
    async sign(claims, lifetimeSeconds, nowSeconds) {
      return await new SignJWT({ ...claims })
        .setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid })
        .setIssuedAt(nowSeconds)
        .setNotBefore(nowSeconds - 300)
        .setExpirationTime(nowSeconds + lifetimeSeconds)
        .sign(privateKey);
    },
    async verify(token, nowSeconds) {
      try {
        const { payload } = await jwtVerify(token, publicKey, {
          algorithms: ['RS256'],
          currentDate: new Date(nowSeconds * 1000),
        });
        return { ok: true, claims: payload };
      } catch (err) {
        const code = (err as { code?: string }).code;
        return { ok: false, reason: code === 'ERR_JWT_EXPIRED' ? 'expired' : 'invalid' };
      }
    },
    jwks: () => ({ keys: [publicJwk] }),
  };
}

/** Reads a JWT's claims without verifying it (for logging and fault targeting only). */
export function peekClaims(token: string): JWTPayload | undefined {
  try {
    return decodeJwt(token);
  } catch {
    return undefined;
  }
}

/** What a Graph (or Key Vault) access token says about its caller. */
export interface AccessTokenGrant {
  userId: string;
  tenantId: string;
  clientId: string;
  /** Delegated scopes (short form, e.g. "Mail.ReadWrite"); empty for app-only tokens. */
  scopes: string[];
  /** Application permissions for app-only tokens (client credentials). */
  roles?: string[];
  /** Client capabilities the app declared (cp1 = can handle CAE claims challenges). */
  capabilities?: string[];
  audience?: string;
  lifetimeSeconds: number;
  nowMs: number;
  /** The sandbox's authority host, for `iss`. */
  issuerHost: string;
}

/**
 * Mints an access token with the claims Graph and MSAL rely on (reference §7.3/§7.8: oid, tid,
 * scp, aud, exp, xms_cc). The identity endpoints and the control API's test tokens both use this.
 */
export async function mintAccessToken(keys: SigningKeys, grant: AccessTokenGrant): Promise<string> {
  const now = Math.floor(grant.nowMs / 1000);
  const claims: JWTPayload & Record<string, unknown> = {
    aud: grant.audience ?? GRAPH_RESOURCE_ID,
    iss: `https://sts.windows.net/${grant.tenantId}/`,
    oid: grant.userId,
    sub: grant.userId,
    tid: grant.tenantId,
    appid: grant.clientId,
    azp: grant.clientId,
    uti: randomUUID(),
    ver: '1.0',
  };
  if (grant.scopes.length > 0) claims.scp = grant.scopes.join(' ');
  if (grant.roles && grant.roles.length > 0) claims.roles = grant.roles;
  if (grant.capabilities && grant.capabilities.length > 0) claims.xms_cc = grant.capabilities;
  return await keys.sign(claims, grant.lifetimeSeconds, now);
}
