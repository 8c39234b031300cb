import type { InvocationContext } from '@azure/functions';
import { registerQueue } from '../../shared/runtime/register';
import { installWebhookHooks } from '../../shared/webhooks/hooks';
import { NOTIFICATIONS_QUEUE } from '../../shared/webhooks/notifications';
import { processNotificationMessage } from '../../shared/webhooks/worker';

installWebhookHooks();

/** Queue `graph-notifications`: coalesce per (user, resource), run delta sync, handle lifecycle events. */
export async function graphNotificationWorker(message: unknown, context: InvocationContext): Promise<void> {
  try {
    await processNotificationMessage(message, context);
  } catch (err) {
    context.error(JSON.stringify({ event: 'notification_worker_failed', error: (err as Error).name }));
    throw err; // the host retries, then moves it to graph-notifications-poison
  }
}

registerQueue('graphNotificationWorker', {
  queueName: NOTIFICATIONS_QUEUE,
  handler: graphNotificationWorker,
});
