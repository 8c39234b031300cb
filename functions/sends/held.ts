import type { InvocationContext } from '@azure/functions';
import { executeAction } from '../../shared/actions/execute';
import { HELD_SENDS_QUEUE, takeHeldSend, type HeldSendMessage } from '../../shared/actions/held-sends';
import { getAction } from '../../shared/actions/registry';
import { Problem } from '../../shared/http/problem';
import { registerQueue } from '../../shared/runtime/register';
import { loadService, SERVICES, type Service } from '../../shared/services';

/** Problems a later attempt may not meet: the queue retries them (then poison). */
const TRANSIENT = new Set(['throttled', 'upstream_unavailable', 'storage_unavailable', 'outcome_unknown']);

/**
 * Releases a send held for its undo window (shared/actions/held-sends.ts) once its queue message
 * becomes visible: unless it was cancelled, the action runs now, as the user, with the hold id as
 * Idempotency-Key so a retried release never sends twice.
 */
export async function heldSendWorker(message: unknown, context: InvocationContext): Promise<void> {
  const held = message as HeldSendMessage;
  if (typeof held?.userId !== 'string' || typeof held.sendId !== 'string') {
    context.warn(JSON.stringify({ event: 'held_send_malformed' }));
    return;
  }
  const taken = await takeHeldSend(held);
  if (!taken) {
    context.log(JSON.stringify({ event: 'held_send_cancelled', sendId: held.sendId }));
    return;
  }
  // Only the held action's service is loaded (a cold instance builds only what it serves).
  const service = taken.action.split('.')[0] as Service;
  if (SERVICES.includes(service)) loadService(service);
  const action = getAction(taken.action);
  if (!action) {
    context.error(JSON.stringify({ event: 'held_send_unknown_action', action: taken.action }));
    await taken.finish();
    return;
  }
  try {
    await executeAction(action, taken.input, {
      userId: held.userId,
      invocationId: context.invocationId,
      log: context,
      headers: new Headers({ 'idempotency-key': held.sendId }),
      release: true,
    });
  } catch (err) {
    const code = err instanceof Problem ? err.code : 'internal_error';
    if (TRANSIENT.has(code)) throw err;
    // Audited by executeAction; nothing more will change the answer.
    context.warn(JSON.stringify({ event: 'held_send_failed', action: action.id, code }));
  }
  await taken.finish();
}

registerQueue('heldSendWorker', { queueName: HELD_SENDS_QUEUE, handler: heldSendWorker });
