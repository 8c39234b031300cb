/**
 * The notification worker's logic (queue `graph-notifications`): notifications carry ids, not
 * data (§6.4), arrive duplicated and out of order, so the worker never applies them directly.
 * It coalesces them per (user, resource), drops the user's cached metadata for that service and
 * asks for that resource's delta sync (a `sync-jobs` message, shared/sync/jobs.ts); the sync
 * engine then reads the current state, so duplicates and reordering change nothing.
 * Lifecycle events go to the manager (§6.6).
 */
import { z } from 'zod';
import { invalidate } from '../actions/cache';
import { enqueue } from '../storage/clients';
import { markNotified } from './silence';
import { enqueueSyncJob, isResourceKey, SYNC_JOBS_QUEUE, type ResourceKey, type SyncJob } from '../sync/jobs';
import { catchUpMissed, reauthorize, replaceRemoved, type Logger } from './manager';
import { LIFECYCLE_EVENTS, type QueuedNotification } from './notifications';
import { CACHE_TAGS, serviceOfKey, syncResourceOf } from './resources';
import { webhookStats } from './stats';

const Message = z.object({
  v: z.literal(1),
  receivedAt: z.string(),
  items: z
    .array(
      z.object({
        subscriptionId: z.string().min(1).max(200),
        userId: z.string().min(1).max(256),
        key: z.string().min(1).max(300),
        changeType: z.string().max(100).optional(),
        lifecycleEvent: z.enum(LIFECYCLE_EVENTS).optional(),
        resourceId: z.string().max(1000).optional(),
        sync: z.string().refine(isResourceKey).optional(),
      }),
    )
    .max(1000),
});

/**
 * Coalescing window per (user, resource) in this instance. The first notification asks for a
 * sync at once; notifications during the next second share ONE delayed job (queue visibility
 * timeout), which starts only after all of them arrived, so it sees their changes. Duplicate
 * jobs across instances are harmless: the sync worker is idempotent.
 */
const WINDOW_MS = 1000;
const windows = new Map<string, { lastImmediate: number; trailingVisibleAt: number }>();

async function requestSync(userId: string, resource: ResourceKey): Promise<void> {
  const k = `${userId}\u0000${resource}`;
  const now = performance.now();
  const w = windows.get(k) ?? { lastImmediate: -Infinity, trailingVisibleAt: -Infinity };
  windows.set(k, w);
  if (windows.size > 10_000) {
    for (const [key, value] of windows)
      if (now - Math.max(value.lastImmediate, value.trailingVisibleAt) > 60_000) windows.delete(key);
  }
  // A delayed job that becomes visible (comfortably) later will see this change too.
  if (w.trailingVisibleAt - 200 > now) {
    webhookStats.coalesced += 1;
    return;
  }
  if (now - w.lastImmediate >= WINDOW_MS) {
    w.lastImmediate = now;
    await enqueueSyncJob({ userId, resource, reason: 'notification' });
  } else {
    w.trailingVisibleAt = now + WINDOW_MS;
    await enqueue(SYNC_JOBS_QUEUE, { userId, resource, reason: 'notification' } satisfies SyncJob, {
      visibilityTimeoutSeconds: WINDOW_MS / 1000,
    });
  }
  // Silence detection compares this with what the timer's rounds find (shared/webhooks/silence.ts).
  await markNotified(userId, resource);
  webhookStats.syncJobs += 1;
}

export async function processNotificationMessage(message: unknown, log: Logger): Promise<void> {
  const parsed = Message.safeParse(message);
  if (!parsed.success) {
    log.warn(JSON.stringify({ event: 'notification_message_invalid' }));
    return; // can never succeed: drop rather than poison the queue
  }
  const changes: QueuedNotification[] = [];
  const lifecycle = new Map<string, QueuedNotification>();
  for (const item of parsed.data.items) {
    if (item.lifecycleEvent) lifecycle.set(`${item.subscriptionId}|${item.lifecycleEvent}`, item);
    else changes.push(item);
  }

  const groups = new Map<string, { userId: string; key: string; sync: ResourceKey; count: number }>();
  for (const n of changes) {
    // A chat subscription's notification runs its chat's round; others their subscription's.
    const sync = (n.sync as ResourceKey | undefined) ?? syncResourceOf(n.key);
    const id = `${n.userId}\u0000${sync}`;
    const g = groups.get(id) ?? { userId: n.userId, key: n.key, sync, count: 0 };
    g.count += 1;
    groups.set(id, g);
    if (n.resourceId && webhookStats.resourceIds.size < 100_000) {
      webhookStats.resourceIds.set(n.resourceId, (webhookStats.resourceIds.get(n.resourceId) ?? 0) + 1);
    }
  }
  for (const g of groups.values()) {
    invalidate(g.userId, CACHE_TAGS[serviceOfKey(g.key)]);
    await requestSync(g.userId, g.sync);
    webhookStats.processed += g.count;
  }
  if (groups.size > 0) {
    log.log(
      JSON.stringify({
        event: 'notifications_processed',
        notifications: changes.length,
        resources: groups.size,
      }),
    );
  }

  for (const item of lifecycle.values()) {
    const event = item.lifecycleEvent!;
    log.log(JSON.stringify({ event: 'subscription_lifecycle', lifecycleEvent: event, key: item.key }));
    if (event === 'reauthorizationRequired') await reauthorize(item.userId, item.subscriptionId, log);
    else if (event === 'subscriptionRemoved')
      await replaceRemoved(item.userId, item.subscriptionId, item.key, log);
    else await catchUpMissed(item.userId, item.key);
    webhookStats.lifecycle[event] += 1;
  }
}
