/**
 * GDPR access and erasure: every module that stores data about a user registers how to export
 * it and how to erase it, so `GET /api/connections/me/export` and `DELETE /api/connections/me`
 * cover everything, including stores added later.
 */
import { createHash } from 'node:crypto';
import { table } from './storage/clients';

export interface UserDataStore {
  name: string;
  export(userId: string): Promise<unknown>;
  /** Erases the user's data; returns how many records went. */
  erase(userId: string): Promise<number>;
}

const stores: UserDataStore[] = [];

export function registerUserData(store: UserDataStore): void {
  if (!stores.some((s) => s.name === store.name)) stores.push(store);
}

export function userDataStores(): readonly UserDataStore[] {
  return stores;
}

export async function exportUserData(userId: string): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  for (const store of stores) out[store.name] = await store.export(userId);
  return out;
}

/** A stable pseudonym for erasure records: nothing in them leads back to the user without their id. */
export function pseudonym(userId: string): string {
  return createHash('sha256').update(`erasure|${userId}`, 'utf8').digest('hex');
}

export const ERASURES_TABLE = 'erasures';

export async function eraseUserData(userId: string, invocationId: string): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  // The connection goes first: work still running for the user (a sync round) checks it after
  // its last write and removes what it wrote once it is gone (shared/sync/engine.ts).
  const ordered = [...stores].sort(
    (a, b) => Number(b.name === 'connection') - Number(a.name === 'connection'),
  );
  for (const store of ordered) counts[store.name] = await store.erase(userId);
  const client = await table(ERASURES_TABLE);
  const at = new Date().toISOString();
  await client.createEntity({
    partitionKey: pseudonym(userId),
    rowKey: at.replace(/[:.]/g, '-'),
    at,
    invocationId,
    counts: JSON.stringify(counts),
  });
  return counts;
}
