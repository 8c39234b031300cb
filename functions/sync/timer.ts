import type { InvocationContext, Timer } from '@azure/functions';
import { registerTimer } from '../../shared/runtime/register';
import { installSyncHooks } from '../../shared/sync/hooks';
import { fanOutSync } from '../../shared/sync/plan';
import { syncSchedule } from '../../shared/sync/settings';

installSyncHooks();

/**
 * Every SYNC_INTERVAL_MINUTES: one `sync-jobs` message per (user, resource) due at this tick,
 * spread over the interval by user (shared/sync/plan.ts planTick, docs/scale.md).
 */
export async function syncTimer(_timer: Timer, context: InvocationContext): Promise<void> {
  const { users, jobs } = await fanOutSync();
  context.log(JSON.stringify({ event: 'sync_fanout', users, jobs }));
}

registerTimer('syncTimer', { schedule: syncSchedule(), handler: syncTimer });
