/**
 * clientState: a random secret per subscription that Graph echoes in every notification
 * (graph-behaviour.md §6.1, "strongly recommended"; max 128 characters). Only its SHA-256 is
 * stored, so a leaked table does not let anyone forge notifications; the comparison is constant
 * time. The value is high-entropy (256 bits), so a plain hash is enough (no password hashing).
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

export function newClientState(): string {
  return randomBytes(32).toString('base64url'); // 43 characters
}

export function hashClientState(clientState: string): string {
  return createHash('sha256').update(clientState, 'utf8').digest('base64url');
}

/** True when `received` hashes to `storedHash`; missing or wrong values are false. */
export function clientStateMatches(received: unknown, storedHash: string): boolean {
  if (typeof received !== 'string' || received.length === 0 || received.length > 128) return false;
  const a = Buffer.from(hashClientState(received), 'utf8');
  const b = Buffer.from(storedHash, 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
}
