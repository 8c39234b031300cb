/**
 * Secrets: from Key Vault (managed identity through DefaultAzureCredential) when KEY_VAULT_URL is
 * set, from settings otherwise. Values are cached with a TTL; when Key Vault is unreachable a
 * cached value keeps serving (stale), and a cold start without one fails with a clear error.
 */
import { CLOUDS } from '../cloud';
import type * as KeyVault from '@azure/keyvault-secrets';
import type * as Identity from '@azure/identity';
import { getConfig, type SecretSetting } from '../config';
import { countingPolicy } from '../meter';

interface Cached {
  value: string;
  fetchedAt: number;
}

const cache = new Map<SecretSetting, Cached>();
const inflight = new Map<SecretSetting, Promise<string>>();
let client: KeyVault.SecretClient | undefined;

/** Key Vault secret names allow letters, digits and dashes: MICROSOFT_CLIENT_SECRET → microsoft-client-secret. */
export function keyVaultSecretName(setting: SecretSetting): string {
  return setting.toLowerCase().replace(/_/g, '-');
}

export class SecretUnavailableError extends Error {
  constructor(
    readonly setting: SecretSetting,
    cause: unknown,
  ) {
    super(
      `${setting} could not be read from Key Vault (${(cause as Error).message ?? String(cause)}): check KEY_VAULT_URL, that the secret "${keyVaultSecretName(setting)}" exists, and that the app's identity has the Key Vault Secrets User role`,
    );
    this.name = 'SecretUnavailableError';
  }
}

function secretClient(vaultUrl: string): KeyVault.SecretClient {
  if (!client) {
    const { SecretClient } = require('@azure/keyvault-secrets') as typeof KeyVault;
    const { DefaultAzureCredential } = require('@azure/identity') as typeof Identity;
    const loopback = /^https:\/\/(127\.0\.0\.1|localhost)(:\d+)?/.test(vaultUrl);
    client = new SecretClient(
      vaultUrl,
      new DefaultAzureCredential(
        loopback
          ? { disableInstanceDiscovery: true, authorityHost: getConfig().MICROSOFT_AUTHORITY_HOST }
          : // A national cloud's identities sign in at its own authority (shared/cloud.ts).
            { authorityHost: CLOUDS[getConfig().MICROSOFT_CLOUD].authorityHost },
      ),
      // A loopback vault (the sandbox) has no *.vault.azure.net name to verify the challenge against.
      {
        disableChallengeResourceVerification: loopback,
        // Fail over to the cached value quickly instead of stalling every request on retries.
        retryOptions: { maxRetries: 2, retryDelayInMs: 200, maxRetryDelayInMs: 2000 },
        additionalPolicies: [{ policy: countingPolicy('keyvault'), position: 'perRetry' }],
      },
    );
  }
  return client;
}

export async function getSecret(setting: SecretSetting): Promise<string> {
  const config = getConfig();
  if (!config.KEY_VAULT_URL) {
    const value = process.env[setting];
    if (!value) throw new SecretUnavailableError(setting, new Error('not set'));
    return value;
  }
  const ttlMs = config.SECRET_CACHE_TTL_SECONDS * 1000;
  const cached = cache.get(setting);
  if (cached && Date.now() - cached.fetchedAt < ttlMs) return cached.value;
  let pending = inflight.get(setting);
  if (!pending) {
    const vaultUrl = config.KEY_VAULT_URL;
    pending = (async () => {
      try {
        const secret = await secretClient(vaultUrl).getSecret(keyVaultSecretName(setting));
        if (!secret.value) throw new Error('the secret has no value');
        cache.set(setting, { value: secret.value, fetchedAt: Date.now() });
        return secret.value;
      } catch (err) {
        if (cached) {
          // Stale but known-good: keep serving through the outage, and ask the vault again in 30 s.
          cache.set(setting, {
            value: cached.value,
            fetchedAt: Date.now() - ttlMs + Math.min(ttlMs, 30_000),
          });
          return cached.value;
        }
        throw new SecretUnavailableError(setting, err);
      } finally {
        inflight.delete(setting);
      }
    })();
    inflight.set(setting, pending);
  }
  return await pending;
}

/** Tests: forget cached secrets and the client. */
export function resetSecrets(): void {
  cache.clear();
  inflight.clear();
  client = undefined;
}
