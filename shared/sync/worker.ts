/**
 * The `sync-jobs` worker: validates a job, runs one round (engine.ts), and follows up: the To Do
 * list round enqueues a job per new list and retires deleted ones; a job that found a round
 * already running comes back a little later when it was caused by a change (a notification or a
 * connect), so a change that arrived after that round's snapshot is not left waiting for the timer.
 */
import type { InvocationContext } from '@azure/functions';
import { z } from 'zod';
import { GraphError } from '../graph/client';
import { USER_ID } from '../http/caller';
import { enqueue } from '../storage/clients';
import { runSyncRound, type RoundResult } from './engine';
import { enqueueSyncJob, isResourceKey, SYNC_JOBS_QUEUE, type ResourceKey, type SyncJob } from './jobs';
import { retireResource } from './plan';

/**
 * A change-driven job that found its resource busy comes back later (2, 4, 8 ... 60 s): the
 * running round may have started before the change. Its last return is timed for when the other
 * round's lease runs out, so a round that died (a crash, kill -9) is taken over then and the work
 * resumes without waiting for the timer (up to 15 minutes).
 */
const MAX_BUSY_RETRIES = 6;
const busyRetrySeconds = (hops: number): number => Math.min(60, 2 * 2 ** hops);
/** Azure Queue visibility timeouts may be up to 7 days; a lease is at most a few minutes. */
const MAX_DELAY_SECONDS = 15 * 60;

const Job = z
  .object({
    userId: z.string().regex(USER_ID),
    resource: z.string().refine(isResourceKey),
    reason: z.enum(['timer', 'notification', 'connect', 'lifecycle', 'manual']),
    full: z.boolean().optional(),
    hops: z.number().int().min(0).optional(),
  })
  .strip();

export type WorkerOutcome = RoundResult | { status: 'invalid' } | { status: 'retired' };

type RoundListener = (
  job: SyncJob,
  result: RoundResult,
  log: { log(msg: string): void; warn(msg: string): void },
) => Promise<void>;
const roundListeners: RoundListener[] = [];

/** Runs after every completed round (the webhooks layer watches for silence: shared/webhooks/silence.ts). */
export function onRoundCompleted(listener: RoundListener): void {
  if (!roundListeners.includes(listener)) roundListeners.push(listener);
}

export async function handleSyncJob(message: unknown, context: InvocationContext): Promise<WorkerOutcome> {
  const parsed = Job.safeParse(message);
  if (!parsed.success) {
    context.warn(JSON.stringify({ event: 'sync_job_invalid' }));
    return { status: 'invalid' }; // can never succeed: drop rather than poison
  }
  const job: SyncJob = parsed.data;
  const hops = job.hops ?? 0;

  let result: RoundResult;
  try {
    result = await runSyncRound(job, { log: context });
  } catch (err) {
    // A To Do list that no longer exists (deleted, or left behind by an account the user no
    // longer holds) answers 404 for ever: retire it instead of sending the job to the poison queue.
    if (job.resource.startsWith('todo:') && err instanceof GraphError && err.status === 404) {
      await retireResource(job.userId, job.resource);
      context.warn(
        JSON.stringify({ event: 'sync_resource_retired', resource: 'todo:*', reason: 'not_found' }),
      );
      return { status: 'retired' };
    }
    throw err;
  }
  if (result.status === 'busy') {
    const changeDriven =
      job.reason === 'notification' || job.reason === 'connect' || job.reason === 'lifecycle';
    const leaseLeft = Math.ceil(((result.leaseHeldUntil ?? Date.now()) - Date.now()) / 1000);
    if (changeDriven && hops <= MAX_BUSY_RETRIES) {
      // Quick retries never later than the lease's end; the last one at its end (a live round has
      // finished by then and this one finds nothing new; a dead one is taken over).
      const wait = hops < MAX_BUSY_RETRIES ? Math.min(busyRetrySeconds(hops), leaseLeft + 1) : leaseLeft + 1;
      await enqueue(
        SYNC_JOBS_QUEUE,
        { ...job, hops: hops + 1 },
        { visibilityTimeoutSeconds: Math.min(MAX_DELAY_SECONDS, Math.max(1, wait)) },
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
  if (result.status === 'completed') {
    for (const listener of roundListeners) {
      try {
        await listener(job, result, context);
      } catch (err) {
        // Watching for silence must never fail the round: the next one looks again.
        context.warn(JSON.stringify({ event: 'round_listener_failed', error: (err as Error).name }));
      }
    }
  }
  return result;
}
