/**
 * The contract between everything that asks for a sync (the sync timer, connect, webhook
 * notifications, lifecycle events) and the sync worker: one `sync-jobs` queue message per
 * (user, resource). Workers are idempotent, so duplicates are harmless.
 */
import { enqueue } from '../storage/clients';

export const SYNC_JOBS_QUEUE = 'sync-jobs';

/**
 * A synced resource of one user:
 * - `mail:<folder>`: messages of one mail folder (well-known name like `inbox`, or a folder id)
 * - `calendar`: calendarView over the rolling window
 * - `files`: the drive root (whole drive)
 * - `contacts`: the default contacts folder
 * - `todo:<listId>`: tasks of one To Do list
 * - `todo`: the user's To Do lists (discovers `todo:<listId>` resources; emits no entries itself)
 * - `splib:<id>` / `splist:<id>`: a SharePoint library or list the user chose to sync
 *   (shared/sync/sharepoint.ts: the ids inside, base64url-encoded)
 * - `teams:chats`: the user's chats (discovers which chats have new messages; emits no entries)
 * - `teamschat:<id>`: messages of one chat, caught up by a filtered list (no chat delta on v1.0)
 * - `teamschannel:<id>`: messages of a channel the user chose to follow (channel message delta)
 *   (shared/sync/teams.ts: the ids inside, base64url-encoded)
 * - `planner:tasks`: the Planner tasks assigned to the user (listed in full each round: v1.0 has
 *   no Planner delta)
 */
export type ResourceKey =
  | `mail:${string}`
  | 'calendar'
  | 'files'
  | 'contacts'
  | 'todo'
  | `todo:${string}`
  | `splib:${string}`
  | `splist:${string}`
  | 'teams:chats'
  | `teamschat:${string}`
  | `teamschannel:${string}`
  | 'planner:tasks';

export interface SyncJob {
  userId: string;
  resource: ResourceKey;
  reason: 'timer' | 'notification' | 'connect' | 'lifecycle' | 'manual';
  /** Drop the delta token and resync everything (lifecycle `missed`, subscriptionRemoved). */
  full?: boolean;
  /** How many times a busy job came back (bounded, see shared/sync/worker.ts). */
  hops?: number;
  /**
   * A comeback's memory: the lease of the round the job first found running. A round holding the
   * lease under another id took it later, after the change, so it covers the change and is not
   * asked for one more round (shared/sync/worker.ts whenBusy).
   */
  seen?: string;
  /**
   * When the resource began to be followed (the sign-in that connected, ISO): a baseline reports
   * items created from then on (shared/sync/engine.ts). Only jobs a connect enqueues carry it.
   */
  since?: string;
}

export function isResourceKey(value: string): value is ResourceKey {
  return /^(mail:[A-Za-z0-9=_+/-]{1,200}|calendar|files|contacts|todo|todo:[A-Za-z0-9=_+/-]{1,200}|splib:[A-Za-z0-9_-]{1,600}|splist:[A-Za-z0-9_-]{1,900}|teams:chats|teamschat:[A-Za-z0-9_-]{1,600}|teamschannel:[A-Za-z0-9_-]{1,900}|planner:tasks)$/.test(
    value,
  );
}

export async function enqueueSyncJob(
  job: SyncJob,
  options: { visibilityTimeoutSeconds?: number } = {},
): Promise<void> {
  await enqueue(SYNC_JOBS_QUEUE, job, options);
}
