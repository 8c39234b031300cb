/**
 * Which resources a user syncs, and the fan-out: one `sync-jobs` message per (user, resource),
 * never a loop over users doing Graph work in one invocation (DESIGN "Fan-out through queues").
 * A connection syncs what its granted features cover: mail (the Inbox and SYNC_MAIL_FOLDERS),
 * calendar, files, contacts, To Do (the list of lists, which discovers one resource per list), and
 * the SharePoint libraries and lists the user chose (shared/sync/sharepoint.ts), and Teams: the
 * user's chats (which find the chats with news) and the channels they follow (shared/sync/teams.ts).
 */
import { grantedFeatures } from '../auth/scopes';
import { listConnections, type Connection } from '../storage/connections';
import { appendChanges, changeKeyOf, type NewChange } from './feed';
import { allIndexed, eraseIndexed } from './items';
import { enqueueSyncJob, type ResourceKey, type SyncJob } from './jobs';
import { syncSettings } from './settings';
import { resourceDef } from './resources';
import { isChosenKey } from './sharepoint';
import { parseChannelKey } from './teams';
import { deleteSyncState, listSyncStates, markFollowSince } from './state';

/**
 * A resource the user chose to follow (a SharePoint library or list, a Teams channel): only the
 * choosing action starts it; a late notification or job for one they stopped does not.
 */
export function isChosenResource(key: string): boolean {
  return isChosenKey(key) || parseChannelKey(key) !== undefined;
}

/** The resources a connection syncs (To Do lists come from the `todo` round's discoveries). */
export async function resourcesFor(connection: Connection): Promise<ResourceKey[]> {
  const features = grantedFeatures(connection.scopes.split(' '));
  const out: ResourceKey[] = [];
  if (features.includes('mail'))
    for (const folder of syncSettings().SYNC_MAIL_FOLDERS) out.push(`mail:${folder}`);
  if (features.includes('calendar')) out.push('calendar');
  if (features.includes('files')) out.push('files');
  if (features.includes('contacts')) out.push('contacts');
  const todo = features.includes('todo');
  const sharepoint = features.includes('sharepoint');
  // Teams chats and channels exist for work and school accounts only.
  const teams = connection.accountType === 'work' && features.includes('teams');
  const channels = teams && features.includes('teams-history');
  if (todo) out.push('todo');
  // Each chat's own round is started by the chats round (when it has news) or its notification.
  if (teams) out.push('teams:chats');
  // Planner has no delta or notifications on v1.0: the timer's rounds list the user's tasks.
  if (connection.accountType === 'work' && features.includes('planner')) out.push('planner:tasks');
  if (todo || sharepoint || channels) {
    for (const s of await listSyncStates(connection.userId)) {
      if (s.status === 'removed') continue;
      if (todo && s.resource.startsWith('todo:')) out.push(s.resource);
      // SharePoint libraries and lists the user chose (shared/sync/sharepoint.ts).
      if (sharepoint && isChosenKey(s.resource)) out.push(s.resource);
      // Channels the user follows (shared/sync/teams.ts).
      if (channels && parseChannelKey(s.resource)) out.push(s.resource);
    }
  }
  return out;
}

/** Enqueues one job per resource of the connection; returns how many. */
export async function enqueueUserJobs(connection: Connection, reason: SyncJob['reason']): Promise<number> {
  if (connection.status !== 'connected') return 0;
  const resources = await resourcesFor(connection);
  // A connect's baselines report what arrives from the sign-in on (shared/sync/engine.ts),
  // whichever job runs them: the instant is kept in the sync state before any job can start.
  const since = reason === 'connect' ? connection.lastRefreshAt || new Date().toISOString() : undefined;
  if (since) for (const resource of resources) await markFollowSince(connection.userId, resource, since);
  for (const resource of resources)
    await enqueueSyncJob({ userId: connection.userId, resource, reason, ...(since ? { since } : {}) });
  return resources.length;
}

/** The timer's fan-out over connections (all of them by default). */
export async function fanOutSync(
  connections: AsyncIterable<Connection> | Iterable<Connection> = listConnections(),
): Promise<{ users: number; jobs: number }> {
  let users = 0;
  let jobs = 0;
  for await (const c of connections) {
    const n = await enqueueUserJobs(c, 'timer');
    if (n > 0) users++;
    jobs += n;
  }
  return { users, jobs };
}

/**
 * A resource that no longer exists (a deleted To Do list, a chat the user left): each of its live
 * items becomes a deletion in the feed, then its index and state go.
 */
export async function retireResource(userId: string, resource: ResourceKey): Promise<number> {
  const service = resourceDef(resource).service;
  let changes: NewChange[] = [];
  let n = 0;
  for await (const item of allIndexed(userId, resource)) {
    if (item.deleted) continue;
    changes.push({
      service,
      resource,
      id: item.id,
      type: 'deleted',
      summary: item.summary,
      dedupe: changeKeyOf(resource, item.id, 'deleted', item.version),
    });
    n++;
    if (changes.length >= 100) {
      await appendChanges(userId, changes);
      changes = [];
    }
  }
  await appendChanges(userId, changes);
  await eraseIndexed(userId, resource);
  await deleteSyncState(userId, resource);
  return n;
}
