/**
 * The `sync-jobs` worker: validates a job, runs one round (engine.ts), and follows up: the To Do
 * list round enqueues a job per new list and retires deleted ones; a job that found a round
 * already running comes back a little later when it was caused by a change (a notification or a
 * connect), so a change that arrived after that round's snapshot is not left waiting for the timer.
 */
import type { InvocationContext } from '@azure/functions';
import { z } from 'zod';
import { GraphError } from '../graph/client';
import { PRINCIPAL_ID } from '../http/caller';
import { enqueue } from '../storage/clients';
import { runSyncRound, type RoundResult } from './engine';
import { enqueueSyncJob, isResourceKey, SYNC_JOBS_QUEUE, type ResourceKey, type SyncJob } from './jobs';
import { isChosenResource, retireResource } from './plan';
import { getSyncState, requestRerun, rerunRequested } from './state';

/**
 * A change-driven job (a notification, a connect) that finds a round running cannot know whether
 * that round read Graph before or after its change. It asks the running round to run once more
 * when it ends (requestRerun, one storage row): the change is picked up right after the running
 * round, not seconds later. The job that asked also comes back later (2, 4, 8 ... 60 s, never
 * after the lease's end) in case the running round dies (a crash, kill -9): its last return is
 * timed for the end of the lease, when a dead round's work is taken over, without waiting for the
 * timer (up to 15 minutes). Other jobs finding the same round running just add to its request.
 */
const MAX_BUSY_RETRIES = 6;
const busyRetrySeconds = (hops: number): number => Math.min(60, 2 * 2 ** hops);
/** Follow-up rounds one job runs for changes that arrived during the previous one. */
const MAX_RERUNS = 10;
/** Azure Queue visibility timeouts may be up to 7 days; a lease is at most a few minutes. */
const MAX_DELAY_SECONDS = 15 * 60;

const Job = z
  .object({
    userId: z.string().regex(PRINCIPAL_ID),
    resource: z.string().refine(isResourceKey),
    reason: z.enum(['timer', 'notification', 'connect', 'lifecycle', 'manual']),
    full: z.boolean().optional(),
    hops: z.number().int().min(0).optional(),
    seen: z.string().max(100).optional(),
    since: z.iso.datetime().optional(),
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
  // A SharePoint library or list or a Teams channel the user stopped following: a late
  // notification or a queued job must not start it again (only the choosing action does, manual).
  if (
    isChosenResource(job.resource) &&
    job.reason !== 'manual' &&
    !(await getSyncState(job.userId, job.resource))
  ) {
    context.log(JSON.stringify({ event: 'sync_not_chosen', reason: job.reason }));
    return { status: 'retired' };
  }
  let outcome = await runOnce(job, context);
  // Changes that arrived during the round asked for one more (a delta round: cheap when empty).
  for (
    let n = 0;
    n < MAX_RERUNS &&
    outcome.status === 'completed' &&
    outcome.leaseId !== undefined &&
    (await rerunRequested(job.userId, job.resource, outcome.leaseId));
    n++
  ) {
    context.log(JSON.stringify({ event: 'sync_rerun', resource: job.resource }));
    outcome = await runOnce({ userId: job.userId, resource: job.resource, reason: 'notification' }, context);
  }
  return outcome;
}

/** One round; a To Do list that answers 404 is retired instead. */
const RETIRABLE = ['todo:', 'teamschat:'] as const;

async function roundOrRetire(job: SyncJob, context: InvocationContext): Promise<WorkerOutcome> {
  try {
    return await runSyncRound(job, { log: context });
  } catch (err) {
    // A To Do list or a chat that no longer exists (deleted, left, or left behind by an account the
    // user no longer holds) answers 404 (a chat the user left: 403) for ever: retire it instead of
    // sending the job to the poison queue.
    const kind = RETIRABLE.find((prefix) => job.resource.startsWith(prefix));
    if (
      kind &&
      err instanceof GraphError &&
      (err.status === 404 || (kind === 'teamschat:' && err.status === 403))
    ) {
      await retireResource(job.userId, job.resource);
      context.warn(
        JSON.stringify({ event: 'sync_resource_retired', resource: `${kind}*`, reason: 'not_found' }),
      );
      return { status: 'retired' };
    }
    throw err;
  }
}

/**
 * A change-driven job found a round running: asks the holder for one more round and, if this job
 * is the one that asked (or already a comeback), comes back later in case the holder dies. The
 * holder looks for requests after it ends, so if it ended before ours was written the lease is
 * free now and this job runs the round itself; if it still holds it, it will see ours.
 *
 * Only the round found first is asked. A round holding the lease under another id took it after
 * this job found the first one running, so after the change: it reads Graph after the change and
 * covers it. Asking that round too made every follow-up round ask for another while a job kept
 * finding them (up to MAX_RERUNS rounds for one change).
 */
async function whenBusy(job: SyncJob, busy: RoundResult, context: InvocationContext): Promise<WorkerOutcome> {
  const hops = job.hops ?? 0;
  const seen = job.seen ?? busy.leaseId;
  let result = busy;
  let comingBack = false;
  for (let tries = 0; tries < 3; tries++) {
    const holder = result.leaseId;
    const covered = holder !== undefined && seen !== undefined && holder !== seen;
    const asked = !covered && holder !== undefined && (await requestRerun(job.userId, job.resource, holder));
    if (!comingBack && (asked || hops > 0 || !holder) && hops <= MAX_BUSY_RETRIES) {
      comingBack = true;
      const leaseLeft = Math.ceil(((result.leaseHeldUntil ?? Date.now()) - Date.now()) / 1000);
      const wait = hops < MAX_BUSY_RETRIES ? Math.min(busyRetrySeconds(hops), leaseLeft + 1) : leaseLeft + 1;
      await enqueue(
        SYNC_JOBS_QUEUE,
        { ...job, hops: hops + 1, ...(seen !== undefined ? { seen } : {}) },
        { visibilityTimeoutSeconds: Math.min(MAX_DELAY_SECONDS, Math.max(1, wait)) },
      );
    }
    if (covered) return result;
    const again = await roundOrRetire(job, context);
    if (again.status !== 'busy' || (holder !== undefined && again.leaseId === holder)) return again;
    result = again;
  }
  return result;
}

const CHANGE_DRIVEN: ReadonlySet<SyncJob['reason']> = new Set(['notification', 'connect', 'lifecycle']);

async function runOnce(job: SyncJob, context: InvocationContext): Promise<WorkerOutcome> {
  let result = await roundOrRetire(job, context);
  if (result.status === 'busy' && CHANGE_DRIVEN.has(job.reason))
    result = await whenBusy(job, result, context);
  if (result.status === 'busy') return result;
  if (result.status === 'completed' && job.resource === 'todo' && result.lists) {
    for (const id of result.lists.added) {
      const resource = `todo:${id}`;
      if (isResourceKey(resource))
        await enqueueSyncJob({
          userId: job.userId,
          resource,
          reason: job.reason,
          ...(job.since ? { since: job.since } : {}),
        });
    }
    for (const id of result.lists.removed) {
      const resource = `todo:${id}` as ResourceKey;
      if (isResourceKey(resource)) await retireResource(job.userId, resource);
    }
  }
  // Chats with news (from the chats round) get their own rounds.
  if (result.status === 'completed' && result.found) {
    const since = job.since ?? result.found.since;
    for (const resource of result.found.resources)
      await enqueueSyncJob({ userId: job.userId, resource, reason: job.reason, ...(since ? { since } : {}) });
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
