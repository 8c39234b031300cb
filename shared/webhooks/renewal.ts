/**
 * The renewal timer's fan-out: one `subscription-renewals` message per connected user in turn (DESIGN.md
 * "Fan-out through queues": timers never loop over every user's Graph calls in one invocation);
 * the queue worker reconciles that user (manager.ts). Each user's turn comes every
 * SUBSCRIPTION_RECONCILE_MINUTES (2 hours by default, spread by user: docs/scale.md). Failures stay
 * on the rows and the user's next turn retries them; the 6-hour renewal window leaves at least two.
 */
import { getConfig } from '../config';
import { enqueue } from '../storage/clients';
import { listConnections, type Connection } from '../storage/connections';
import { userTurn } from '../sync/plan';

export const RENEWALS_QUEUE = 'subscription-renewals';

export interface RenewalMessage {
  userId: string;
}

/** The renewal timer's schedule: every 30 minutes. */
export const RENEWAL_TICK_MINUTES = 30;

/**
 * The tick at `now`: a message for each connected user whose turn it is (each user once per
 * SUBSCRIPTION_RECONCILE_MINUTES, spread over the tick by user: shared/sync/plan.ts userTurn).
 */
export async function fanOutRenewals(
  connections: AsyncIterable<Connection> | Iterable<Connection> = listConnections(),
  now = Date.now(),
): Promise<number> {
  const config = getConfig();
  const spread = config.TIMER_SPREAD_MINUTES ?? RENEWAL_TICK_MINUTES;
  let n = 0;
  const writes: Array<Promise<void>> = [];
  for await (const connection of connections) {
    if (connection.status !== 'connected') continue; // they get subscriptions again on reconnect
    const turn = userTurn(
      connection.userId,
      now,
      RENEWAL_TICK_MINUTES,
      config.SUBSCRIPTION_RECONCILE_MINUTES,
      spread,
    );
    if (!turn.inTurn) continue;
    writes.push(
      enqueue(
        RENEWALS_QUEUE,
        { userId: connection.userId } satisfies RenewalMessage,
        turn.delaySeconds > 0 ? { visibilityTimeoutSeconds: turn.delaySeconds } : {},
      ),
    );
    n += 1;
    if (writes.length >= 32) await Promise.all(writes.splice(0));
  }
  await Promise.all(writes);
  return n;
}
