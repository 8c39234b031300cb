import type { InvocationContext, Timer } from '@azure/functions';
import { z } from 'zod';
import { getConfig } from '../../shared/config';
import { splitPrincipal } from '../../shared/storage/accounts';
import { PRINCIPAL_ID } from '../../shared/http/caller';
import { registerQueue, registerTimer } from '../../shared/runtime/register';
import { fanOutTick } from '../../shared/fanout';
import { purgeChanges } from '../../shared/sync/feed';
import { purgeTombstones } from '../../shared/sync/items';
import { RETENTION_QUEUE } from '../../shared/sync/retention';

/** Daily: one retention message per user (per storage account with several: shared/fanout.ts). */
export async function changeRetentionTimer(_timer: Timer, context: InvocationContext): Promise<void> {
  context.log(JSON.stringify({ event: 'retention_fanout', ...(await fanOutTick('retention')) }));
}

const Message = z.object({ userId: z.string().regex(PRINCIPAL_ID) }).strip();

/** Drops feed entries and index tombstones older than CHANGE_RETENTION_DAYS. */
export async function changeRetentionWorker(message: unknown, context: InvocationContext): Promise<void> {
  const parsed = Message.safeParse(message);
  if (!parsed.success) {
    context.warn(JSON.stringify({ event: 'retention_message_invalid' }));
    return;
  }
  const cutoff = new Date(Date.now() - getConfig().CHANGE_RETENTION_DAYS * 24 * 3600 * 1000).toISOString();
  // The feed is the user's (another account's entries live there too); the index is the account's.
  const entries = await purgeChanges(splitPrincipal(parsed.data.userId).owner, cutoff);
  const tombstones = await purgeTombstones(parsed.data.userId, cutoff);
  context.log(JSON.stringify({ event: 'retention_done', entries, tombstones }));
}

registerTimer('changeRetentionTimer', { schedule: '0 40 2 * * *', handler: changeRetentionTimer });
registerQueue('changeRetentionWorker', { queueName: RETENTION_QUEUE, handler: changeRetentionWorker });
