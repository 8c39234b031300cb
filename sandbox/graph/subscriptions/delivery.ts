/**
 * How the sandbox talks to a subscriber's endpoints, as Graph does (graph-behaviour.md §6.3, §6.4,
 * §6.6): the validation handshake, changeNotificationCollection POSTs built from store changes
 * (asynchronously, batched per notification URL), retries with backoff when the endpoint fails or
 * is slow, and lifecycle events. Sources: https://learn.microsoft.com/graph/change-notifications-delivery-webhooks,
 * https://learn.microsoft.com/graph/change-notifications-lifecycle-events.
 */
import { randomUUID } from 'node:crypto';
import type { Sandbox } from '../../context';
import { graphState } from '../core';
import { GraphHttpError } from '../errors';
import { graphTimestamp } from '../store';
import {
  subscriptionsState,
  sweepExpired,
  type DeliveryRecord,
  type LifecycleEvent,
  type SandboxSubscription,
} from './model';

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);

/**
 * notificationUrl and lifecycleNotificationUrl must be HTTPS (§6.1). DOCUMENTED DEVIATION: the
 * local Functions host serves plain http on loopback, so the sandbox also accepts http:// URLs
 * whose host is a loopback address; every other http URL is refused as Graph refuses it.
 */
export function checkEndpointUrl(value: unknown, field: string): string {
  if (typeof value !== 'string' || !URL.canParse(value)) {
    throw new GraphHttpError(400, 'InvalidRequest', `${field} must be an absolute URL.`);
  }
  const url = new URL(value);
  const ok = url.protocol === 'https:' || (url.protocol === 'http:' && LOOPBACK.has(url.hostname));
  if (!ok) throw new GraphHttpError(400, 'InvalidRequest', `${field} must be an https URL.`);
  return value;
}

function record(sandbox: Sandbox, entry: Omit<DeliveryRecord, 'at'>): void {
  const state = subscriptionsState(sandbox);
  state.deliveries.push({ at: new Date(sandbox.now()).toISOString(), ...entry });
  if (state.deliveries.length > 5000) state.deliveries.splice(0, state.deliveries.length - 5000);
}

/**
 * The handshake: `POST {url}?validationToken={opaque}` with `text/plain`; the endpoint must
 * answer 200, `text/plain`, the URL-decoded token and nothing else, within 10 s; otherwise the
 * subscription is not created (400). The token has spaces and a colon, like Graph's
 * ("Validation: Testing client application reachability for subscription Request-Id: ..."), so
 * an endpoint that echoes it still encoded fails as it would against Graph.
 */
export async function validateEndpoint(sandbox: Sandbox, url: string): Promise<void> {
  const state = subscriptionsState(sandbox);
  const token = `Validation: Testing client application reachability for subscription Request-Id: ${randomUUID()}`;
  const target = `${url}${url.includes('?') ? '&' : '?'}validationToken=${encodeURIComponent(token)}`;
  const started = performance.now();
  state.stats.validations += 1;
  let status = 0;
  let body = '';
  let contentType = '';
  try {
    const res = await fetch(target, {
      method: 'POST',
      headers: { 'content-type': 'text/plain; charset=utf-8' },
      body: '',
      signal: AbortSignal.timeout(state.settings.validationTimeoutMs),
    });
    status = res.status;
    contentType = res.headers.get('content-type') ?? '';
    body = await res.text();
  } catch (err) {
    state.stats.validationFailures += 1;
    const timedOut = (err as Error).name === 'TimeoutError';
    record(sandbox, {
      url,
      kind: 'validation',
      notifications: 0,
      attempt: 0,
      status: 0,
      durationMs: Math.round(performance.now() - started),
      outcome: timedOut ? 'timeout' : 'failed',
    });
    // Observed wordings: https://github.com/microsoftgraph/nodejs-webhooks-sample/issues/158, /350.
    throw new GraphHttpError(
      400,
      'ValidationError',
      timedOut
        ? 'Subscription validation request timed out.'
        : 'Subscription validation request failed. Notification endpoint must respond with 200 OK to validation request.',
    );
  }
  const ok = status === 200 && /^text\/plain\b/i.test(contentType) && body === token;
  record(sandbox, {
    url,
    kind: 'validation',
    notifications: 0,
    attempt: 0,
    status,
    durationMs: Math.round(performance.now() - started),
    outcome: ok ? 'ok' : 'failed',
  });
  if (!ok) {
    state.stats.validationFailures += 1;
    throw new GraphHttpError(
      400,
      'ValidationError',
      status === 200
        ? 'Subscription validation request failed. Response must exactly match validationToken query parameter.'
        : `Subscription validation request failed. Notification endpoint must respond with 200 OK to validation request. HTTP status code is '${status}'.`,
    );
  }
}

function later(sandbox: Sandbox, ms: number, fn: () => void): void {
  const timers = subscriptionsState(sandbox).timers;
  const handle = setTimeout(() => {
    timers.delete(handle);
    fn();
  }, ms);
  handle.unref?.();
  timers.add(handle);
}

