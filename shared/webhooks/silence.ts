/**
 * Silence is detected (docs/events.md, "When notifications go quiet"): Graph may stop delivering a
 * subscription's notifications without saying so (a dropped subscription, a delivery that never
 * comes). For each user and synced resource the table `feedhealth` keeps when a notification last
 * came and when the timer's safety-net round last looked. When a timer round finds changes and no
 * notification came since the previous look, and none comes within a grace period after it,
 * notifications missed them: the feed is degraded.
 * The round itself has already reconciled the changes by delta (exactly once, by the feed's
 * dedupe keys); the subscription is then replaced, and the feed is recovered. Each transition is
 * a feed entry, so an event (`feed.degraded`, `feed.recovered`), and the state shows in
 * GET /api/connections/me and the health metrics. Lost and recovered subscriptions and delta
 * gaps are feed entries too (`subscription.lost`, `subscription.recovered`, `sync.gap_recovered`).
 */
import { getConfig } from '../config';
import { contributeHealthMetrics } from '../health';
import { registerUserData } from '../privacy';
import { erasePartition, partitionRows, userTable } from '../storage/clients';
import { enqueueSyncJob, type SyncJob } from '../sync/jobs';
import type { RoundResult } from '../sync/engine';
import { appendEvent } from '../sync/feed';
import { rowKeyOf } from '../sync/state';
import { replaceSubscription } from './manager';
import { listSubscriptions } from './store';

export const FEED_HEALTH_TABLE = 'feedhealth';

export interface FeedHealth {
  resource: string;
  status: 'healthy' | 'degraded';
  /** When the current degradation began. */
  since?: string;
  reason?: string;
  lastNotifiedAt?: string;
  lastCheckedAt?: string;
  recoveredAt?: string;
  /** Changes were found that no notification announced; re-checked after the grace period. */
  suspectAt?: string;
  unannounced?: number;
}

/** Per-instance counters for the health report. */
export const feedStats = { degraded: 0, recovered: 0, subscriptionsLost: 0, gapsRecovered: 0 };

contributeHealthMetrics(() => ({ feed: { ...feedStats } }));

interface Logger {
  log(msg: string): void;
  warn(msg: string): void;
  error?(msg: string): void;
}

const text = (v: unknown): string | undefined => (typeof v === 'string' && v ? v : undefined);

function fromRow(row: Record<string, unknown>): FeedHealth {
  const out: FeedHealth = {
    resource: decodeURIComponent(String(row.rowKey)),
    status: row.status === 'degraded' ? 'degraded' : 'healthy',
  };
  for (const k of [
    'since',
    'reason',
    'lastNotifiedAt',
    'lastCheckedAt',
    'recoveredAt',
    'suspectAt',
  ] as const) {
    const v = text(row[k]);
    if (v) out[k] = v;
  }
  if (typeof row.unannounced === 'number' && row.unannounced > 0) out.unannounced = row.unannounced;
  return out;
}

async function getHealth(userId: string, resource: string): Promise<FeedHealth | undefined> {
  const client = await userTable(FEED_HEALTH_TABLE, userId);
  try {
    return fromRow(await client.getEntity<Record<string, unknown>>(userId, rowKeyOf(resource)));
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode === 404) return undefined;
    throw err;
  }
}

async function setHealth(userId: string, resource: string, fields: Record<string, unknown>): Promise<void> {
  const client = await userTable(FEED_HEALTH_TABLE, userId);
  await client.upsertEntity({ partitionKey: userId, rowKey: rowKeyOf(resource), ...fields }, 'Merge');
}

/** The user's feed health, resource by resource (GET /api/connections/me). */
export async function feedHealthOf(
  userId: string,
): Promise<{ status: 'healthy' | 'degraded'; degraded: FeedHealth[] }> {
  const rows = (
    await partitionRows<Record<string, unknown>>(await userTable(FEED_HEALTH_TABLE, userId), userId)
  ).map(fromRow);
  const degraded = rows.filter((r) => r.status === 'degraded');
  return { status: degraded.length > 0 ? 'degraded' : 'healthy', degraded };
}

/** A notification for the resource arrived (the webhook worker, once per coalescing window). */
export async function markNotified(userId: string, resource: string): Promise<void> {
  await setHealth(userId, resource, { lastNotifiedAt: new Date().toISOString() });
}

