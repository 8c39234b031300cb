/**
 * The `sendconfirmations` table: one row per send waiting for the user's confirmation, keyed by
 * the SHA-256 of its confirmation token (the token itself is never stored). A token confirms
 * exactly the request it was issued for (action and every input field, by hash), once, within
 * CONFIRMATION_TTL_MS: a model cannot confirm one message and send another. Consumption is
 * single-use and atomic: read, then delete with If-Match.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { registerUserData } from '../privacy';
import { erasePartition, partitionRows, userTable } from '../storage/clients';

export const CONFIRMATIONS_TABLE = 'sendconfirmations';
export const CONFIRMATION_TTL_MS = 15 * 60 * 1000;

interface Row {
  action: string;
  requestHash: string;
  expiresAt: string;
}

const hashToken = (token: string) => createHash('sha256').update(`confirm|${token}`, 'utf8').digest('hex');

/** Issues a token for this request; the row expires with it. */
export async function issueConfirmation(
  userId: string,
  action: string,
  requestHash: string,
  now = Date.now(),
): Promise<{ token: string; expiresAt: string }> {
  const token = randomBytes(24).toString('base64url');
  const expiresAt = new Date(now + CONFIRMATION_TTL_MS).toISOString();
  const client = await userTable(CONFIRMATIONS_TABLE, userId);
  await client.createEntity<Row>({
    partitionKey: userId,
    rowKey: hashToken(token),
    action,
    requestHash,
    expiresAt,
  });
  return { token, expiresAt };
}

export type ConfirmationCheck = 'ok' | 'unknown' | 'expired' | 'different_request';

/**
 * Takes the token if it was issued to this user for this very request. A token for a different
 * request is not consumed (the right request can still use it); an expired one is removed.
 */
export async function consumeConfirmation(
  userId: string,
  token: string,
  action: string,
  requestHash: string,
  now = Date.now(),
): Promise<ConfirmationCheck> {
  if (!/^[A-Za-z0-9_-]{16,64}$/.test(token)) return 'unknown';
  const client = await userTable(CONFIRMATIONS_TABLE, userId);
  let row: Row & { etag: string };
  try {
    row = await client.getEntity<Row>(userId, hashToken(token));
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode === 404) return 'unknown';
    throw err;
  }
  const remove = async () =>
    await client.deleteEntity(userId, hashToken(token), { etag: row.etag }).then(
      () => true,
      (err: unknown) => {
        // Someone else took it first (a concurrent confirm): only one may send.
        const status = (err as { statusCode?: number }).statusCode;
        if (status === 404 || status === 412) return false;
        throw err;
      },
    );
  if (Date.parse(row.expiresAt) <= now) {
    await remove();
    return 'expired';
  }
  const same =
    row.action === action &&
    row.requestHash.length === requestHash.length &&
    timingSafeEqual(Buffer.from(row.requestHash), Buffer.from(requestHash));
  if (!same) return 'different_request';
  return (await remove()) ? 'ok' : 'unknown';
}

registerUserData({
  name: 'sendConfirmations',
  perAccount: true,
  export: async (userId) =>
    (await partitionRows<Row>(await userTable(CONFIRMATIONS_TABLE, userId), userId)).map((r) => ({
      action: r.action,
      expiresAt: r.expiresAt,
    })),
  erase: async (userId) => await erasePartition(await userTable(CONFIRMATIONS_TABLE, userId), userId),
});
