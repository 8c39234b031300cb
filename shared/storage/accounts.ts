/**
 * A platform user's Microsoft accounts (several: work and personal, two tenants). Each account is
 * a connection of its own under a **principal** id: the first account keeps the user id itself
 * (so single-account rows written before accounts existed work as they are), every other one is
 * `{userId}~{accountId}` (`~` is never in a user id, shared/http/caller.ts). Everything kept per
 * connection (the encrypted token cache, features, status, subscriptions, sync state, the items
 * index, idempotency) is keyed by the principal; what the user reads as one (the change feed, the
 * audit log) lands in the user's partition naming the account (shared/sync/feed.ts).
 *
 * The `accounts` table (partition = user id) lists them: row = account id (from the Microsoft
 * home account id), with the principal, username and type; row `~default` names the default.
 * A user whose only row is a connection from before is migrated on first use: one account row
 * for it, the default.
 */
import { createHash } from 'node:crypto';
import { userTable } from './clients';
import { getConnection } from './connections';

export const ACCOUNTS_TABLE = 'accounts';
const DEFAULT_ROW = '~default';
const SEPARATOR = '~';

export interface Account {
  id: string;
  principal: string;
  homeAccountId: string;
  username: string;
  accountType: 'work' | 'personal';
  addedAt: string;
}

/** The account id of a Microsoft account: stable, short, no personal data. */
export function accountIdOf(homeAccountId: string): string {
  return `a${createHash('sha256').update(homeAccountId, 'utf8').digest('hex').slice(0, 11)}`;
}

/** The user a principal belongs to, and the account part (empty for the user's own principal). */
export function splitPrincipal(principal: string): { owner: string; ref: string } {
  const at = principal.indexOf(SEPARATOR);
  return at < 0
    ? { owner: principal, ref: '' }
    : { owner: principal.slice(0, at), ref: principal.slice(at + 1) };
}

function fromRow(row: Record<string, unknown>): Account {
  const text = (k: string) => (typeof row[k] === 'string' ? row[k] : '');
  return {
    id: text('rowKey'),
    principal: text('principal'),
    homeAccountId: text('homeAccountId'),
    username: text('username'),
    accountType: row.accountType === 'personal' ? 'personal' : 'work',
    addedAt: text('addedAt'),
  };
}

export interface AccountList {
  accounts: Account[];
  defaultId: string | undefined;
}

/** The user's accounts, oldest first, and the default; a connection from before becomes the first. */
export async function listAccounts(userId: string): Promise<AccountList> {
  const client = await userTable(ACCOUNTS_TABLE, userId);
  const accounts: Account[] = [];
  let defaultId: string | undefined;
  for await (const row of client.listEntities<Record<string, unknown>>({
    queryOptions: { filter: `PartitionKey eq '${userId.replace(/'/g, "''")}'` },
  })) {
    if (row.rowKey === DEFAULT_ROW) defaultId = typeof row.id === 'string' ? row.id : undefined;
    else accounts.push(fromRow(row));
  }
  if (accounts.length === 0) {
    // Only a user's own principal can be a connection from before accounts existed.
    if (userId.includes(SEPARATOR)) return { accounts, defaultId: undefined };
    const legacy = await getConnection(userId);
    if (!legacy) return { accounts, defaultId: undefined };
    const first = await addAccount(userId, userId, legacy);
    return { accounts: [first], defaultId: first.id };
  }
  accounts.sort((a, b) => a.addedAt.localeCompare(b.addedAt));
  if (!defaultId || !accounts.some((a) => a.id === defaultId)) defaultId = accounts[0]!.id;
  return { accounts, defaultId };
}

/** Records an account (idempotent); the first one becomes the default. */
export async function addAccount(
  userId: string,
  principal: string,
  signedIn: { homeAccountId: string; username: string; accountType: 'work' | 'personal' },
): Promise<Account> {
  const client = await userTable(ACCOUNTS_TABLE, userId);
  const account: Account = {
    id: accountIdOf(signedIn.homeAccountId),
    principal,
    homeAccountId: signedIn.homeAccountId,
    username: signedIn.username,
    accountType: signedIn.accountType,
    addedAt: new Date().toISOString(),
  };
  await client.upsertEntity(
    {
      partitionKey: userId,
      rowKey: account.id,
      principal,
      homeAccountId: account.homeAccountId,
      username: account.username,
      accountType: account.accountType,
      addedAt: account.addedAt,
    },
    'Merge',
  );
  // The first account is the default (a create that fails means there already is one).
  await client
    .createEntity({ partitionKey: userId, rowKey: DEFAULT_ROW, id: account.id })
    .catch((err: unknown) => {
      if ((err as { statusCode?: number }).statusCode !== 409) throw err;
    });
  return account;
}

/**
 * Where a new Microsoft account of the user goes: the user id itself when no account holds it
 * (the first, or after the first was disconnected), else `{userId}~{accountId}`.
 */
export function principalFor(userId: string, homeAccountId: string, existing: readonly Account[]): string {
  if (!existing.some((a) => a.principal === userId)) return userId;
  return `${userId}${SEPARATOR}${accountIdOf(homeAccountId)}`;
}

export async function setDefaultAccount(userId: string, accountId: string): Promise<void> {
  await (
    await userTable(ACCOUNTS_TABLE, userId)
  ).upsertEntity({ partitionKey: userId, rowKey: DEFAULT_ROW, id: accountId }, 'Replace');
}

/** Forgets one account (its data is erased by the caller); the default moves to the oldest left. */
export async function removeAccount(userId: string, accountId: string): Promise<void> {
  const client = await userTable(ACCOUNTS_TABLE, userId);
  await client.deleteEntity(userId, accountId).catch((err: unknown) => {
    if ((err as { statusCode?: number }).statusCode !== 404) throw err;
  });
  const { accounts, defaultId } = await listAccounts(userId);
  if (accounts.length === 0) await client.deleteEntity(userId, DEFAULT_ROW).catch(() => undefined);
  else if (defaultId) await setDefaultAccount(userId, defaultId);
}

/** Forgets every account of the user (erasure). */
export async function eraseAccounts(userId: string): Promise<number> {
  const client = await userTable(ACCOUNTS_TABLE, userId);
  let n = 0;
  for await (const row of client.listEntities({
    queryOptions: { filter: `PartitionKey eq '${userId.replace(/'/g, "''")}'` },
  })) {
    await client.deleteEntity(userId, String(row.rowKey)).catch(() => undefined);
    if (row.rowKey !== DEFAULT_ROW) n++;
  }
  return n;
}
