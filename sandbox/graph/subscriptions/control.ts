/**
 * Control routes for change notifications (under /_sandbox/, tests and demos only):
 * - `GET /_sandbox/subscriptions`: every live subscription (clientState is not shown);
 * - `GET /_sandbox/subscriptions/stats`: delivery counters (posts, delivered, failed attempts,
 *   retries, dropped, answers slower than 2.9 s, lifecycle events, validations), `outstanding`
 *   (notifications still to be answered: queued, on their way or waiting for a retry) and the last
 *   deliveries (`?last=N`, default 50); `DELETE` resets the counters;
 * - `GET|PUT /_sandbox/subscriptions/settings`: maxima, retry delays (compress them for tests),
 *   timeouts, batch size, per-mailbox quota;
 * - `POST /_sandbox/subscriptions/{id}/lifecycle {event}`: sends `reauthorizationRequired`,
 *   `subscriptionRemoved` (the subscription is removed first, as Graph does) or `missed` (§6.6);
 * - `DELETE /_sandbox/subscriptions/{id}`: the service drops a subscription silently (renewal
 *   then gets 404, §6.5).
 * - `PUT /_sandbox/subscriptions/silence {user, silent}`: the user's current subscriptions go
 *   quiet (their notifications are never sent, with no lifecycle event), or speak again.
 */
import type { Sandbox } from '../../context';
import { empty, json } from '../../http';
import { graphTimestamp } from '../store';
import { sendLifecycle } from './delivery';
import {
  DEFAULT_SETTINGS,
  emptyStats,
  subscriptionsState,
  sweepExpired,
  type LifecycleEvent,
  type SubscriptionSettings,
} from './model';

const EVENTS: readonly LifecycleEvent[] = ['reauthorizationRequired', 'subscriptionRemoved', 'missed'];

export function installSubscriptionsControl(sandbox: Sandbox): void {
  const c = sandbox.control;
  const state = () => subscriptionsState(sandbox);

  c.on('GET', '/subscriptions', () => {
    sweepExpired(sandbox);
    return json(200, {
      value: [...state().subs.values()].map((s) => ({
        id: s.id,
        resource: s.resource,
        kind: s.target.kind,
        userId: s.target.userId ?? null,
        changeType: s.changeTypes.join(','),
        notificationUrl: s.notificationUrl,
        lifecycleNotificationUrl: s.lifecycleNotificationUrl,
        expirationDateTime: graphTimestamp(s.expiresAt),
        applicationId: s.applicationId,
        creatorId: s.creatorId,
        hasClientState: s.clientState !== null,
        needsReauthorization: s.needsReauthorization,
      })),
    });
  });

  c.on('GET', '/subscriptions/stats', (ctx) => {
    const last = Math.max(0, Number(ctx.query.get('last') ?? 50) || 0);
    // `outstanding`: notifications not yet answered or waiting (flush, retry): 0 when all went out.
    const s = state();
    const outstanding =
      s.inFlight + s.timers.size + [...s.pending.values()].reduce((n, l) => n + l.length, 0);
    return json(200, { ...s.stats, outstanding, deliveries: s.deliveries.slice(-last) });
  });
  c.on('DELETE', '/subscriptions/stats', () => {
    state().stats = emptyStats();
    state().deliveries = [];
    return empty(204);
  });

  c.on('GET', '/subscriptions/settings', () => json(200, state().settings));
  c.on('PUT', '/subscriptions/settings', async (ctx) => {
    const body = await ctx.json<Partial<SubscriptionSettings> & { reset?: boolean }>();
    const base = body.reset ? DEFAULT_SETTINGS : state().settings;
    const { reset: _reset, ...rest } = body;
    state().settings = {
      ...base,
      ...rest,
      maxMinutes: { ...base.maxMinutes, ...(rest.maxMinutes ?? {}) },
    };
    return json(200, state().settings);
  });

  c.on('PUT', '/subscriptions/silence', async (ctx) => {
    const body = await ctx.json<{ user?: string; silent?: boolean }>();
    const user = sandbox.directory.findUser(body?.user ?? '');
    if (!user) return json(404, { error: 'user (id or UPN) not found' });
    // The user's data, or (chats and channels have no one owner) the subscriptions they created.
    const ids = [...state().subs.values()]
      .filter((s) => (s.target.userId ?? s.creatorId) === user.id)
      .map((s) => s.id);
    for (const id of ids) {
      if (body.silent === false) state().silenced.delete(id);
      else state().silenced.add(id);
    }
    return json(200, { silenced: [...state().silenced].filter((id) => ids.includes(id)) });
  });

  c.on('POST', '/subscriptions/:id/lifecycle', async (ctx) => {
    sweepExpired(sandbox);
    const sub = state().subs.get(ctx.params.id ?? '');
    if (!sub) return json(404, { error: 'no such subscription' });
    const { event } = await ctx.json<{ event?: LifecycleEvent }>();
    if (!event || !EVENTS.includes(event))
      return json(400, { error: `event must be one of ${EVENTS.join(', ')}` });
    if (event === 'subscriptionRemoved') state().subs.delete(sub.id);
    if (event === 'reauthorizationRequired') sub.needsReauthorization = true;
    const sent = sendLifecycle(sandbox, sub, event);
    return json(202, { sent });
  });

  c.on('DELETE', '/subscriptions/:id', (ctx) => {
    const existed = state().subs.delete(ctx.params.id ?? '');
    return existed ? empty(204) : json(404, { error: 'no such subscription' });
  });
}
