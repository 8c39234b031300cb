/**
 * Where webhooks meet the connection lifecycle: subscriptions are created right after connect,
 * deleted at Graph before a disconnect (while the token still works), and the `subscriptions`
 * rows are part of the user's data for export and erasure (shared/privacy.ts).
 */
import { onConnected, onDisconnecting } from '../auth/lifecycle';
import { registerUserData } from '../privacy';
import { forgetLookup } from './lookup-cache';
import { deleteAllSubscriptions, reconcileUser } from './manager';
import { deleteSubscriptionRecord, listSubscriptions } from './store';
import { onRoundCompleted } from '../sync/worker';
import { afterRound } from './silence';
import { isChosenResource } from '../sync/plan';

let installed = false;

export function installWebhookHooks(): void {
  if (installed) return;
  installed = true;

  onConnected(async (userId, context) => {
    await reconcileUser(userId, context, 'connect');
  });

  // Silence: a timer round finding changes no notification announced (shared/webhooks/silence.ts).
  onRoundCompleted(afterRound);

  // A SharePoint library or list or a Teams channel the user just chose: its first round done, it
  // gets its subscription now rather than at the next renewal sweep.
  onRoundCompleted(async (job, result, log) => {
    if (!isChosenResource(job.resource) || job.reason !== 'manual' || result.status !== 'completed') return;
    if ((await listSubscriptions(job.userId)).some((s) => s.key === job.resource)) return;
    const logger = {
      log: (...a: unknown[]) => log.log(a.map(String).join(' ')),
      warn: (...a: unknown[]) => log.warn(a.map(String).join(' ')),
      error: (...a: unknown[]) => log.warn(a.map(String).join(' ')),
    };
    await reconcileUser(job.userId, logger, 'connect');
  });

  onDisconnecting(async (userId, context) => {
    const n = await deleteAllSubscriptions(userId, context);
    context.log(JSON.stringify({ event: 'subscriptions_deleted', count: n }));
  });

  registerUserData({
    name: 'subscriptions',
    perAccount: true,
    async export(userId) {
      // Everything but the clientState hash (a secret's fingerprint, not personal data).
      return (await listSubscriptions(userId)).map(({ clientStateHash: _h, ...rest }) => rest);
    },
    async erase(userId) {
      const rows = await listSubscriptions(userId);
      for (const row of rows) {
        await deleteSubscriptionRecord(userId, row.subscriptionId);
        forgetLookup(row.subscriptionId);
      }
      return rows.length;
    },
  });
}
