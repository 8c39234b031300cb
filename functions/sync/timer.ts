import type { InvocationContext, Timer } from '@azure/functions';
import { registerTimer } from '../../shared/runtime/register';
import { installSyncHooks } from '../../shared/sync/hooks';
import { fanOutTick } from '../../shared/fanout';
import { syncSchedule } from '../../shared/sync/settings';

installSyncHooks();

/**
 * Every SYNC_INTERVAL_MINUTES: one `sync-jobs` message per (user, resource) due at this tick,
 * spread over the interval by user (shared/sync/plan.ts planTick, docs/scale.md); with several
 * storage accounts each account's users are fanned out by that account's own function
 * (shared/fanout.ts).
 */
export async function syncTimer(_timer: Timer, context: InvocationContext): Promise<void> {
  context.log(JSON.stringify({ event: 'sync_fanout', ...(await fanOutTick('sync')) }));
}

registerTimer('syncTimer', { schedule: syncSchedule(), handler: syncTimer });
