/**
 * The webhook's per-instance cache of subscription lookups (owner, key, clientState hash), so a
 * burst of notifications costs one Table read per subscription rather than one per notification.
 * Only hits are cached: an unknown id is read again next time (a subscription created a moment
 * ago must not be refused for minutes). Deleting a subscription forgets its entry here; other
 * instances keep theirs at most TTL_MS, and the worker tolerates notifications for a subscription
 * that is gone (its sync job is harmless).
 */
import { getLookup, type SubscriptionLookup } from './store';

const TTL_MS = 5 * 60_000;
const MAX_ENTRIES = 10_000;
const entries = new Map<string, { value: SubscriptionLookup; expiresAt: number }>();
const inflight = new Map<string, Promise<SubscriptionLookup | undefined>>();

export async function lookupSubscription(subscriptionId: string): Promise<SubscriptionLookup | undefined> {
  const hit = entries.get(subscriptionId);
  if (hit && hit.expiresAt > performance.now()) return hit.value;
  let pending = inflight.get(subscriptionId);
  if (!pending) {
    pending = getLookup(subscriptionId).finally(() => inflight.delete(subscriptionId));
    inflight.set(subscriptionId, pending);
  }
  const value = await pending;
  if (value) {
    if (entries.size >= MAX_ENTRIES) entries.delete(entries.keys().next().value!);
    entries.set(subscriptionId, { value, expiresAt: performance.now() + TTL_MS });
  }
  return value;
}

export function forgetLookup(subscriptionId: string): void {
  entries.delete(subscriptionId);
}