async function recover(userId: string, resource: string, log: Logger): Promise<void> {
  try {
    await replaceSubscription(userId, resource, {
      log: (m: string) => log.log(m),
      warn: (m: string) => log.warn(m),
      error: (m: string) => (log.error ? log.error(m) : log.warn(m)),
    });
  } catch (err) {
    // Stays degraded: the next timer round tries again.
    log.warn(
      JSON.stringify({
        event: 'feed_recovery_failed',
        resource,
        error: (err as Error).name,
        code: (err as { code?: string }).code,
      }),
    );
    return;
  }
  const at = new Date().toISOString();
  await setHealth(userId, resource, { status: 'healthy', recoveredAt: at, since: '', reason: '' });
  await appendEvent(userId, {
    service: 'feed',
    resource,
    type: 'recovered',
    summary: { resource, reason: 'resubscribed' },
  });
  feedStats.recovered += 1;
  log.log(JSON.stringify({ event: 'feed_recovered', resource }));
}

/**
 * After each completed sync round (shared/sync/worker.ts): notice silence and delta gaps.
 *
 * A timer round that finds changes no notification announced only makes the resource suspect:
 * their notifications may still be on their way (Graph delivers within seconds, but a change made
 * just before the round races it). A re-check round runs FEED_SILENCE_GRACE_SECONDS later; if no
 * notification came in between, notifications are missing: degraded, resubscribe, recovered.
 */
export async function afterRound(job: SyncJob, result: RoundResult, log: Logger): Promise<void> {
  if (result.mode === 'resync' && result.entries > 0) {
    await appendEvent(job.userId, {
      service: 'sync',
      resource: job.resource,
      type: 'gap_recovered',
      summary: {
        resource: job.resource,
        reason: 'delta_reset',
        created: result.created,
        updated: result.updated,
        deleted: result.deleted,
      },
    });
    feedStats.gapsRecovered += 1;
  }
  if (job.reason !== 'timer') return;
  const health = await getHealth(job.userId, job.resource);
  const checkedAt = new Date().toISOString();
  await setHealth(job.userId, job.resource, { lastCheckedAt: checkedAt });
  if (health?.status === 'degraded') {
    await recover(job.userId, job.resource, log);
    return;
  }
  if (health?.suspectAt) {
    if ((health.lastNotifiedAt ?? '') > health.suspectAt) {
      // The notifications came after all: nothing was missing.
      await setHealth(job.userId, job.resource, { suspectAt: '', unannounced: 0 });
      return;
    }
    await setHealth(job.userId, job.resource, {
      status: 'degraded',
      since: checkedAt,
      reason: 'changes_without_notification',
      suspectAt: '',
    });
    await appendEvent(job.userId, {
      service: 'feed',
      resource: job.resource,
      type: 'degraded',
      summary: {
        resource: job.resource,
        reason: 'changes_without_notification',
        unannounced: health.unannounced ?? 0,
      },
    });
    feedStats.degraded += 1;
    log.warn(
      JSON.stringify({ event: 'feed_degraded', resource: job.resource, unannounced: health.unannounced }),
    );
    await recover(job.userId, job.resource, log);
    return;
  }
  if (result.mode !== 'delta' || result.entries === 0 || !health?.lastCheckedAt) return;
  // Only where notifications are expected: the resource has a subscription.
  const subscribed = (await listSubscriptions(job.userId)).some((s) => s.key === job.resource);
  if (!subscribed) return;
  if ((health.lastNotifiedAt ?? '') >= health.lastCheckedAt) return;
  await setHealth(job.userId, job.resource, { suspectAt: checkedAt, unannounced: result.entries });
  await enqueueSyncJob(
    { userId: job.userId, resource: job.resource, reason: 'timer' },
    { visibilityTimeoutSeconds: getConfig().FEED_SILENCE_GRACE_SECONDS },
  );
}

registerUserData({
  name: 'feedHealth',
  perAccount: true,
  export: async (userId) =>
    (await partitionRows<Record<string, unknown>>(await userTable(FEED_HEALTH_TABLE, userId), userId)).map(
      fromRow,
    ),
  erase: async (userId) => await erasePartition(await userTable(FEED_HEALTH_TABLE, userId), userId),
});
