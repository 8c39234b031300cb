/**
 * The subscriptions manager: keeps each user's Graph subscriptions equal to what their grant
 * wants (resources.ts). One reconcile pass, used after connect, by the renewal timer and after
 * `subscriptionRemoved`:
 * - subscriptions Graph holds for our notification URL but we have no row for → deleted (orphans);
 * - rows no longer wanted (feature removed, To Do list deleted) or duplicated → deleted;
 * - rows Graph no longer knows, or whose renewal answers 404 → recreated, then a delta catch-up;
 * - rows expiring within 6 h → renewed with the expiry Graph returns (§6.1 [INT], §6.5);
 * - wanted but missing → created.
 * One failing subscription does not stop the others: it is recorded on its row and the next
 * round retries it (style.md 16: timers rely on idempotence). Peers' pain point 2 (peers.md):
 * subscriptions that lapse silently; here each round repairs whatever drifted.
 */
import { GraphError } from '../graph/client';
import { Problem } from '../http/problem';
import { markReauthRequired } from '../auth/token-vault';
import { getConnection } from '../storage/connections';
import { appendEvent } from '../sync/feed';
import { enqueueSyncJob, type SyncJob } from '../sync/jobs';
import { hashClientState, newClientState } from './client-state';
import {
  createGraphSubscription,
  deleteGraphSubscription,
  isGone,
  listGraphSubscriptions,
  reauthorizeGraphSubscription,
  renewGraphSubscription,
  type GraphSubscription,
} from './graph';
import { forgetLookup } from './lookup-cache';
import {
  desiredSubscriptions,
  notificationUrls,
  RENEW_WITHIN_MS,
  syncResourceOf,
  type DesiredSubscription,
} from './resources';
import {
  deleteSubscriptionRecord,
  getLookup,
  getSubscription,
  listSubscriptions,
  saveSubscription,
  updateSubscription,
  type SubscriptionRecord,
} from './store';

export interface Logger {
  log(...a: unknown[]): void;
  warn(...a: unknown[]): void;
  error(...a: unknown[]): void;
}

export type Trigger = 'connect' | 'timer' | 'lifecycle';

export interface ReconcileReport {
  created: number;
  renewed: number;
  recreated: number;
  deleted: number;
  failed: number;
  skipped?: 'not_connected' | 'reauth_required';
}

const expiryFrom = (sub: GraphSubscription): string =>
  new Date(Date.parse(sub.expirationDateTime)).toISOString();

/** Token problems stop the pass for this user: nothing works until they sign in again. */
function isTokenProblem(err: unknown): boolean {
  return err instanceof Problem && (err.code === 'reauth_required' || err.code === 'not_connected');
}

function errorText(err: unknown): string {
  if (err instanceof GraphError) return `${err.status} ${err.code}`;
  if (err instanceof Problem) return err.code;
  return (err as Error).name ?? 'Error';
}

async function catchUp(userId: string, key: string, reason: SyncJob['reason'], full = false): Promise<void> {
  const resource = syncResourceOf(key);
  if (resource) await enqueueSyncJob({ userId, resource, reason, ...(full ? { full: true } : {}) });
}

/** Creates one subscription at Graph and stores it (lookup row first). */
export async function createSubscription(
  userId: string,
  spec: DesiredSubscription,
): Promise<SubscriptionRecord> {
  const clientState = newClientState();
  const sub = await createGraphSubscription(userId, {
    resource: spec.resource,
    changeType: spec.changeType,
    ...notificationUrls(),
    clientState,
    expirationDateTime: new Date(Date.now() + spec.lifetimeMinutes * 60_000).toISOString(),
  });
  const record: SubscriptionRecord = {
    userId,
    subscriptionId: sub.id,
    key: spec.key,
    resource: spec.resource,
    changeType: spec.changeType,
    expiresAt: expiryFrom(sub),
    clientStateHash: hashClientState(clientState),
    createdAt: new Date().toISOString(),
    failures: 0,
  };
  try {
    await saveSubscription(record);
  } catch (err) {
    // Unrecorded subscriptions would notify into the void: take it back (the next round also would).
    await deleteGraphSubscription(userId, sub.id).catch(() => undefined);
    throw err;
  }
  return record;
}

async function removeSubscription(userId: string, subscriptionId: string, atGraph: boolean): Promise<void> {
  if (atGraph) await deleteGraphSubscription(userId, subscriptionId);
  await deleteSubscriptionRecord(userId, subscriptionId);
  forgetLookup(subscriptionId);
}

// One pass per user at a time in this instance (connect, timer and lifecycle can coincide);
// across instances duplicates are possible and the next pass deletes them.
const running = new Map<string, Promise<unknown>>();
function serialized<T>(userId: string, fn: () => Promise<T>): Promise<T> {
  const previous = running.get(userId) ?? Promise.resolve();
  const next = previous.catch(() => undefined).then(fn);
  running.set(userId, next);
  void next
    .finally(() => {
      if (running.get(userId) === next) running.delete(userId);
    })
    .catch(() => undefined);
  return next;
}

