/**
 * The undo window for sends Graph cannot defer (Teams messages: chatMessage has no scheduled
 * send). The call is held here instead of being made: its input, encrypted like the token cache
 * (AES-256-GCM bound to the user), waits in the `heldsends` table, and a `held-sends` queue message
 * that becomes visible when the window ends (Azure Storage's initial visibility delay) releases it
 * (functions/sends/held.ts). Cancelling deletes the row first; releasing marks it `sending` with
 * If-Match, so exactly one of the two wins. Released sends run through executeAction with the
 * hold id as Idempotency-Key: a retried release never posts twice.
 */
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { encryptionKeys } from '../auth/keys';
import { decrypt, encrypt } from '../crypto/envelope';
import { Problem } from '../http/problem';
import { registerUserData } from '../privacy';
import { enqueue, erasePartition, partitionRows, userTable } from '../storage/clients';
import type { Action, ActionContext } from './types';

export const HELD_SENDS_TABLE = 'heldsends';
export const HELD_SENDS_QUEUE = 'held-sends';
const PURPOSE = 'held-send';

interface Row {
  action: string;
  keyId: string;
  data: string;
  dueAt: string;
  state: 'held' | 'sending';
}

export interface HeldSendMessage {
  userId: string;
  sendId: string;
}

/** What a held send answers instead of the sent message. */
export const HeldSendOut = z
  .object({
    held: z.literal(true),
    sendId: z.string().describe('Cancel with this id before undoUntil (e.g. teams.cancelSend).'),
    undoUntil: z.string().describe('When it goes out.'),
  })
  .strict();

/** Characters of the sealed input one table property takes (64 KiB of UTF-16, with room to spare). */
const HELD_MAX_CHARS = 30_000;

/** Holds the call for `ctx.undoSeconds` and answers the held result (nothing is sent yet). */
export async function holdSend(
  action: Action,
  input: unknown,
  ctx: ActionContext,
): Promise<z.output<typeof HeldSendOut>> {
  const seconds = ctx.undoSeconds ?? 0;
  const sendId = `held-${randomBytes(12).toString('base64url')}`;
  const undoUntil = new Date(Date.now() + seconds * 1000).toISOString();
  const sealed = encrypt(
    JSON.stringify(input),
    { userId: ctx.userId, purpose: PURPOSE },
    await encryptionKeys(),
  );
  // A table property holds at most 64 KiB (Table storage limits): a held message must fit in one.
  if (sealed.data.length > HELD_MAX_CHARS) {
    throw new Problem(
      'payload_too_large',
      `With an undo window the message is held until it goes out, and a held message can be at most about ${Math.floor((HELD_MAX_CHARS * 3) / 4 / 1024)} KB (images included). Send fewer or smaller images.`,
    );
  }
  const client = await userTable(HELD_SENDS_TABLE, ctx.userId);
  await client.createEntity<Row>({
    partitionKey: ctx.userId,
    rowKey: sendId,
    action: action.id,
    keyId: sealed.keyId,
    data: sealed.data,
    dueAt: undoUntil,
    state: 'held',
  });
  await enqueue(HELD_SENDS_QUEUE, { userId: ctx.userId, sendId } satisfies HeldSendMessage, {
    visibilityTimeoutSeconds: seconds,
  });
  return { held: true, sendId, undoUntil };
}

/** The send is no longer waiting: it has gone out (or was cancelled before). */
export const undoWindowPassed = (): Problem =>
  new Problem(
    'undo_window_passed',
    'The send is no longer waiting: its undo window (or scheduled time) is over and it has gone out, or it was cancelled already. Nothing was changed.',
  );

/** Cancels a held send of this action family; `undo_window_passed` once it is going or gone. */
export async function cancelHeldSend(userId: string, sendId: string, actionPrefix: string): Promise<void> {
  const client = await userTable(HELD_SENDS_TABLE, userId);
  let row: Row & { etag: string };
  try {
    row = await client.getEntity<Row>(userId, sendId);
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode === 404) throw undoWindowPassed();
    throw err;
  }
  if (!row.action.startsWith(actionPrefix))
    throw new Problem('not_found', `No ${actionPrefix.replace(/\.$/, '')} send with this id is waiting.`);
  if (row.state !== 'held') throw undoWindowPassed();
  try {
    await client.deleteEntity(userId, sendId, { etag: row.etag });
  } catch (err) {
    const status = (err as { statusCode?: number }).statusCode;
    if (status === 404 || status === 412) throw undoWindowPassed();
    throw err;
  }
}

/**
 * Takes a held send for release: undefined when it was cancelled (or already released). A send
 * left `sending` by a release that failed is taken again (the idempotency key keeps it single).
 */
export async function takeHeldSend(
  message: HeldSendMessage,
): Promise<{ action: string; input: unknown; finish(): Promise<void> } | undefined> {
  const client = await userTable(HELD_SENDS_TABLE, message.userId);
  let row: Row & { etag: string };
  try {
    row = await client.getEntity<Row>(message.userId, message.sendId);
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode === 404) return undefined;
    throw err;
  }
  if (row.state === 'held') {
    try {
      await client.updateEntity(
        { partitionKey: message.userId, rowKey: message.sendId, state: 'sending' },
        'Merge',
        { etag: row.etag },
      );
    } catch (err) {
      const status = (err as { statusCode?: number }).statusCode;
      // Cancelled in the meantime.
      if (status === 404 || status === 412) return undefined;
      throw err;
    }
  }
  const plain = decrypt(
    { keyId: row.keyId, data: row.data },
    { userId: message.userId, purpose: PURPOSE },
    await encryptionKeys(),
  );
  return {
    action: row.action,
    input: JSON.parse(plain) as unknown,
    finish: async () =>
      await client.deleteEntity(message.userId, message.sendId).then(
        () => undefined,
        (err: unknown) => {
          if ((err as { statusCode?: number }).statusCode !== 404) throw err;
        },
      ),
  };
}

registerUserData({
  name: 'heldSends',
  perAccount: true,
  export: async (userId) =>
    (await partitionRows<Row>(await userTable(HELD_SENDS_TABLE, userId), userId)).map((r) => ({
      sendId: r.rowKey,
      action: r.action,
      dueAt: r.dueAt,
      state: r.state,
    })),
  erase: async (userId) => await erasePartition(await userTable(HELD_SENDS_TABLE, userId), userId),
});
