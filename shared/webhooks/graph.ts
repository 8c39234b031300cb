/**
 * The Graph subscription calls, all through the chokepoint with the user's id
 * (graph-behaviour.md §6.1, §6.5): create, renew (PATCH), reauthorize, delete (404 = already
 * gone), list. Responses are parsed, never cast (style.md 5).
 * https://learn.microsoft.com/graph/api/resources/subscription
 */
import { z } from 'zod';
import { graphRequest, GraphError, seg, type CallOptions } from '../graph/client';

const Subscription = z
  .object({
    id: z.string().min(1),
    resource: z.string(),
    expirationDateTime: z.string().refine((v) => !Number.isNaN(Date.parse(v)), 'not a date'),
    notificationUrl: z.string().optional(),
  })
  .passthrough();
export type GraphSubscription = z.infer<typeof Subscription>;

const SubscriptionList = z.object({
  value: z.array(Subscription),
  '@odata.nextLink': z.string().optional(),
});

export interface CreateRequest {
  resource: string;
  changeType: string;
  notificationUrl: string;
  lifecycleNotificationUrl: string;
  clientState: string;
  expirationDateTime: string;
}

export async function createGraphSubscription(
  userId: string,
  request: CreateRequest,
  opts: CallOptions = {},
): Promise<GraphSubscription> {
  const res = await graphRequest(
    userId,
    {
      method: 'POST',
      url: '/subscriptions',
      body: { ...request, latestSupportedTlsVersion: 'v1_2' },
    },
    opts,
  );
  return Subscription.parse(res.body);
}

/** Renewing also reauthorizes (§6.5). The absolute expiry makes the PATCH safe to retry. */
export async function renewGraphSubscription(
  userId: string,
  subscriptionId: string,
  expirationDateTime: string,
  opts: CallOptions = {},
): Promise<GraphSubscription> {
  const res = await graphRequest(
    userId,
    {
      method: 'PATCH',
      url: `/subscriptions/${seg(subscriptionId)}`,
      body: { expirationDateTime },
      idempotent: true,
    },
    opts,
  );
  return Subscription.parse(res.body);
}

/** POST /subscriptions/{id}/reauthorize → 204 (lifecycle doc). */
export async function reauthorizeGraphSubscription(
  userId: string,
  subscriptionId: string,
  opts: CallOptions = {},
): Promise<void> {
  await graphRequest(
    userId,
    { method: 'POST', url: `/subscriptions/${seg(subscriptionId)}/reauthorize`, idempotent: true },
    opts,
  );
}

/** DELETE → 204; a 404 means it is already gone, which is what we wanted (style.md 16). */
export async function deleteGraphSubscription(
  userId: string,
  subscriptionId: string,
  opts: CallOptions = {},
): Promise<void> {
  try {
    await graphRequest(userId, { method: 'DELETE', url: `/subscriptions/${seg(subscriptionId)}` }, opts);
  } catch (err) {
    if (err instanceof GraphError && err.status === 404) return;
    throw err;
  }
}

/** The subscriptions Graph holds for this app and user (§6.5 List). */
export async function listGraphSubscriptions(
  userId: string,
  opts: CallOptions = {},
): Promise<GraphSubscription[]> {
  const out: GraphSubscription[] = [];
  let url: string | undefined = '/subscriptions';
  for (let page = 0; url && page < 50; page++) {
    const body = SubscriptionList.parse((await graphRequest(userId, { method: 'GET', url }, opts)).body);
    out.push(...body.value);
    url = body['@odata.nextLink'];
  }
  return out;
}

export function isGone(err: unknown): boolean {
  return err instanceof GraphError && err.status === 404;
}
