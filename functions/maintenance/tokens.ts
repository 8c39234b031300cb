import type { InvocationContext, Timer } from '@azure/functions';
import { z } from 'zod';
import {
  fanOutKeepAlive,
  fanOutReencrypt,
  handleMaintenance,
  MAINTENANCE_QUEUE,
} from '../../shared/auth/maintenance';
import { registerQueue, registerTimer } from '../../shared/runtime/register';

/** Daily: one keep-alive message per idle connection. */
export async function tokenKeepAlive(_timer: Timer, context: InvocationContext): Promise<void> {
  const n = await fanOutKeepAlive();
  context.log(JSON.stringify({ event: 'keepalive_fanout', connections: n }));
}

/** Weekly (and on demand after a key rotation): one re-encrypt message per row under an old key. */
export async function tokenReencrypt(_timer: Timer, context: InvocationContext): Promise<void> {
  const n = await fanOutReencrypt();
  context.log(JSON.stringify({ event: 'reencrypt_fanout', connections: n }));
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
