/**
 * The throttling model (reference §2.3/§2.5, https://learn.microsoft.com/graph/throttling-limits
 * "Outlook service limits"): per app id + mailbox at most 4 requests in flight and 10,000 requests
 * per 10 minutes; beyond either, 429 with Retry-After. Throttled requests still count against the
 * budget ("Graph keeps counting usage while you are throttled", throttling.md), so an immediate
 * retry makes things worse while one after Retry-After succeeds.
 *
 * `rate(key, perSecond)` is the generic sliding one-second limiter for other models (Teams: 4 rps
 * per app per team/channel).
 */

export interface ThrottleSettings {
  /** Requests per (app, mailbox) per window. Default 10,000 (Outlook). */
  requestsPerWindow: number;
  /** Window length in seconds. Default 600. */
  windowSeconds: number;
  /** Requests in flight per (app, mailbox). Default 4. */
  concurrency: number;
  /** When set, the error code for every 429 of this model (§2.2 makes it configurable). */
  code?: string;
  /** Code when over the concurrency limit. Default ApplicationThrottled (observed for Outlook). */
  concurrencyCode: string;
  /** Code when over the request budget. Default TooManyRequests (throttling.md sample). */
  budgetCode: string;
  /** Retry-After (seconds, fractions allowed) for concurrency rejections. Default 0.5. */
  concurrencyRetryAfterSeconds: number;
  /** Simulated service time per Graph request in ms, held while "in flight". Default 0. */
  latencyMs: number;
  /** Switches the mailbox model off entirely. Default true. */
  enabled: boolean;
}

export const DEFAULT_THROTTLE: ThrottleSettings = {
  requestsPerWindow: 10_000,
  windowSeconds: 600,
  concurrency: 4,
  concurrencyCode: 'ApplicationThrottled',
  budgetCode: 'TooManyRequests',
  concurrencyRetryAfterSeconds: 0.5,
  latencyMs: 0,
  enabled: true,
};

export type Admission =
  | { ok: true; concurrency: number; release: () => void }
  | { ok: false; concurrency: number; code: string; message: string; retryAfterSeconds: number };

interface MailboxState {
  inFlight: number;
  /** Start times (sandbox clock, ms) of requests inside the window, oldest first. */
  starts: number[];
}

export class Throttle {
  settings: ThrottleSettings;
  private readonly mailboxes = new Map<string, MailboxState>();
  private readonly rates = new Map<string, number[]>();

  constructor(
    private readonly now: () => number,
    initial: Partial<ThrottleSettings> = {},
  ) {
    this.settings = { ...DEFAULT_THROTTLE, ...initial };
  }

  update(patch: Partial<ThrottleSettings>): ThrottleSettings {
    this.settings = { ...this.settings, ...patch };
    return this.settings;
  }

  /** Forgets counters and budgets (in-flight gauges stay, their requests are still running). */
  resetCounters(): void {
    for (const state of this.mailboxes.values()) state.starts.length = 0;
    this.rates.clear();
  }

  /**
   * Admits a request for (client id, mailbox) or says why not. The caller must call `release()`
   * when an admitted request finishes.
   */
  admitMailbox(clientId: string, mailbox: string): Admission {
    const s = this.settings;
    const key = `${clientId}|${mailbox}`;
    let state = this.mailboxes.get(key);
    if (!state) {
      state = { inFlight: 0, starts: [] };
      this.mailboxes.set(key, state);
    }
    const now = this.now();
    const windowMs = s.windowSeconds * 1000;
    while (state.starts.length > 0 && (state.starts[0] ?? 0) <= now - windowMs) state.starts.shift();
    const concurrency = state.inFlight + 1;
    if (!s.enabled) return this.admit(state, concurrency);

    state.starts.push(now);
    if (state.starts.length > s.requestsPerWindow) {
      // Enough of the oldest requests must leave the window for this one to fit.
      const mustExpire = state.starts[state.starts.length - 1 - s.requestsPerWindow] ?? now;
      return {
        ok: false,
        concurrency,
        code: s.code ?? s.budgetCode,
        message: 'Please retry again later.',
        retryAfterSeconds: Math.max(1, Math.ceil((mustExpire + windowMs - now) / 1000)),
      };
    }
    if (concurrency > s.concurrency) {
      return {
        ok: false,
        concurrency,
        code: s.code ?? s.concurrencyCode,
        // Observed wording (graph-behaviour.md §2.2, magodo/terraform-provider-outlook#21).
        message: 'Application is over its MailboxConcurrency limit.',
        retryAfterSeconds: s.concurrencyRetryAfterSeconds,
      };
    }
    return this.admit(state, concurrency);
  }

  private admit(state: MailboxState, concurrency: number): Admission {
    state.inFlight += 1;
    let released = false;
    return {
      ok: true,
      concurrency,
      release: () => {
        if (released) return;
        released = true;
        state.inFlight -= 1;
      },
    };
  }

  /**
   * A sliding one-second rate limit on any key (e.g. `teams:${clientId}:${teamId}:${channelId}`,
   * 4 rps per reference §2.3). Returns undefined when admitted, else the Retry-After in seconds.
   */
  rate(key: string, perSecond: number): number | undefined {
    const now = this.now();
    let starts = this.rates.get(key);
    if (!starts) {
      starts = [];
      this.rates.set(key, starts);
    }
    while (starts.length > 0 && (starts[0] ?? 0) <= now - 1000) starts.shift();
    if (starts.length >= perSecond) {
      const oldest = starts[starts.length - perSecond] ?? now;
      return Math.max(0.001, (oldest + 1000 - now) / 1000);
    }
    starts.push(now);
    return undefined;
  }

  /** Requests in flight for (client id, mailbox), for tests and diagnostics. */
  inFlight(clientId: string, mailbox: string): number {
    return this.mailboxes.get(`${clientId}|${mailbox}`)?.inFlight ?? 0;
  }
}