export function reconcileUser(userId: string, log: Logger, trigger: Trigger): Promise<ReconcileReport> {
  return serialized(userId, () => reconcileNow(userId, log, trigger));
}

async function reconcileNow(userId: string, log: Logger, trigger: Trigger): Promise<ReconcileReport> {
  const report: ReconcileReport = { created: 0, renewed: 0, recreated: 0, deleted: 0, failed: 0 };
  const connection = await getConnection(userId);
  if (!connection) return { ...report, skipped: 'not_connected' };
  if (connection.status !== 'connected') return { ...report, skipped: 'reauth_required' };
  const syncReason: SyncJob['reason'] =
    trigger === 'lifecycle' ? 'lifecycle' : trigger === 'timer' ? 'timer' : 'connect';
  const fail = (what: string, key: string, err: unknown) => {
    report.failed += 1;
    log.warn(JSON.stringify({ event: 'subscription_failed', what, key, error: errorText(err) }));
  };

  let desired: DesiredSubscription[];
  try {
    desired = await desiredSubscriptions(userId, connection);
  } catch (err) {
    if (isTokenProblem(err)) return { ...report, skipped: 'reauth_required' };
    throw err;
  }
  const wanted = new Map(desired.map((d) => [d.key, d]));
  const rows = await listSubscriptions(userId);

  // What Graph actually holds (for our endpoint): orphans and vanished subscriptions show here.
  const ours = notificationUrls().notificationUrl;
  let atGraph: Set<string> | undefined;
  try {
    const list = (await listGraphSubscriptions(userId)).filter((s) => s.notificationUrl === ours);
    atGraph = new Set(list.map((s) => s.id));
    const known = new Set(rows.map((r) => r.subscriptionId));
    for (const orphan of list.filter((s) => !known.has(s.id))) {
      // Graph lists every subscription of the app for this Microsoft account, including those of
      // other platform users connected to the same account: theirs are not orphans (each
      // connection owns its subscriptions and clientState).
      if (await getLookup(orphan.id)) continue;
      try {
        await deleteGraphSubscription(userId, orphan.id);
        report.deleted += 1;
      } catch (err) {
        fail('delete_orphan', 'unknown', err);
      }
    }
  } catch (err) {
    if (isTokenProblem(err)) return { ...report, skipped: 'reauth_required' };
    fail('list', '*', err); // reconcile what we can without the listing
  }

  const fulfilled = new Set<string>();
  const recreate = new Set<string>();
  // Newest expiry first, so duplicates lose the shorter-lived copies.
  rows.sort((a, b) => b.expiresAt.localeCompare(a.expiresAt));
  for (const row of rows) {
    const spec = wanted.get(row.key);
    try {
      if (!spec || fulfilled.has(row.key)) {
        await removeSubscription(userId, row.subscriptionId, true);
        report.deleted += 1;
        continue;
      }
      const expired = Date.parse(row.expiresAt) <= Date.now();
      if (expired || (atGraph && !atGraph.has(row.subscriptionId))) {
        await removeSubscription(userId, row.subscriptionId, false);
        recreate.add(row.key);
        continue;
      }
      if (Date.parse(row.expiresAt) - Date.now() < RENEW_WITHIN_MS) {
        try {
          const renewed = await renewGraphSubscription(
            userId,
            row.subscriptionId,
            new Date(Date.now() + spec.lifetimeMinutes * 60_000).toISOString(),
          );
          await updateSubscription(userId, row.subscriptionId, {
            expiresAt: expiryFrom(renewed),
            renewedAt: new Date().toISOString(),
            failures: 0,
            lastError: '',
          });
          report.renewed += 1;
        } catch (err) {
          if (!isGone(err)) throw err;
          // Gone at Graph (pain point 2: "when renew returned 404 the source stayed dead").
          await removeSubscription(userId, row.subscriptionId, false);
          await appendEvent(userId, {
            service: 'subscription',
            resource: row.key,
            type: 'lost',
            summary: {
              resource: row.key,
              reason: 'renewal_not_found',
            },
          });
          recreate.add(row.key);
          continue;
        }
      }
      fulfilled.add(row.key);
    } catch (err) {
      if (isTokenProblem(err)) return { ...report, skipped: 'reauth_required' };
      fail('renew', row.key, err);
      await updateSubscription(userId, row.subscriptionId, {
        failures: row.failures + 1,
        lastError: errorText(err),
      }).catch(() => undefined);
      fulfilled.add(row.key); // still alive until it expires; the next round retries
    }
  }

  const missing = desired.filter((d) => !fulfilled.has(d.key));
  const results = await Promise.allSettled(missing.map((spec) => createSubscription(userId, spec)));
  for (const [i, result] of results.entries()) {
    const spec = missing[i]!;
    if (result.status === 'rejected') {
      if (isTokenProblem(result.reason)) return { ...report, skipped: 'reauth_required' };
      fail('create', spec.key, result.reason);
      continue;
    }
    if (recreate.has(spec.key)) {
      report.recreated += 1;
      await appendEvent(userId, {
        service: 'subscription',
        resource: spec.key,
        type: 'recovered',
        summary: {
          resource: spec.key,
          reason: 'resubscribed',
        },
      });
      // No notifications arrived in the gap: catch up by delta (§6.5 [INT], §6.6).
      await catchUp(userId, spec.key, syncReason);
    } else report.created += 1;
  }
  log.log(JSON.stringify({ event: 'subscriptions_reconciled', trigger, ...report }));
  return report;
}

