/**
 * Change-notification tunables and the resource kinds they are set for (graph-behaviour.md §6).
 * Its own module so the sandbox's options (context.ts) can name them without importing the
 * subscription model.
 */
export type ResourceKind =
  'message' | 'event' | 'contact' | 'driveItem' | 'list' | 'todoTask' | 'chatMessage';

/** Tunables; defaults follow §6.2–6.4. Set with SandboxOptions.subscriptions or PUT /_sandbox/subscriptions/settings. */
export interface SubscriptionSettings {
  /** Maximum lifetime per resource kind in minutes (§6.2, lifetime include ms.date 11/07/2024). */
  maxMinutes: Record<ResourceKind, number>;
  /** Outlook resources with includeResourceData (rich notifications): under 1 day. */
  richOutlookMaxMinutes: number;
  /** "A value less than 45 minutes from now is automatically set to 45 minutes from now." */
  minMinutes: number;
  /** Waits between delivery attempts; Graph retries for up to 4 hours, then drops (§6.4). */
  retryDelaysMs: number[];
  /** Graph's HTTP client timeout for a notification POST (3 s). */
  deliveryTimeoutMs: number;
  /** An answer slower than this counts as slow (2,900 ms, change-notifications-delivery-webhooks.md). */
  slowThresholdMs: number;
  /** The validation handshake must answer within 10 s (validation include). */
  validationTimeoutMs: number;
  /** At most this many notifications in one changeNotificationCollection POST. */
  maxBatch: number;
  /** Outlook: at most 1,000 active subscriptions per mailbox across apps (§6.7). */
  maxPerMailbox: number;
}

export const DEFAULT_SETTINGS: SubscriptionSettings = {
  maxMinutes: {
    message: 10080,
    event: 10080,
    contact: 10080,
    todoTask: 4230,
    chatMessage: 4320,
    driveItem: 42300,
    // SharePoint list: 42,300 minutes, as drive items (§6.2 lifetime table).
    list: 42300,
  },
  richOutlookMaxMinutes: 1440,
  minMinutes: 45,
  // About 3.8 h in total: Graph "retries for up to 4 hours" with growing gaps.
  retryDelaysMs: [60_000, 120_000, 300_000, 600_000, 1_800_000, 3_600_000, 3_600_000, 3_600_000],
  deliveryTimeoutMs: 3000,
  slowThresholdMs: 2900,
  validationTimeoutMs: 10_000,
  maxBatch: 100,
  maxPerMailbox: 1000,
};
