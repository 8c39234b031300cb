import type { InvocationContext, Timer } from '@azure/functions';
import { z } from 'zod';
import { handleMaintenance, MAINTENANCE_QUEUE } from '../../shared/auth/maintenance';
import { fanOutTick } from '../../shared/fanout';
import { registerQueue, registerTimer } from '../../shared/runtime/register';

/** Daily: one keep-alive message per idle connection (per storage account: shared/fanout.ts). */
export async function tokenKeepAlive(_timer: Timer, context: InvocationContext): Promise<void> {
  context.log(JSON.stringify({ event: 'keepalive_fanout', ...(await fanOutTick('keepalive')) }));
}

/** Weekly (and on demand after a key rotation): one re-encrypt message per row under an old key. */
export async function tokenReencrypt(_timer: Timer, context: InvocationContext): Promise<void> {
  context.log(JSON.stringify({ event: 'reencrypt_fanout', ...(await fanOutTick('reencrypt')) }));
}

const Message = z
  .object({ kind: z.enum(['keepalive', 'reencrypt']), userId: z.string().min(1).max(160) })
  .strict();

export async function tokenMaintenanceWorker(message: unknown, context: InvocationContext): Promise<void> {
  const parsed = Message.safeParse(message);
  if (!parsed.success) {
    context.warn(JSON.stringify({ event: 'maintenance_message_invalid' }));
    return; // a malformed message can never succeed: drop it instead of poisoning retries
  }
  await handleMaintenance(parsed.data, context);
}

registerTimer('tokenKeepAlive', { schedule: '0 17 3 * * *', handler: tokenKeepAlive });
registerTimer('tokenReencrypt', { schedule: '0 47 4 * * 0', handler: tokenReencrypt });
registerQueue('tokenMaintenanceWorker', { queueName: MAINTENANCE_QUEUE, handler: tokenMaintenanceWorker });
