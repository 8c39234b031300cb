/**
 * Graph change-notification subscriptions (graph-behaviour.md §6): create with the validation
 * handshake to both URLs, get, list, renew (PATCH), reauthorize, delete; per-resource maximum
 * lifetimes with the 45-minute floor; expiry on the sandbox clock; notifications for matching
 * store changes (delivery.ts) and lifecycle events on demand (control routes in
 * control.ts). Which resources can be subscribed: model.ts.
 *
 * Docs: https://learn.microsoft.com/graph/api/subscription-post-subscriptions,
 * https://learn.microsoft.com/graph/api/subscription-update,
 * https://learn.microsoft.com/graph/api/resources/subscription.
 */
import type { Sandbox } from '../../context';
import { empty, json } from '../../http';
import { graphRoute, impliedScopes, type GraphCtx } from '../core';
import { GraphHttpError } from '../errors';
import { graphTimestamp } from '../store';
import { installSubscriptionsControl } from './control';
import { checkEndpointUrl, listenForChanges, validateEndpoint } from './delivery';
import {
  APP_ROLES,
  DELEGATED_SCOPES,
  newSubscriptionId,
  parseResource,
  subscriptionsState,
  sweepExpired,
  type ChangeType,
  type ParsedResource,
  type SandboxSubscription,
} from './model';

export { subscriptionsState } from './model';
export type { DeliveryStats, SubscriptionSettings } from './model';

const OUTLOOK_KINDS = new Set(['message', 'event', 'contact']);
const CHANGE_TYPES: readonly ChangeType[] = ['created', 'updated', 'deleted'];

const invalid = (message: string) => new GraphHttpError(400, 'InvalidRequest', message);
const notFoundSub = () => new GraphHttpError(404, 'ResourceNotFound', 'The object was not found.');

function hasAny(granted: readonly string[], required: readonly string[]): boolean {
  const implied = new Set<string>();
  for (const g of granted) for (const s of impliedScopes(g)) implied.add(s);
  return required.some((r) => implied.has(r.toLowerCase()));
}

/** Subscribing needs read permission on the resource (§6.1); todoTask is delegated-only (§6.8). */
function checkPermission(ctx: GraphCtx, target: ParsedResource): void {
  const required = ctx.auth.appOnly ? APP_ROLES[target.kind] : DELEGATED_SCOPES[target.kind];
  const granted = ctx.auth.appOnly ? (ctx.auth.roles ?? []) : ctx.auth.scopes;
  if (!hasAny(granted, required)) {
    throw new GraphHttpError(
      403,
      'ExtensionError',
      `Operation: Create; Exception: [Status Code: Forbidden; Reason: The caller lacks the permission to subscribe to this resource; one of '${required.join(', ') || 'delegated permissions'}' is required.]`,
    );
  }
  // Outlook: delegated permissions subscribe only to the signed-in user's own mailbox (§6.1).
  if (!ctx.auth.appOnly && OUTLOOK_KINDS.has(target.kind) && target.userId !== ctx.auth.userId) {
    throw new GraphHttpError(403, 'ExtensionError', 'Access is denied. Check credentials and try again.');
  }
}

function parseChangeTypes(value: unknown): ChangeType[] {
  if (typeof value !== 'string' || !value.trim()) throw invalid('changeType is required.');
  const list = value.split(',').map((s) => s.trim());
  for (const t of list)
    if (!CHANGE_TYPES.includes(t as ChangeType)) throw invalid(`Invalid changeType '${t}'.`);
  return [...new Set(list)] as ChangeType[];
}

/** The expiry Graph keeps: over the maximum → 400; under 45 minutes → 45 minutes (§6.1, §6.2). */
function expiryFor(ctx: GraphCtx, value: unknown, target: ParsedResource, rich: boolean): number {
  if (typeof value !== 'string' || Number.isNaN(Date.parse(value))) {
    throw invalid('expirationDateTime is required and must be an ISO 8601 date and time.');
  }
  const settings = subscriptionsState(ctx.sandbox).settings;
  const max =
    rich && OUTLOOK_KINDS.has(target.kind)
      ? settings.richOutlookMaxMinutes
      : settings.maxMinutes[target.kind];
  const now = ctx.sandbox.now();
  const requested = Date.parse(value);
  // Observed wording: https://github.com/microsoftgraph/microsoft-graph-docs/issues/2988.
  if (requested > now + max * 60_000) {
    throw new GraphHttpError(
      400,
      'ExtensionError',
      `Subscription expiration can only be ${max} minutes in the future.`,
    );
  }
  return Math.max(requested, now + settings.minMinutes * 60_000);
}

