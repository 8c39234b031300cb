/**
 * Secrets from Key Vault (the sandbox vault, through the real SecretClient and
 * DefaultAzureCredential's environment credential): cached with a TTL, stale values keep serving
 * through a vault outage, and a cold start without them fails with a clear error.
 */
import type { Sandbox } from '../../sandbox';
import { resetConfig } from '../../shared/config';
import { getSecret, keyVaultSecretName, resetSecrets, SecretUnavailableError } from '../../shared/secrets';
import { configureEnv } from '../support/app';
import { controlCall, injectFault, requestLog, startTestSandbox, TEST_APP } from '../support/sandbox';

let sandbox: Sandbox;
const saved = { ...process.env };

beforeAll(async () => {
  sandbox = await startTestSandbox();
  configureEnv(sandbox, 'http://127.0.0.1:1/api/auth/microsoft/callback', {
    KEY_VAULT_URL: sandbox.keyVaultUrl,
    SECRET_CACHE_TTL_SECONDS: '1',
  });
  // DefaultAzureCredential → EnvironmentCredential: in Azure this is the managed identity.
  process.env.AZURE_TENANT_ID = sandbox.tenantId;
  process.env.AZURE_CLIENT_ID = TEST_APP.clientId;
  process.env.AZURE_CLIENT_SECRET = TEST_APP.clientSecret;
  process.env.AZURE_AUTHORITY_HOST = sandbox.authorityHost;
  delete process.env.MICROSOFT_CLIENT_SECRET;
  resetConfig();
  resetSecrets();
  await controlCall(sandbox, 'PUT', `/keyvault/secrets/${keyVaultSecretName('MICROSOFT_CLIENT_SECRET')}`, {
    value: 'from-the-vault-1',
  });
});
afterAll(async () => {
  for (const k of [
    'AZURE_TENANT_ID',
    'AZURE_CLIENT_ID',
    'AZURE_CLIENT_SECRET',
    'AZURE_AUTHORITY_HOST',
    'KEY_VAULT_URL',
    'SECRET_CACHE_TTL_SECONDS',
  ]) {
    if (saved[k] === undefined) delete process.env[k];
    else process.env[k] = saved[k];
  }
  resetConfig();
  resetSecrets();
  await sandbox.stop();
});

test('a secret is read from Key Vault through the 401 challenge, then served from the cache', async () => {
  const since = sandbox.log.lastSeq;
  expect(await getSecret('MICROSOFT_CLIENT_SECRET')).toBe('from-the-vault-1');
  expect(await getSecret('MICROSOFT_CLIENT_SECRET')).toBe('from-the-vault-1');
  const reads = (await requestLog(sandbox, since)).filter((e) => e.path.startsWith('/secrets/'));
  expect(reads.map((e) => e.status)).toEqual([401, 200]);
});

test('after the TTL a rotated secret is picked up', async () => {
  await controlCall(sandbox, 'PUT', `/keyvault/secrets/${keyVaultSecretName('MICROSOFT_CLIENT_SECRET')}`, {
    value: 'from-the-vault-2',
  });
  await new Promise((r) => setTimeout(r, 1100));
  expect(await getSecret('MICROSOFT_CLIENT_SECRET')).toBe('from-the-vault-2');
});

test('during a Key Vault outage the cached value keeps serving', async () => {
  await new Promise((r) => setTimeout(r, 1100));
  await injectFault(sandbox, { path: '^/secrets/', status: 503, count: 50 });
  expect(await getSecret('MICROSOFT_CLIENT_SECRET')).toBe('from-the-vault-2');
});

test('a cold start during the outage fails with an error naming the secret and what to check', async () => {
  resetSecrets();
  const err = await getSecret('MICROSOFT_CLIENT_SECRET').catch((e: unknown) => e);
  expect(err).toBeInstanceOf(SecretUnavailableError);
  expect((err as Error).message).toContain('MICROSOFT_CLIENT_SECRET');
  expect((err as Error).message).toContain('microsoft-client-secret');
  expect((err as Error).message).toContain('Key Vault Secrets User');
  await controlCall(sandbox, 'DELETE', '/faults');
});
