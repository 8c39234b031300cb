/** The token encryption keys (TOKEN_ENCRYPTION_KEYS, from Key Vault in Azure), parsed once per value. */
import { parseKeys, type EncryptionKey } from '../crypto/envelope';
import { getSecret } from '../secrets';

let cached: { raw: string; keys: EncryptionKey[] } | undefined;

export async function encryptionKeys(): Promise<EncryptionKey[]> {
  const raw = await getSecret('TOKEN_ENCRYPTION_KEYS');
  if (cached?.raw !== raw) cached = { raw, keys: parseKeys(raw) };
  return cached.keys;
}

export const CACHE_PURPOSE = 'msal-cache';
export const PKCE_PURPOSE = 'pkce-verifier';
