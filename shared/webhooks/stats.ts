/**
 * Per-instance counters of the webhook pipeline (what was accepted, dropped and why, what the
 * worker did). Logged by the worker; read in-process by tests and the benchmark.
 */
export const webhookStats = {
  accepted: 0,
  dropped: {
    malformed: 0,
    unknown_subscription: 0,
    client_state_missing: 0,
    client_state_mismatch: 0,
    unknown_lifecycle_event: 0,
    lookup_budget: 0,
  },
  /** Notifications the worker processed (lifecycle events excluded). */
  processed: 0,
  /** sync-jobs messages enqueued for notifications, and notifications folded into one already pending. */
  syncJobs: 0,
  coalesced: 0,
  lifecycle: { reauthorizationRequired: 0, subscriptionRemoved: 0, missed: 0 },
  /** Every notification the worker saw, by resource id (tests check duplicates/reordering). */
  resourceIds: new Map<string, number>(),
};

export function resetWebhookStats(): void {
  webhookStats.accepted = 0;
  for (const k of Object.keys(webhookStats.dropped) as Array<keyof typeof webhookStats.dropped>)
    webhookStats.dropped[k] = 0;
  webhookStats.processed = 0;
  webhookStats.syncJobs = 0;
  webhookStats.coalesced = 0;
  for (const k of Object.keys(webhookStats.lifecycle) as Array<keyof typeof webhookStats.lifecycle>)
    webhookStats.lifecycle[k] = 0;
  webhookStats.resourceIds.clear();
}
