/**
 * Signing and verifying the sandbox's JWTs (RS256, a fresh key per sandbox start, published in
 * the JWKS). Identity issues them; Graph and Key Vault verify them.
 */
import { randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, jwtVerify, SignJWT, decodeJwt, type JWK, type JWTPayload } from 'jose';

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
}

export async function createSigningKeys(): Promise<SigningKeys> {
  const { publicKey, privateKey } = await generateKeyPair('RS256', { extractable: true });
  const kid = randomUUID().replace(/-/g, '').slice(0, 20);
  const publicJwk = { ...(await exportJWK(publicKey)), kid, use: 'sig', alg: 'RS256' };
  return {
    kid,
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
