/**
 * The renewal timer's fan-out: one `subscription-renewals` message per connected user (DESIGN.md
 * "Fan-out through queues": timers never loop over every user's Graph calls in one invocation);
 * the queue worker reconciles that user (manager.ts). Failures stay on the rows and the next
 * round, 30 minutes later, retries them; the 6-hour renewal window leaves a dozen chances.
 */
import { enqueue } from '../storage/clients';
import { listConnections } from '../storage/connections';

export const RENEWALS_QUEUE = 'subscription-renewals';

export interface RenewalMessage {
  userId: string;
}

export async function fanOutRenewals(): Promise<number> {
  let n = 0;
  const writes: Array<Promise<void>> = [];
  for await (const connection of listConnections()) {
    if (connection.status !== 'connected') continue; // they get subscriptions again on reconnect
    writes.push(enqueue(RENEWALS_QUEUE, { userId: connection.userId } satisfies RenewalMessage));
    n += 1;
    if (writes.length >= 32) await Promise.all(writes.splice(0));
  }
  await Promise.all(writes);
  return n;
}
