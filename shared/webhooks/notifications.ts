/**
 * What the webhook does with a changeNotificationCollection (graph-behaviour.md §6.4, style.md
 * 14): parse, check each item's clientState against the stored hash in constant time, drop the
 * ones that fail with a security log line (never an error status: Graph backs off and delivery
 * stops, peers.md pain point 3), and put the valid ones on the `graph-notifications` queue.
 * If the queue (or the lookup) cannot be written/read the caller answers 503, so Graph retries:
 * nothing is lost silently.
 */
import { z } from 'zod';
import { enqueue } from '../storage/clients';
import { chatOfNotification } from '../sync/teams';
import { clientStateMatches } from './client-state';
import { lookupSubscription } from './lookup-cache';
import type { Logger } from './manager';
import { webhookStats } from './stats';

/** A notification of the user's chat subscription runs its own chat's round (shared/sync/teams.ts). */
function chatRound(key: string, resource: string | undefined): { sync?: string } {
  if (key !== 'teams:chats') return {};
  const chat = chatOfNotification(resource);
  return chat ? { sync: chat } : {};
}

export const NOTIFICATIONS_QUEUE = 'graph-notifications';
export const LIFECYCLE_EVENTS = ['reauthorizationRequired', 'subscriptionRemoved', 'missed'] as const;
export type LifecycleEvent = (typeof LIFECYCLE_EVENTS)[number];

/** One accepted notification, as the worker gets it (ids only, never resource data). */
export interface QueuedNotification {
  subscriptionId: string;
  userId: string;
  key: string;
  changeType?: string;
  lifecycleEvent?: LifecycleEvent;
  resourceId?: string;
  /** The round this notification runs when not its subscription's own (a chat of `teams:chats`). */
  sync?: string;
}

export interface NotificationMessage {
  v: 1;
  receivedAt: string;
  items: QueuedNotification[];
}

const Collection = z.object({ value: z.array(z.unknown()).max(5000) }).passthrough();

/** Graph subscription ids are GUIDs (subscription.md); anything else is not Graph. */
const SUBSCRIPTION_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/**
 * The work an anonymous request can cause is bounded: at most this many distinct subscriptions are
 * looked up per request (Graph batches notifications of a few subscriptions per POST), 16 at a
 * time. Items beyond it are dropped with 202 (the delta-sync timer catches up on anything real).
 */
const MAX_LOOKUPS_PER_REQUEST = 100;
const LOOKUP_CONCURRENCY = 16;

const Item = z
  .object({
    subscriptionId: z.string().regex(SUBSCRIPTION_ID),
    clientState: z.string().nullish(),
    changeType: z.string().max(100).optional(),
    resource: z.string().max(1000).optional(),
    lifecycleEvent: z.string().max(100).optional(),
    resourceData: z
      .object({ id: z.string().max(1000).optional() })
      .passthrough()
      .nullish(),
  })
  .passthrough();

/** Queue messages are at most 64 KB (base64 inflates by 4/3): a few hundred ids each. */
const ITEMS_PER_MESSAGE = 150;

export class NotificationsUnavailable extends Error {
  constructor(override readonly cause: unknown) {
    super('notifications could not be persisted');
    this.name = 'NotificationsUnavailable';
  }
}

export interface AcceptResult {
  accepted: number;
  dropped: number;
}

type DropReason =
  | 'malformed'
  | 'unknown_subscription'
  | 'client_state_missing'
  | 'client_state_mismatch'
  | 'unknown_lifecycle_event'
  | 'lookup_budget';

/** Parses and checks a notification body; returns what was accepted. Throws NotificationsUnavailable. */
export async function acceptNotifications(
  body: unknown,
  route: 'notifications' | 'lifecycle',
  log: Logger,
): Promise<AcceptResult> {
  const parsed = Collection.safeParse(body);
  if (!parsed.success) {
    const drops = new Drops();
    drops.add('malformed');
    drops.log(log, route);
    return { accepted: 0, dropped: 1 };
  }
  const accepted: QueuedNotification[] = [];
  const drops = new Drops();
  const items: Array<z.infer<typeof Item>> = [];
  for (const raw of parsed.data.value) {
    const item = Item.safeParse(raw);
    if (item.success) items.push(item.data);
    else drops.add('malformed');
  }
  // Distinct subscriptions, looked up a few at a time (one Table read each at most).
  const ids = [...new Set(items.map((n) => n.subscriptionId))].slice(0, MAX_LOOKUPS_PER_REQUEST);
  const lookups = new Map<string, Awaited<ReturnType<typeof lookupSubscription>>>();
  try {
    for (let i = 0; i < ids.length; i += LOOKUP_CONCURRENCY) {
      const chunk = ids.slice(i, i + LOOKUP_CONCURRENCY);
      const found = await Promise.all(chunk.map((id) => lookupSubscription(id)));
      chunk.forEach((id, j) => lookups.set(id, found[j]));
    }
  } catch (err) {
    throw new NotificationsUnavailable(err);
  }
  for (const n of items) {
    if (!lookups.has(n.subscriptionId)) {
      drops.add('lookup_budget', n.subscriptionId);
      continue;
    }
    const lookup = lookups.get(n.subscriptionId);
    const reason: DropReason | undefined = !lookup
      ? 'unknown_subscription'
      : n.clientState === undefined || n.clientState === null || n.clientState === ''
        ? 'client_state_missing'
        : !clientStateMatches(n.clientState, lookup.clientStateHash)
          ? 'client_state_mismatch'
          : n.lifecycleEvent !== undefined &&
              !(LIFECYCLE_EVENTS as readonly string[]).includes(n.lifecycleEvent)
            ? 'unknown_lifecycle_event'
            : undefined;
    if (reason || !lookup) {
      drops.add(reason ?? 'unknown_subscription', n.subscriptionId);
      continue;
    }
    accepted.push({
      subscriptionId: n.subscriptionId,
      userId: lookup.userId,
      key: lookup.key,
      ...(n.lifecycleEvent ? { lifecycleEvent: n.lifecycleEvent as LifecycleEvent } : {}),
      ...(n.changeType ? { changeType: n.changeType } : {}),
      ...(n.resourceData?.id ? { resourceId: n.resourceData.id } : {}),
      ...chatRound(lookup.key, n.resource),
    });
  }
  drops.log(log, route);
  const dropped = drops.total;
  try {
    await persist(accepted);
  } catch (err) {
    throw new NotificationsUnavailable(err);
  }
  webhookStats.accepted += accepted.length;
  return { accepted: accepted.length, dropped };
}