function render(sub: SandboxSubscription): Record<string, unknown> {
  return {
    id: sub.id,
    resource: sub.resource,
    applicationId: sub.applicationId,
    changeType: sub.changeTypes.join(','),
    clientState: sub.clientState,
    notificationUrl: sub.notificationUrl,
    notificationQueryOptions: null,
    lifecycleNotificationUrl: sub.lifecycleNotificationUrl,
    expirationDateTime: graphTimestamp(sub.expiresAt),
    creatorId: sub.creatorId,
    includeResourceData: sub.includeResourceData,
    latestSupportedTlsVersion: sub.latestSupportedTlsVersion,
    encryptionCertificate: null,
    encryptionCertificateId: null,
    notificationUrlAppId: null,
  };
}

function entity(ctx: GraphCtx, sub: SandboxSubscription, status = 200) {
  return json(status, {
    '@odata.context': `${ctx.sandbox.graphBaseUrl}/$metadata#subscriptions/$entity`,
    ...render(sub),
  });
}

/** The calling app sees its own subscriptions; a delegated caller those created for them (§6.5 List). */
function visible(ctx: GraphCtx, sub: SandboxSubscription): boolean {
  return sub.applicationId === ctx.auth.clientId && (ctx.auth.appOnly || sub.creatorId === ctx.auth.userId);
}

function findSub(ctx: GraphCtx): SandboxSubscription {
  sweepExpired(ctx.sandbox);
  const sub = subscriptionsState(ctx.sandbox).subs.get(ctx.params.id ?? '');
  if (!sub || !visible(ctx, sub)) throw notFoundSub();
  return sub;
}

