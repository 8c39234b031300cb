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
import { clientStateMatches } from './client-state';
import { lookupSubscription } from './lookup-cache';
import type { Logger } from './manager';
import { webhookStats } from './stats';

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
}

export interface NotificationMessage {
  v: 1;
  receivedAt: string;
  items: QueuedNotification[];
}

const Collection = z.object({ value: z.array(z.unknown()).max(5000) }).passthrough();

const Item = z
  .object({
    subscriptionId: z.string().min(1).max(200),
    clientState: z.string().nullish(),
    changeType: z.string().max(100).optional(),
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
  | 'unknown_lifecycle_event';

/** Parses and checks a notification body; returns what was accepted. Throws NotificationsUnavailable. */
export async function acceptNotifications(
  body: unknown,
  route: 'notifications' | 'lifecycle',
  log: Logger,
): Promise<AcceptResult> {
  const parsed = Collection.safeParse(body);
  if (!parsed.success) {
    drop(log, route, 'malformed');
    return { accepted: 0, dropped: 1 };
  }
  const accepted: QueuedNotification[] = [];
  let dropped = 0;
  for (const raw of parsed.data.value) {
    const item = Item.safeParse(raw);
    if (!item.success) {
      drop(log, route, 'malformed');
      dropped += 1;
      continue;
    }
    const n = item.data;
    let lookup;
    try {
      lookup = await lookupSubscription(n.subscriptionId);
    } catch (err) {
      throw new NotificationsUnavailable(err);
    }
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
      drop(log, route, reason ?? 'unknown_subscription', n.subscriptionId);
      dropped += 1;
      continue;
    }
    accepted.push({
      subscriptionId: n.subscriptionId,
      userId: lookup.userId,
      key: lookup.key,
      ...(n.lifecycleEvent ? { lifecycleEvent: n.lifecycleEvent as LifecycleEvent } : {}),
      ...(n.changeType ? { changeType: n.changeType } : {}),
      ...(n.resourceData?.id ? { resourceId: n.resourceData.id } : {}),
    });
  }
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

function drop(log: Logger, route: string, reason: DropReason, subscriptionId?: string): void {
  webhookStats.dropped[reason] += 1;
  // A security event: someone may be forging notifications. Never the clientState itself.
  log.warn(
    JSON.stringify({ event: 'webhook_notification_dropped', security: true, route, reason, subscriptionId }),
  );
}
