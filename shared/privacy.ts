/**
 * GDPR access and erasure: every module that stores data about a user registers how to export
 * it and how to erase it, so `GET /api/connections/me/export` and `DELETE /api/connections/me`
 * cover everything, including stores added later.
 */
import { listAccounts, removeAccount } from './storage/accounts';
import { table } from './storage/clients';
import { ERASURES_TABLE, pseudonym } from './storage/erasures';

export interface UserDataStore {
  name: string;
  /**
   * Kept per Microsoft account (keyed by the account's principal, shared/storage/accounts.ts)
   * rather than per user: disconnecting one account erases these for it.
   */
  perAccount?: boolean;
  /**
   * Written by work that may be running while the user is erased (sync rounds): erased before the
   * connection, so its count is what the user had, and swept again after it, for rows a round
   * wrote meanwhile (a round that sees the connection gone removes its own, shared/sync/engine.ts).
   */
  writtenByRunningWork?: boolean;
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
  // The user's other Microsoft accounts: what is kept per account, under the account's id.
  const others: Record<string, Record<string, unknown>> = {};
  for (const account of (await listAccounts(userId)).accounts) {
    if (account.principal === userId) continue;
    const data: Record<string, unknown> = {};
    for (const store of stores)
      if (store.perAccount) data[store.name] = await store.export(account.principal);
    others[account.id] = data;
  }
  if (Object.keys(others).length > 0) out.otherAccounts = others;
  return out;
}

/** Erases what is kept for one Microsoft account of a user (its principal); the connection first. */
export async function eraseAccountData(principal: string): Promise<Record<string, number>> {
  return await eraseStores(
    principal,
    stores.filter((s) => s.perAccount),
  );
}

/**
 * The order matters. Stores written by running work go while the connection still exists (no
 * round removes rows on its own then, so the counts are whole); then the connection, which stops
 * new work; then everything else, and a second sweep of the first ones.
 */
async function eraseStores(key: string, selected: readonly UserDataStore[]): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  const add = async (store: UserDataStore): Promise<void> => {
    counts[store.name] = (counts[store.name] ?? 0) + (await store.erase(key));
  };
  const early = selected.filter((s) => s.writtenByRunningWork);
  for (const store of early) await add(store);
  for (const store of selected.filter((s) => s.name === 'connection')) await add(store);
  for (const store of selected.filter((s) => s.name !== 'connection' && !s.writtenByRunningWork))
    await add(store);
  for (const store of early) await add(store);
  return counts;
}

export { ERASURES_TABLE, pseudonym };

export async function eraseUserData(userId: string, invocationId: string): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  // The user's other accounts first, each under its own principal; then everything of the user.
  for (const account of (await listAccounts(userId)).accounts) {
    if (account.principal === userId) continue;
    for (const [name, n] of Object.entries(await eraseAccountData(account.principal)))
      counts[name] = (counts[name] ?? 0) + n;
    await removeAccount(userId, account.id);
  }
  for (const [name, n] of Object.entries(await eraseStores(userId, stores)))
    counts[name] = (counts[name] ?? 0) + n;
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