export function installSubscriptions(sandbox: Sandbox): void {
  // Restored subscriptions (a persisted sandbox, sandbox/persist.ts) notify from the first change.
  if (subscriptionsState(sandbox).subs.size > 0) listenForChanges(sandbox);
  const options = {
    // Any read permission of a subscribable resource gets past the gateway; the handler then
    // checks the one the resource needs.
    scopes: {
      anyOf: [...new Set(Object.values(DELEGATED_SCOPES).flat())],
      app: [...new Set(Object.values(APP_ROLES).flat())],
    },
    workload: 'generic' as const,
    throttle: 'none' as const,
  };
  subscriptionsState(sandbox);
  listenForChanges(sandbox);
  installSubscriptionsControl(sandbox);

  graphRoute(sandbox, 'POST', '/subscriptions', options, async (ctx) => {
    const body = await ctx.json<Record<string, unknown>>();
    sweepExpired(ctx.sandbox);
    const state = subscriptionsState(ctx.sandbox);
    const changeTypes = parseChangeTypes(body.changeType);
    if (typeof body.resource !== 'string' || !body.resource.trim()) throw invalid('resource is required.');
    const notificationUrl = checkEndpointUrl(body.notificationUrl, 'notificationUrl');
    const lifecycleNotificationUrl =
      body.lifecycleNotificationUrl === undefined || body.lifecycleNotificationUrl === null
        ? null
        : checkEndpointUrl(body.lifecycleNotificationUrl, 'lifecycleNotificationUrl');
    const clientState = body.clientState === undefined || body.clientState === null ? null : body.clientState;
    if (clientState !== null && (typeof clientState !== 'string' || clientState.length > 128)) {
      throw invalid('clientState must be a string of at most 128 characters.');
    }
    const rich = body.includeResourceData === true;
    if (rich && typeof body.encryptionCertificate !== 'string') {
      throw invalid('encryptionCertificate is required when includeResourceData is true.');
    }
    const target = parseResource(ctx.sandbox, body.resource, ctx.caller);
    checkPermission(ctx, target);
    if (target.kind === 'driveItem' && changeTypes.some((t) => t !== 'updated')) {
      // "Drive root and SharePoint list support only updated" (§6.1).
      throw invalid("Only 'updated' changeType is supported for driveItem subscriptions.");
    }
    const expiresAt = expiryFor(ctx, body.expirationDateTime, target, rich);
    if (
      target.kind === 'chatMessage' &&
      !lifecycleNotificationUrl &&
      expiresAt > ctx.sandbox.now() + 3600_000
    ) {
      // https://learn.microsoft.com/graph/teams-changenotifications-chatmessage (§6.8).
      throw invalid(
        'lifecycleNotificationUrl is a required property for subscription creation on this resource when the expirationDateTime value is set to greater than 1 hour.',
      );
    }
    if (OUTLOOK_KINDS.has(target.kind) && target.userId) {
      const inMailbox = [...state.subs.values()].filter(
        (s) => OUTLOOK_KINDS.has(s.target.kind) && s.target.userId === target.userId,
      ).length;
      if (inMailbox >= state.settings.maxPerMailbox) {
        throw new GraphHttpError(
          403,
          'ExtensionError',
          `Operation: Create; Exception: [Status Code: Forbidden; Reason: The maximum number of ${state.settings.maxPerMailbox} subscriptions per mailbox has been reached.]`,
        );
      }
    }
    // Both URLs are validated, even when they are the same (two requests, §6.3).
    await validateEndpoint(ctx.sandbox, notificationUrl);
    if (lifecycleNotificationUrl) await validateEndpoint(ctx.sandbox, lifecycleNotificationUrl);
    const sub: SandboxSubscription = {
      id: newSubscriptionId(),
      resource: body.resource,
      changeTypes,
      notificationUrl,
      lifecycleNotificationUrl,
      clientState,
      expiresAt,
      applicationId: ctx.auth.clientId,
      creatorId: ctx.auth.userId,
      tenantId: ctx.auth.tenantId,
      includeResourceData: rich,
      latestSupportedTlsVersion:
        typeof body.latestSupportedTlsVersion === 'string' ? body.latestSupportedTlsVersion : 'v1_2',
      needsReauthorization: false,
      target,
    };
    state.subs.set(sub.id, sub);
    return entity(ctx, sub, 201);
  });

  graphRoute(sandbox, 'GET', '/subscriptions', options, (ctx) => {
    sweepExpired(ctx.sandbox);
    const subs = [...subscriptionsState(ctx.sandbox).subs.values()].filter((s) => visible(ctx, s));
    return json(200, {
      '@odata.context': `${ctx.sandbox.graphBaseUrl}/$metadata#subscriptions`,
      value: subs.map(render),
    });
  });

  // POST /subscriptions/{id}/reauthorize → 204 (lifecycle doc, §6.5).
  graphRoute(sandbox, 'POST', '/subscriptions/:id/reauthorize', options, (ctx) => {
    const sub = findSub(ctx);
    checkPermission(ctx, sub.target);
    sub.needsReauthorization = false;
    return empty(204);
  });

  graphRoute(sandbox, 'GET', '/subscriptions/:id', options, (ctx) => entity(ctx, findSub(ctx)));

  // Renew: PATCH {expirationDateTime} → 200; renewing also reauthorizes (§6.5).
  graphRoute(sandbox, 'PATCH', '/subscriptions/:id', options, async (ctx) => {
    const sub = findSub(ctx);
    const body = await ctx.json<Record<string, unknown>>();
    if ('lifecycleNotificationUrl' in body) {
      // It "can only be set at creation time" (§6.1).
      throw invalid(
        'lifecycleNotificationUrl cannot be updated; delete the subscription and create it again.',
      );
    }
    checkPermission(ctx, sub.target);
    const expiresAt =
      body.expirationDateTime !== undefined
        ? expiryFor(ctx, body.expirationDateTime, sub.target, sub.includeResourceData)
        : sub.expiresAt;
    if (body.notificationUrl !== undefined && body.notificationUrl !== sub.notificationUrl) {
      const url = checkEndpointUrl(body.notificationUrl, 'notificationUrl');
      await validateEndpoint(ctx.sandbox, url);
      sub.notificationUrl = url;
    }
    sub.expiresAt = expiresAt;
    sub.needsReauthorization = false;
    return entity(ctx, sub);
  });

  graphRoute(sandbox, 'DELETE', '/subscriptions/:id', options, (ctx) => {
    const sub = findSub(ctx);
    subscriptionsState(ctx.sandbox).subs.delete(sub.id);
    return empty(204);
  });
}
