/**
 * AES-256-GCM envelopes for data at rest (the MSAL token cache, PKCE verifiers). A random 96-bit
 * IV per encryption; the additional authenticated data binds the user id, the purpose and the
 * format version, so a ciphertext copied to another user's row or used for another purpose fails
 * to decrypt. The key id travels with the ciphertext so keys can rotate: encrypt with the
 * current (first) key, decrypt with any.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

export interface EncryptionKey {
  id: string;
  key: Buffer;
}

const VERSION = 'v1';

export interface Envelope {
  keyId: string;
  /** `v1.<iv>.<ciphertext>.<tag>`, base64url parts. */
  data: string;
}

function aad(userId: string, purpose: string): Buffer {
  return Buffer.from(`${VERSION}|${purpose}|${userId}`, 'utf8');
}

export function encrypt(
  plaintext: string,
  binding: { userId: string; purpose: string },
  keys: EncryptionKey[],
): Envelope {
  const current = keys[0];
  if (!current) throw new Error('No encryption key configured (TOKEN_ENCRYPTION_KEYS)');
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', current.key, iv);
  cipher.setAAD(aad(binding.userId, binding.purpose));
  const ct = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  const tag = cipher.getAuthTag();
  return {
    keyId: current.id,
    data: [VERSION, iv.toString('base64url'), ct.toString('base64url'), tag.toString('base64url')].join('.'),
  };
}

export class DecryptionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DecryptionError';
  }
}

export function decrypt(
  envelope: Envelope,
  binding: { userId: string; purpose: string },
  keys: EncryptionKey[],
): string {
  const key = keys.find((k) => k.id === envelope.keyId);
  if (!key)
    throw new DecryptionError(`Key "${envelope.keyId}" is no longer configured in TOKEN_ENCRYPTION_KEYS`);
  const [version, iv, ct, tag] = envelope.data.split('.');
  if (version !== VERSION || !iv || ct === undefined || !tag)
    throw new DecryptionError('Unknown envelope format');
  try {
    const decipher = createDecipheriv('aes-256-gcm', key.key, Buffer.from(iv, 'base64url'));
    decipher.setAAD(aad(binding.userId, binding.purpose));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(ct, 'base64url')), decipher.final()]).toString('utf8');
  } catch {
    throw new DecryptionError('The ciphertext does not authenticate for this user and purpose');
  }
}

/** Parses the TOKEN_ENCRYPTION_KEYS format (`id:base64,id:base64`). */
export function parseKeys(value: string): EncryptionKey[] {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((entry) => {
      const [id, material] = entry.split(':');
      return { id: id ?? '', key: Buffer.from(material ?? '', 'base64') };
    });
}
