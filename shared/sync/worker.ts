/**
 * The `sync-jobs` worker: validates a job, runs one round (engine.ts), and follows up: the To Do
 * list round enqueues a job per new list and retires deleted ones; a job that found a round
 * already running comes back a little later when it was caused by a change (a notification or a
 * connect), so a change that arrived after that round's snapshot is not left waiting for the timer.
 */
import type { InvocationContext } from '@azure/functions';
import { z } from 'zod';
import { enqueue } from '../storage/clients';
import { runSyncRound, type RoundResult } from './engine';
import { enqueueSyncJob, isResourceKey, SYNC_JOBS_QUEUE, type ResourceKey, type SyncJob } from './jobs';
import { retireResource } from './plan';

/**
 * A change-driven job that found its resource busy comes back later (2, 4, 8 ... 60 s; about two
 * minutes in all): the running round may have started before the change. After that the timer
 * catches up.
 */
const MAX_BUSY_RETRIES = 6;
const busyRetrySeconds = (hops: number): number => Math.min(60, 2 * 2 ** hops);

const Job = z
  .object({
    userId: z.string().regex(/^[A-Za-z0-9._:@|=+-]{1,128}$/),
    resource: z.string().refine(isResourceKey),
    reason: z.enum(['timer', 'notification', 'connect', 'lifecycle', 'manual']),
    full: z.boolean().optional(),
    hops: z.number().int().min(0).optional(),
  })
  .strip();

export type WorkerOutcome = RoundResult | { status: 'invalid' };

export async function handleSyncJob(message: unknown, context: InvocationContext): Promise<WorkerOutcome> {
  const parsed = Job.safeParse(message);
  if (!parsed.success) {
    context.warn(JSON.stringify({ event: 'sync_job_invalid' }));
    return { status: 'invalid' }; // can never succeed: drop rather than poison
  }
  const job: SyncJob = parsed.data;
  const hops = job.hops ?? 0;

  const result = await runSyncRound(job, { log: context });
  if (result.status === 'busy') {
    const changeDriven =
      job.reason === 'notification' || job.reason === 'connect' || job.reason === 'lifecycle';
    if (changeDriven && hops < MAX_BUSY_RETRIES) {
      await enqueue(
        SYNC_JOBS_QUEUE,
        { ...job, hops: hops + 1 },
        { visibilityTimeoutSeconds: busyRetrySeconds(hops) },
      );
    }
    return result;
  }
  if (result.status === 'completed' && job.resource === 'todo' && result.lists) {
    for (const id of result.lists.added) {
      const resource = `todo:${id}`;
      if (isResourceKey(resource)) await enqueueSyncJob({ userId: job.userId, resource, reason: job.reason });
    }
    for (const id of result.lists.removed) {
      const resource = `todo:${id}` as ResourceKey;
      if (isResourceKey(resource)) await retireResource(job.userId, resource);
    }
  }
  return result;
}
