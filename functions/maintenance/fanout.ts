import type { InvocationContext } from '@azure/functions';
import { FANOUT_QUEUE, fanOutAccount, FanoutMessage } from '../../shared/fanout';
import { registerQueue } from '../../shared/runtime/register';

/**
 * Queue `timer-fanout` (one per storage account, shared/fanout.ts): one account's share of a sync
 * or renewal tick. A failure is retried by the queue; the jobs it already queued are harmless
 * twice (a round or a reconciliation that finds nothing new writes nothing).
 */
export async function timerFanoutWorker(message: unknown, context: InvocationContext): Promise<void> {
  const parsed = FanoutMessage.safeParse(message);
  if (!parsed.success) {
    context.warn(JSON.stringify({ event: 'fanout_message_invalid' }));
    return; // a malformed message can never succeed: drop it instead of poisoning retries
  }
  const result = await fanOutAccount(parsed.data);
  context.log(
    JSON.stringify({ event: `${parsed.data.kind}_fanout_account`, shard: parsed.data.shard, ...result }),
  );
}

registerQueue('timerFanoutWorker', { queueName: FANOUT_QUEUE, handler: timerFanoutWorker });
