import type { InvocationContext } from '@azure/functions';
import { deliverUserEvents, EVENTS_QUEUE, type EventsKick } from '../../shared/events/deliver';
import { installEventHooks } from '../../shared/events/hooks';
import { registerQueue } from '../../shared/runtime/register';

installEventHooks();

/** Delivers a user's pending change-feed entries to the registered endpoints (shared/events/deliver.ts). */
export async function eventsWorker(message: unknown, context: InvocationContext): Promise<void> {
  const kick = message as EventsKick;
  if (typeof kick?.userId !== 'string') {
    context.warn(JSON.stringify({ event: 'events_message_malformed' }));
    return;
  }
  await deliverUserEvents(kick, {
    log: (m) => context.log(m),
    warn: (m) => context.warn(m),
  });
}

registerQueue('eventsWorker', { queueName: EVENTS_QUEUE, handler: eventsWorker });
