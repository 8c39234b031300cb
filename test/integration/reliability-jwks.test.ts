/**
 * Caller JWTs in JWKS mode (CALLER_JWKS_URL): the platform signs with an asymmetric key and
 * publishes the public half. Served here by a tiny HTTPS server with the sandbox certificate
 * (the setting must be https://). Only tokens signed by a published key pass; a token signed by
 * another key, an HS256 token keyed with the public key (algorithm confusion), an HS256 token with
 * the shared secret and `alg: none` are all refused.
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { HttpRequest } from '@azure/functions';
import { exportJWK, exportSPKI, generateKeyPair, SignJWT, UnsecuredJWT, type JWK } from 'jose';
import { resetConfig } from '../../shared/config';
import { authenticateCaller } from '../../shared/http/caller';
import { Problem } from '../../shared/http/problem';
import { resetSecrets } from '../../shared/secrets';
import { sampleSettings } from '../support/settings';

const settings = sampleSettings();
let server: Server;
let jwks: { keys: JWK[] } = { keys: [] };
let fetches = 0;
let published: CryptoKey;
let publishedPem: string;
let other: CryptoKey;

beforeAll(async () => {
  const certDir = process.env.SANDBOX_CERT_DIR!;
  server = createServer(
    {
      cert: readFileSync(join(certDir, 'sandbox-server.pem')),
      key: readFileSync(join(certDir, 'sandbox-server.key')),
    },
    (_req, res) => {
      fetches++;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(jwks));
    },
  );
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const pair = await generateKeyPair('RS256', { extractable: true });
  published = pair.privateKey;
  publishedPem = await exportSPKI(pair.publicKey);
  jwks = { keys: [{ ...(await exportJWK(pair.publicKey)), kid: 'platform-1', alg: 'RS256', use: 'sig' }] };
  other = (await generateKeyPair('RS256')).privateKey;

  for (const [k, v] of Object.entries(settings)) if (v) process.env[k] = v;
  delete process.env.KEY_VAULT_URL;
  process.env.AzureWebJobsStorage = process.env.TEST_AZURITE_CONNECTION;
  process.env.CALLER_JWKS_URL = `https://127.0.0.1:${(server.address() as AddressInfo).port}/.well-known/jwks.json`;
  resetConfig();
  resetSecrets();
});
afterAll(async () => {
  delete process.env.CALLER_JWKS_URL;
  resetConfig();
  await new Promise<void>((r) => server.close(() => r()));
});

function request(token: string): HttpRequest {
  return new HttpRequest({
    url: 'http://localhost/api/x',
    method: 'GET',
    headers: { authorization: `Bearer ${token}` },
  });
}

function claims(sub = 'user-jwks') {
  return new SignJWT({})
    .setSubject(sub)
    .setIssuer(settings.CALLER_TOKEN_ISSUER!)
    .setAudience(settings.CALLER_TOKEN_AUDIENCE!)
    .setIssuedAt()
    .setExpirationTime('5m');
}

async function rejection(token: string): Promise<Problem> {
  const err = await authenticateCaller(request(token)).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(Problem);
  return err as Problem;
}

test('an RS256 token signed by the published key passes; the key set is fetched once and reused', async () => {
  const token = await claims('alice').setProtectedHeader({ alg: 'RS256', kid: 'platform-1' }).sign(published);
  expect(await authenticateCaller(request(token))).toMatchObject({ userId: 'alice' });
  const before = fetches;
  expect(await authenticateCaller(request(token))).toMatchObject({ userId: 'alice' });
  expect(fetches).toBe(before);
});

test.each([
  [
    'signed by another key under the published kid',
    async () => await claims().setProtectedHeader({ alg: 'RS256', kid: 'platform-1' }).sign(other),
  ],
  [
    'signed by another key with an unknown kid',
    async () => await claims().setProtectedHeader({ alg: 'RS256', kid: 'attacker' }).sign(other),
  ],
  [
    'HS256 keyed with the public key (algorithm confusion)',
    async () =>
      await claims()
        .setProtectedHeader({ alg: 'HS256', kid: 'platform-1' })
        .sign(new TextEncoder().encode(publishedPem)),
  ],
  [
    'HS256 with the shared CALLER_TOKEN_SECRET (JWKS mode accepts asymmetric keys only)',
    async () =>
      await claims()
        .setProtectedHeader({ alg: 'HS256' })
        .sign(new TextEncoder().encode(settings.CALLER_TOKEN_SECRET)),
  ],
  [
    'alg none',
    async () =>
      new UnsecuredJWT({ sub: 'user-jwks' })
        .setIssuer(settings.CALLER_TOKEN_ISSUER!)
        .setAudience(settings.CALLER_TOKEN_AUDIENCE!)
        .setIssuedAt()
        .setExpirationTime('5m')
        .encode(),
  ],
  [
    'a valid signature over a swapped sub',
    async () => {
      const signed = await claims('alice')
        .setProtectedHeader({ alg: 'RS256', kid: 'platform-1' })
        .sign(published);
      const [h, payload, s] = signed.split('.');
      const forged = JSON.parse(Buffer.from(payload!, 'base64url').toString()) as Record<string, unknown>;
      forged.sub = 'mallory';
      return `${h}.${Buffer.from(JSON.stringify(forged)).toString('base64url')}.${s}`;
    },
  ],
])('a token %s is refused with 401', async (_name, make) => {
  const p = await rejection(await make());
  expect(p.status).toBe(401);
  expect(p.code).toBe('unauthenticated');
  expect(p.headers['www-authenticate']).toContain('invalid_token');
});
