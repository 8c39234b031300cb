/**
 * Graph usage, per user and in total: requests, 429s, retries and time spent waiting. Emitted as
 * structured log lines (Application Insights custom metrics via the host's logging) and summarised
 * in the health report as the recent throttling rate, so throttling can be monitored.
 */
import { contributeHealthMetrics } from '../health';

interface Sample {
  at: number;
  throttled: boolean;
}

const WINDOW_MS = 5 * 60 * 1000;
const recent: Sample[] = [];
const totals = { requests: 0, throttled: 0, retries: 0, retryWaitMs: 0 };
const perUser = new Map<
  string,
  { requests: number; throttled: number; retries: number; retryWaitMs: number }
>();

function prune(now: number): void {
  while (recent.length > 0 && recent[0]!.at < now - WINDOW_MS) recent.shift();
}

export function recordGraphResponse(userId: string, status: number): void {
  const now = Date.now();
  const throttled = status === 429;
  recent.push({ at: now, throttled });
  if (recent.length > 50000) recent.splice(0, recent.length - 50000);
  prune(now);
  totals.requests++;
  if (throttled) totals.throttled++;
  const u = perUser.get(userId) ?? { requests: 0, throttled: 0, retries: 0, retryWaitMs: 0 };
  u.requests++;
  if (throttled) u.throttled++;
  perUser.set(userId, u);
}

export function recordRetry(userId: string, waitMs: number): void {
  totals.retries++;
  totals.retryWaitMs += waitMs;
  const u = perUser.get(userId) ?? { requests: 0, throttled: 0, retries: 0, retryWaitMs: 0 };
  u.retries++;
  u.retryWaitMs += waitMs;
  perUser.set(userId, u);
}

export function usageSnapshot(userId?: string) {
  prune(Date.now());
  const throttledRecent = recent.filter((s) => s.throttled).length;
  return {
    totals: { ...totals },
    recent: {
      windowSeconds: WINDOW_MS / 1000,
      requests: recent.length,
      throttled: throttledRecent,
      throttlingRate: recent.length ? Number((throttledRecent / recent.length).toFixed(4)) : 0,
    },
    ...(userId
      ? { user: { ...(perUser.get(userId) ?? { requests: 0, throttled: 0, retries: 0, retryWaitMs: 0 }) } }
      : {}),
  };
}

contributeHealthMetrics(() => ({ graph: usageSnapshot().recent }));
