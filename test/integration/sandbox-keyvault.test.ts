/**
 * Key Vault secrets in the sandbox, driven by the real SecretClient + ClientSecretCredential
 * (toolchain.md "Key Vault SDK against the sandbox"; reference §7.3 client credentials).
 */
import { ClientSecretCredential } from '@azure/identity';
import { SecretClient } from '@azure/keyvault-secrets';
import type { Sandbox } from '../../sandbox';
import { controlCall, injectFault, requestLog, startTestSandbox, TEST_APP } from '../support/sandbox';

describe('sandbox Key Vault with SecretClient', () => {
  let sandbox: Sandbox;
  let client: SecretClient;

  beforeAll(async () => {
    sandbox = await startTestSandbox();
    const credential = new ClientSecretCredential(
      sandbox.tenantId,
      TEST_APP.clientId,
      TEST_APP.clientSecret,
      {
        authorityHost: sandbox.authorityHost,
        disableInstanceDiscovery: true,
      },
    );
    // A loopback vault needs disableChallengeResourceVerification (toolchain.md).
    client = new SecretClient(sandbox.keyVaultUrl, credential, {
      disableChallengeResourceVerification: true,
      retryOptions: { maxRetries: 0 },
    });
  });
  afterAll(async () => await sandbox.stop());

  test('reads a seeded secret through the 401 challenge, with a client-credentials token for the vault', async () => {
    await controlCall(sandbox, 'PUT', '/keyvault/secrets/token-encryption-key', { value: 's3cr3t-seeded' });
    const since = (await requestLog(sandbox)).at(-1)?.seq ?? 0;

    const secret = await client.getSecret('token-encryption-key');
    expect(secret.value).toBe('s3cr3t-seeded');
    expect(secret.name).toBe('token-encryption-key');
    expect(secret.properties.version).toMatch(/^[0-9a-f]{32}$/);
    expect(secret.properties.vaultUrl).toBe(sandbox.keyVaultUrl);

    // [EMU] The first request goes without a token and gets the challenge (toolchain.md).
    const log = await requestLog(sandbox, since);
    const vaultCalls = log.filter((e) => e.path.startsWith('/secrets/'));
    expect(vaultCalls.map((e) => e.status)).toEqual([401, 200]);
    const token = log.find((e) => e.path.endsWith('/oauth2/v2.0/token'));
    expect(token?.grantType).toBe('client_credentials');
    expect(token?.path).toBe(`/${sandbox.tenantId}/oauth2/v2.0/token`);
  });

  test('the challenge names the sandbox authority and the vault resource', async () => {
    const res = await fetch(`${sandbox.keyVaultUrl}/secrets/anything?api-version=7.5`);
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe(
      `Bearer authorization="${sandbox.authorityHost}/${sandbox.tenantId}", resource="https://vault.azure.net"`,
    );
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('Unauthorized');
  });

  test('setSecret + getSecret round-trip, with versions, listing and percent-encoded query keys', async () => {
    const first = await client.setSecret('graph-client-secret', 'v1', { contentType: 'text/plain' });
    const second = await client.setSecret('graph-client-secret', 'v2');
    expect(second.properties.version).not.toBe(first.properties.version);
    expect((await client.getSecret('graph-client-secret')).value).toBe('v2');
    expect((await client.getSecret('graph-client-secret', { version: first.properties.version })).value).toBe(
      'v1',
    );

    const versions: string[] = [];
    for await (const p of client.listPropertiesOfSecretVersions('graph-client-secret'))
      versions.push(p.version ?? '');
    expect(versions.sort()).toEqual([first.properties.version, second.properties.version].sort());
    const names: string[] = [];
    for await (const p of client.listPropertiesOfSecrets()) names.push(p.name);
    expect(names).toEqual(expect.arrayContaining(['graph-client-secret', 'token-encryption-key']));

    const { access_token } = await controlCall<{ access_token: string }>(sandbox, 'POST', '/tokens', {
      user: 'adele.vance@contoso.test',
      audience: 'https://vault.azure.net',
    });
    const encoded = await fetch(`${sandbox.keyVaultUrl}/secrets/graph-client-secret?api%2Dversion=7.5`, {
      headers: { authorization: `Bearer ${access_token}` },
    });
    expect(encoded.status).toBe(200);
    expect(((await encoded.json()) as { value: string }).value).toBe('v2');
  });

  test('delete, then get fails with SecretNotFound; recover brings it back', async () => {
    await client.setSecret('short-lived', 'bye');
    const poller = await client.beginDeleteSecret('short-lived');
    const deleted = await poller.pollUntilDone();
    expect(deleted.name).toBe('short-lived');
    expect(deleted.recoveryId).toBe(`${sandbox.keyVaultUrl}/deletedsecrets/short-lived`);
    await expect(client.getSecret('short-lived')).rejects.toMatchObject({
      statusCode: 404,
      code: 'SecretNotFound',
    });
    await expect(client.setSecret('short-lived', 'again')).rejects.toMatchObject({ statusCode: 409 });
    const recover = await client.beginRecoverDeletedSecret('short-lived');
    await recover.pollUntilDone();
    expect((await client.getSecret('short-lived')).value).toBe('bye');
  });

  test('a token for another audience (Graph) is rejected', async () => {
    const { access_token } = await controlCall<{ access_token: string }>(sandbox, 'POST', '/tokens', {
      user: 'adele.vance@contoso.test',
      scopes: ['User.Read'],
    });
    const res = await fetch(`${sandbox.keyVaultUrl}/secrets/token-encryption-key?api-version=7.5`, {
      headers: { authorization: `Bearer ${access_token}` },
    });
    expect(res.status).toBe(401);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.message).toContain('AKV10022');
    expect(res.headers.get('www-authenticate')).toContain('resource="https://vault.azure.net"');

    const expired = await controlCall<{ access_token: string }>(sandbox, 'POST', '/tokens', {
      user: 'adele.vance@contoso.test',
      audience: 'https://vault.azure.net',
      lifetimeSeconds: 60,
    });
    sandbox.advanceClock(120_000);
    const late = await fetch(`${sandbox.keyVaultUrl}/secrets/token-encryption-key?api-version=7.5`, {
      headers: { authorization: `Bearer ${expired.access_token}` },
    });
    expect(late.status).toBe(401);
  });

  test('an unavailable vault (injected fault) surfaces as a 503 RestError', async () => {
    await injectFault(sandbox, { path: '^/secrets/token-encryption-key', status: 503, count: 5 });
    await expect(client.getSecret('token-encryption-key')).rejects.toMatchObject({ statusCode: 503 });
    await controlCall(sandbox, 'DELETE', '/faults');
  });
});
