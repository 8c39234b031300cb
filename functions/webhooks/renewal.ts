import type { InvocationContext, Timer } from '@azure/functions';
import { z } from 'zod';
import { registerQueue, registerTimer } from '../../shared/runtime/register';
import { installWebhookHooks } from '../../shared/webhooks/hooks';
import { reconcileUser } from '../../shared/webhooks/manager';
import { fanOutTick } from '../../shared/fanout';
import { RENEWAL_TICK_MINUTES, RENEWALS_QUEUE } from '../../shared/webhooks/renewal';

installWebhookHooks();

/**
 * Every 30 minutes: one renewal message per connected user in turn (style.md 16, docs/scale.md),
 * per storage account with several (shared/fanout.ts).
 */
export async function subscriptionRenewalTimer(_timer: Timer, context: InvocationContext): Promise<void> {
  context.log(JSON.stringify({ event: 'subscription_renewal_fanout', ...(await fanOutTick('renewal')) }));
}

const Message = z.object({ userId: z.string().min(1).max(256) }).strict();

/** Queue `subscription-renewals`: renew, recreate on 404, create missing, delete orphans for one user. */
export async function subscriptionRenewalWorker(message: unknown, context: InvocationContext): Promise<void> {
  const parsed = Message.safeParse(message);
  if (!parsed.success) {
    context.warn(JSON.stringify({ event: 'renewal_message_invalid' }));
    return;
  }
  await reconcileUser(parsed.data.userId, context, 'timer');
}

registerTimer('subscriptionRenewalTimer', {
  schedule: `0 */${RENEWAL_TICK_MINUTES} * * * *`,
  handler: subscriptionRenewalTimer,
});
registerQueue('subscriptionRenewalWorker', { queueName: RENEWALS_QUEUE, handler: subscriptionRenewalWorker });