/** Subscribes to the change store once: every change becomes notifications for matching subscriptions. */
export function listenForChanges(sandbox: Sandbox): void {
  const state = subscriptionsState(sandbox);
  if (state.listening) return;
  state.listening = true;
  graphState(sandbox).store.onChange((change) => {
    if (state.subs.size === 0) return;
    const now = sandbox.now();
    for (const sub of state.subs.values()) {
      if (sub.expiresAt <= now || state.silenced.has(sub.id)) continue;
      const hit = sub.target.match(change);
      if (!hit || !sub.changeTypes.includes(hit.changeType)) continue;
      const notification: Record<string, unknown> = {
        id: randomUUID(),
        subscriptionId: sub.id,
        subscriptionExpirationDateTime: graphTimestamp(sub.expiresAt),
        changeType: hit.changeType,
        resource: hit.resource,
        tenantId: sub.tenantId,
        // Echoed in every notification (§6.1); absent when the subscription had none.
        ...(sub.clientState !== null ? { clientState: sub.clientState } : {}),
        ...(hit.resourceData ? { resourceData: hit.resourceData } : {}),
      };
      const list = state.pending.get(sub.notificationUrl) ?? [];
      list.push({ subId: sub.id, notification });
      state.pending.set(sub.notificationUrl, list);
    }
    if (state.pending.size > 0 && !state.flushScheduled) {
      state.flushScheduled = true;
      // Asynchronous, after the request that made the change has been answered (§6.4 latency).
      later(sandbox, 0, () => flush(sandbox));
    }
  });
}

function flush(sandbox: Sandbox): void {
  const state = subscriptionsState(sandbox);
  state.flushScheduled = false;
  sweepExpired(sandbox);
  const batches = [...state.pending.entries()];
  state.pending.clear();
  for (const [url, items] of batches) {
    const live = items.filter((i) => state.subs.has(i.subId)).map((i) => i.notification);
    for (let i = 0; i < live.length; i += state.settings.maxBatch) {
      void deliver(sandbox, url, live.slice(i, i + state.settings.maxBatch), 0, 'notification');
    }
  }
}

/** POSTs one changeNotificationCollection; on failure retries per retryDelaysMs, then drops. */
async function deliver(
  sandbox: Sandbox,
  url: string,
  value: Array<Record<string, unknown>>,
  attempt: number,
  kind: 'notification' | 'lifecycle',
): Promise<void> {
  const state = subscriptionsState(sandbox);
  const started = performance.now();
  let status = 0;
  let outcome: DeliveryRecord['outcome'] = 'failed';
  state.inFlight += 1;
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json; charset=utf-8' },
      body: JSON.stringify({ value }),
      signal: AbortSignal.timeout(state.settings.deliveryTimeoutMs),
    });
    status = res.status;
    await res.arrayBuffer().catch(() => undefined);
    outcome = res.ok ? 'ok' : 'failed';
  } catch (err) {
    outcome = (err as Error).name === 'TimeoutError' ? 'timeout' : 'failed';
  } finally {
    state.inFlight -= 1;
  }
  const durationMs = Math.round(performance.now() - started);
  if (durationMs > state.settings.slowThresholdMs || outcome === 'timeout') state.stats.slow += 1;
  record(sandbox, { url, kind, notifications: value.length, attempt, status, durationMs, outcome });
  if (outcome === 'ok') {
    if (kind === 'notification') {
      state.stats.posts += 1;
      state.stats.delivered += value.length;
    } else state.stats.lifecycleSent += value.length;
    return;
  }
  state.stats.failedAttempts += 1;
  const wait = state.settings.retryDelaysMs[attempt];
  if (wait === undefined) {
    // Graph gives up after about 4 hours and the notifications are lost (§6.4); Outlook
    // subscriptions with a lifecycle URL then hear `missed` (§6.6) so the app can catch up by delta.
    state.stats.dropped += value.length;
    record(sandbox, {
      url,
      kind,
      notifications: value.length,
      attempt,
      status,
      durationMs: 0,
      outcome: 'dropped',
    });
    if (kind === 'notification') {
      const ids = new Set(value.map((n) => String(n.subscriptionId)));
      for (const id of ids) {
        const sub = state.subs.get(id);
        if (sub && ['message', 'event', 'contact'].includes(sub.target.kind))
          sendLifecycle(sandbox, sub, 'missed');
      }
    }
    return;
  }
  state.stats.retries += 1;
  later(sandbox, wait, () => {
    // A subscription deleted meanwhile gets nothing more.
    const still = value.filter((n) => kind === 'lifecycle' || state.subs.has(String(n.subscriptionId)));
    if (still.length > 0) void deliver(sandbox, url, still, attempt + 1, kind);
  });
}

/**
 * A lifecycle notification to the subscription's lifecycleNotificationUrl (§6.6):
 * `{subscriptionId, subscriptionExpirationDateTime, tenantId, clientState, lifecycleEvent}`.
 * Returns false when the subscription has no lifecycle URL (Graph then sends none).
 */
export function sendLifecycle(sandbox: Sandbox, sub: SandboxSubscription, event: LifecycleEvent): boolean {
  if (!sub.lifecycleNotificationUrl) return false;
  const notification = {
    subscriptionId: sub.id,
    subscriptionExpirationDateTime: graphTimestamp(sub.expiresAt),
    tenantId: sub.tenantId,
    ...(sub.clientState !== null ? { clientState: sub.clientState } : {}),
    lifecycleEvent: event,
  };
  void deliver(sandbox, sub.lifecycleNotificationUrl, [notification], 0, 'lifecycle');
  return true;
}
