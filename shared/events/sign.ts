/**
 * Standard Webhooks signatures (https://www.standardwebhooks.com, spec/standard-webhooks.md):
 * `webhook-id`, `webhook-timestamp` (Unix seconds) and `webhook-signature`, a space-separated list
 * of `v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`, one per secret. Secrets are
 * `whsec_` + base64 of 24–64 random bytes. During a rotation EVENTS_SIGNING_SECRETS lists the new
 * and the old secret and every delivery carries both signatures, so a receiver verifying with
 * either accepts it.
 */
import { createHmac } from 'node:crypto';

export const SECRET_PREFIX = 'whsec_';

/** The keys of a comma-separated secret list; throws naming what is wrong. */
export function parseSecrets(value: string): Buffer[] {
  const secrets = value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (secrets.length === 0 || secrets.length > 3) {
    throw new Error('EVENTS_SIGNING_SECRETS must list one to three whsec_ secrets, comma-separated');
  }
  return secrets.map((s) => {
    const key = s.startsWith(SECRET_PREFIX)
      ? Buffer.from(s.slice(SECRET_PREFIX.length), 'base64')
      : Buffer.alloc(0);
    if (key.length < 24 || key.length > 64) {
      throw new Error(
        "EVENTS_SIGNING_SECRETS entries must be whsec_ followed by base64 of 24 to 64 random bytes (node -e \"console.log('whsec_'+require('crypto').randomBytes(32).toString('base64'))\")",
      );
    }
    return key;
  });
}

export function signatureHeader(
  keys: readonly Buffer[],
  id: string,
  timestamp: number,
  body: string,
): string {
  return keys
    .map((key) => `v1,${createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64')}`)
    .join(' ');
}