/**
 * reauthorizationRequired: make sure a token still works and reauthorize (or renew when the
 * expiry is near anyway). If the user's grant is gone the token vault marks the connection
 * reauth_required; a 401/403 from Graph means the same. A 404 means it is gone: recreate.
 */
export async function reauthorize(userId: string, subscriptionId: string, log: Logger): Promise<void> {
  const row = await getSubscription(userId, subscriptionId);
  if (!row) return; // replaced meanwhile
  try {
    if (Date.parse(row.expiresAt) - Date.now() < RENEW_WITHIN_MS) {
      await reconcileUser(userId, log, 'lifecycle');
    } else {
      await reauthorizeGraphSubscription(userId, subscriptionId);
      log.log(JSON.stringify({ event: 'subscription_reauthorized', key: row.key }));
    }
  } catch (err) {
    if (isGone(err)) {
      await removeSubscription(userId, subscriptionId, false);
      await reconcileUser(userId, log, 'lifecycle');
      await catchUp(userId, row.key, 'lifecycle');
      return;
    }
    if (err instanceof GraphError && (err.status === 401 || err.status === 403)) {
      const connection = await getConnection(userId);
      if (connection)
        await markReauthRequired(connection, 'subscription_reauthorization_denied', undefined, log);
      return;
    }
    if (isTokenProblem(err)) {
      log.warn(JSON.stringify({ event: 'subscription_reauthorize_skipped', reason: (err as Problem).code }));
      return;
    }
    throw err;
  }
}

/** subscriptionRemoved: Graph dropped it; create a new one and catch up what the gap missed. */
export async function replaceRemoved(
  userId: string,
  subscriptionId: string,
  key: string,
  log: Logger,
): Promise<void> {
  await deleteSubscriptionRecord(userId, subscriptionId);
  forgetLookup(subscriptionId);
  await appendEvent(userId, {
    service: 'subscription',
    resource: key,
    type: 'lost',
    summary: { resource: key, reason: 'subscriptionRemoved' },
  });
  const report = await reconcileUser(userId, log, 'lifecycle');
  if (!report.skipped) await catchUp(userId, key, 'lifecycle');
  if ((await listSubscriptions(userId)).some((r) => r.key === key)) {
    await appendEvent(userId, {
      service: 'subscription',
      resource: key,
      type: 'recovered',
      summary: { resource: key, reason: 'resubscribed' },
    });
  }
}

/**
 * A subscription that went quiet (shared/webhooks/silence.ts): delete it (at Graph too, where it
 * may still exist) and create it again. Throws when the new one could not be created.
 */
export async function replaceSubscription(userId: string, key: string, log: Logger): Promise<void> {
  for (const row of (await listSubscriptions(userId)).filter((r) => r.key === key)) {
    await removeSubscription(userId, row.subscriptionId, true).catch(async () => {
      await removeSubscription(userId, row.subscriptionId, false);
    });
  }
  const report = await reconcileUser(userId, log, 'lifecycle');
  const now = (await listSubscriptions(userId)).some((r) => r.key === key);
  if (report.skipped || !now)
    throw new Error(`could not subscribe again (${report.skipped ?? 'create failed'})`);
}

/** missed: some notifications were never delivered; resync the resource fully (§6.6 table). */
export async function catchUpMissed(userId: string, key: string): Promise<void> {
  await catchUp(userId, key, 'lifecycle', true);
}

/** Before disconnect/erasure, while the token still works: delete every subscription at Graph. */
export async function deleteAllSubscriptions(userId: string, log: Logger): Promise<number> {
  let n = 0;
  for (const row of await listSubscriptions(userId)) {
    try {
      await deleteGraphSubscription(userId, row.subscriptionId);
    } catch (err) {
      // Without a token Graph lets it lapse at its expiry; our rows go regardless.
      log.warn(JSON.stringify({ event: 'subscription_delete_failed', key: row.key, error: errorText(err) }));
    }
    await deleteSubscriptionRecord(userId, row.subscriptionId);
    forgetLookup(row.subscriptionId);
    n += 1;
  }
  return n;
}
