/**
 * Choosing one of a user's Microsoft accounts by what a caller sent (`account`: email or id), or
 * the default (shared/storage/accounts.ts keeps the list).
 */
import { Problem } from '../http/problem';
import { listAccounts, type Account } from '../storage/accounts';

/** The account an action names (its email or id; the default when none), or a problem saying which exist. */
export async function chooseAccount(
  userId: string,
  selector: string | undefined,
): Promise<Account | undefined> {
  const { accounts, defaultId } = await listAccounts(userId);
  if (accounts.length === 0) return undefined;
  if (selector === undefined || selector === '')
    return accounts.find((a) => a.id === defaultId) ?? accounts[0];
  const wanted = selector.trim().toLowerCase();
  const found = accounts.find((a) => a.id === wanted || a.username.toLowerCase() === wanted);
  if (found) return found;
  throw new Problem(
    'account_not_found',
    `No connected Microsoft account is "${selector.slice(0, 100)}". Connected: ${accounts.map((a) => `${a.username} (${a.id})`).join(', ')}.`,
    { accounts: accounts.map((a) => ({ id: a.id, username: a.username })) },
  );
}
