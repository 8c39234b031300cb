/**
 * Which resources a user syncs, and the fan-out: one `sync-jobs` message per (user, resource) due,
 * never a loop over users doing Graph work in one invocation (DESIGN "Fan-out through queues").
 * A resource Graph notifies about is due once per SYNC_SAFETY_NET_MINUTES, others every tick, and
 * each user's jobs are spread over the interval by a hash of the user id (planTick).
 * A connection syncs what its granted features cover: mail (the Inbox and SYNC_MAIL_FOLDERS),
 * calendar, files, contacts, To Do (the list of lists, which discovers one resource per list), and
 * the SharePoint libraries and lists the user chose (shared/sync/sharepoint.ts), and Teams: the
 * user's chats (which find the chats with news) and the channels they follow (shared/sync/teams.ts).
 */
import { createHash } from 'node:crypto';
import { grantedFeatures } from '../auth/scopes';
import { getConfig } from '../config';
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

/**
 * Resources a subscription feeds (shared/webhooks/resources.ts desiredSubscriptions): changes
 * reach them within seconds, so their timer round is only the safety net for what Graph failed to
 * deliver. Other mail folders than the Inbox, the list of To Do lists, the chats round without
 * chat subscriptions and Planner (no notifications on v1.0) have no other way in.
 */
export function isNotified(resource: ResourceKey, chatSubscriptions: boolean): boolean {
  if (['mail:inbox', 'calendar', 'files', 'contacts'].includes(resource)) return true;
  if (resource.startsWith('todo:') || isChosenKey(resource) || parseChannelKey(resource)) return true;
  return resource === 'teams:chats' && chatSubscriptions;
}

export interface TickSettings {
  intervalMinutes: number;
  safetyNetMinutes: number;
  spreadMinutes: number;
  chatSubscriptions: boolean;
}

function tickSettings(): TickSettings {
  const s = syncSettings();
  return {
    intervalMinutes: s.SYNC_INTERVAL_MINUTES,
    safetyNetMinutes: s.SYNC_SAFETY_NET_MINUTES,
    spreadMinutes: Math.min(s.TIMER_SPREAD_MINUTES ?? s.SYNC_INTERVAL_MINUTES, s.SYNC_INTERVAL_MINUTES),
    chatSubscriptions: getConfig().TEAMS_CHAT_SUBSCRIPTIONS_ENABLED,
  };
}

/**
 * A user's turn in a timer's cycle and their delay within a tick, both from a hash of the user id:
 * a timer ticking every `tickMinutes` visits each user once per `periodMinutes` (whole ticks), in
 * the tick whose index mod (period / tick) equals the hash, `delaySeconds` (under the spread)
 * after it. The same user gets the same turn and delay every cycle.
 */
export function userTurn(
  userId: string,
  now: number,
  tickMinutes: number,
  periodMinutes: number,
  spreadMinutes: number,
): { inTurn: boolean; delaySeconds: number } {
  const turns = Math.max(1, Math.round(periodMinutes / tickMinutes));
  // The host fires a timer at its schedule give or take a little: the nearest tick is this one.
  const tick = Math.round(now / (tickMinutes * 60_000));
  const hash = createHash('sha256').update(userId).digest();
  const spread = Math.min(spreadMinutes, tickMinutes) * 60;
  return {
    inTurn: tick % turns === hash.readUInt32BE(0) % turns,
    delaySeconds: spread > 0 ? hash.readUInt32BE(4) % spread : 0,
  };
}

/**
 * Which of a user's resources the timer tick at `now` visits, and how long after the tick
 * (docs/scale.md, "Spread timers by user hash"). Resources Graph notifies about get a round once
 * per safety-net period, in the user's turn: tick index mod (period / interval) equals a hash of
 * the user id. The others get one every tick. Each user's jobs wait a delay from the same hash,
 * under the spread, so a million users make a flat line of jobs rather than a spike every tick.
 */
export function planTick(
  userId: string,
  resources: readonly ResourceKey[],
  now: number,
  s: TickSettings,
): Array<{ resource: ResourceKey; delaySeconds: number }> {
  const { inTurn, delaySeconds } = userTurn(
    userId,
    now,
    s.intervalMinutes,
    s.safetyNetMinutes,
    s.spreadMinutes,
  );
  return resources
    .filter((resource) => inTurn || !isNotified(resource, s.chatSubscriptions))
    .map((resource) => ({ resource, delaySeconds }));
}

/** The timer's fan-out over connections (all of them by default), for the tick at `now`. */
export async function fanOutSync(
  connections: AsyncIterable<Connection> | Iterable<Connection> = listConnections(),
  now = Date.now(),
): Promise<{ users: number; jobs: number }> {
  const settings = tickSettings();
  let users = 0;
  let jobs = 0;
  for await (const c of connections) {
    if (c.status !== 'connected') continue;
    const plan = planTick(c.userId, await resourcesFor(c), now, settings);
    for (const { resource, delaySeconds } of plan)
      await enqueueSyncJob(
        { userId: c.userId, resource, reason: 'timer' },
        delaySeconds > 0 ? { visibilityTimeoutSeconds: delaySeconds } : {},
      );
    if (plan.length > 0) users++;
    jobs += plan.length;
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