/**
 * Group commit: notifications accepted by concurrent webhook requests share queue messages. At
 * most MAX_WRITES messages are in flight; what arrives meanwhile waits and goes out together, so
 * a burst costs a few queue writes instead of one per request. Each request still answers only
 * after its own notifications are stored (or fails with them), so nothing is acknowledged unstored.
 */
const MAX_WRITES = 4;
let writing = 0;
let flushScheduled = false;
const waiting: Array<{ items: QueuedNotification[]; done: (err?: unknown) => void }> = [];

function persist(items: QueuedNotification[]): Promise<void> {
  if (items.length === 0) return Promise.resolve();
  return new Promise<void>((resolve, reject) => {
    waiting.push({
      items,
      done: (err) =>
        err
          ? reject(err instanceof Error ? err : new Error('queue write failed', { cause: err }))
          : resolve(),
    });
    scheduleFlush();
  });
}

function scheduleFlush(): void {
  if (flushScheduled || writing >= MAX_WRITES || waiting.length === 0) return;
  flushScheduled = true;
  // The next turn of the event loop: requests parsed in this turn join the same message.
  setImmediate(() => {
    flushScheduled = false;
    while (writing < MAX_WRITES && waiting.length > 0) {
      const batch: typeof waiting = [];
      let count = 0;
      while (
        waiting.length > 0 &&
        (batch.length === 0 || count + waiting[0]!.items.length <= ITEMS_PER_MESSAGE)
      ) {
        const next = waiting.shift()!;
        batch.push(next);
        count += next.items.length;
      }
      void writeBatch(batch);
    }
  });
}

async function writeBatch(batch: typeof waiting): Promise<void> {
  writing += 1;
  try {
    const items = batch.flatMap((b) => b.items);
    const receivedAt = new Date().toISOString();
    const writes: Array<Promise<void>> = [];
    for (let i = 0; i < items.length; i += ITEMS_PER_MESSAGE) {
      const message: NotificationMessage = { v: 1, receivedAt, items: items.slice(i, i + ITEMS_PER_MESSAGE) };
      writes.push(enqueue(NOTIFICATIONS_QUEUE, message));
    }
    await Promise.all(writes);
    for (const b of batch) b.done();
  } catch (err) {
    for (const b of batch) b.done(err);
  } finally {
    writing -= 1;
    scheduleFlush();
  }
}

/**
 * Dropped items of one request, logged as one security line (counts per reason and a few ids),
 * however many a forged request carries. Never the clientState itself.
 */
class Drops {
  total = 0;
  private readonly counts: Partial<Record<DropReason, number>> = {};
  private readonly sample: string[] = [];
  add(reason: DropReason, subscriptionId?: string): void {
    this.total += 1;
    webhookStats.dropped[reason] += 1;
    this.counts[reason] = (this.counts[reason] ?? 0) + 1;
    if (subscriptionId && this.sample.length < 5 && !this.sample.includes(subscriptionId))
      this.sample.push(subscriptionId);
  }
  log(log: Logger, route: string): void {
    if (this.total === 0) return;
    const reasons = Object.keys(this.counts) as DropReason[];
    log.warn(
      JSON.stringify({
        event: 'webhook_notification_dropped',
        security: true,
        route,
        // The single reason keeps the line's shape for one drop (dashboards filter on it).
        ...(reasons.length === 1 ? { reason: reasons[0] } : {}),
        dropped: this.total,
        counts: this.counts,
        ...(this.sample.length ? { subscriptionId: this.sample[0], subscriptionIds: this.sample } : {}),
      }),
    );
  }
}
