import type { InvocationContext } from '@azure/functions';
import { registerQueue } from '../../shared/runtime/register';
import { installSyncHooks } from '../../shared/sync/hooks';
import { SYNC_JOBS_QUEUE } from '../../shared/sync/jobs';
import { handleSyncJob } from '../../shared/sync/worker';

installSyncHooks();

/** One sync round per `sync-jobs` message; failures go back to the queue (retry, then poison). */
export async function syncWorker(message: unknown, context: InvocationContext): Promise<void> {
  await handleSyncJob(message, context);
}

registerQueue('syncWorker', { queueName: SYNC_JOBS_QUEUE, handler: syncWorker });
