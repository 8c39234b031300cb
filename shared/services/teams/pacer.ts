/**
 * Our side of Teams' per-channel limit: "at most 4 requests per second per app on a given team
 * or channel" (reference §2.3, https://learn.microsoft.com/graph/throttling-limits#microsoft-teams-service-limits).
 * Every Teams call on a team or channel runs through `paceTeams(key, fn)`, so a burst of posts is
 * spread out here instead of being answered with 429s (the chokepoint still retries any 429 that
 * slips through, e.g. from another instance).
 *
 * The window is anchored on when earlier requests *finished*, not when they were sent: Graph
 * counts a request when it arrives, which is after we send it and before we get its answer. A
 * request sent at least one window after the answer to the request `limit` places before it
 * therefore always arrives more than a window after that one arrived, whatever the network
 * jitter or the time a request waits in the chokepoint (token, mailbox limit) before leaving.
 *
 * The key is the team or channel alone (not the user): Graph's limit is per app, so two users of
 * the same instance posting to one channel share its budget. Per instance only; other instances
 * are covered by the chokepoint's 429 retry.
 */

interface KeyState {
  inFlight: number;
  /** Finish times (ms) of recent requests, oldest first. */
  finishes: number[];
  queue: Array<() => void>;
  /** Pumps the key when the oldest finish leaves the window. */
  timer?: NodeJS.Timeout;
  /** Forgets an idle key once its window has passed. */
  idleTimer?: NodeJS.Timeout;
}

export class WindowPacer {
  private readonly states = new Map<string, KeyState>();

  constructor(
    readonly limit: number,
    readonly windowMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Runs `fn` once the key has room: at most `limit` requests per window, FIFO. */
  async run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const state = this.state(key);
    await new Promise<void>((resolve) => {
      state.queue.push(resolve);
      this.pump(key, state);
    });
    try {
      return await fn();
    } finally {
      state.inFlight -= 1;
      state.finishes.push(this.now());
      this.pump(key, state);
    }
  }

  /** Keys with state (tests and diagnostics). */
  get size(): number {
    return this.states.size;
  }

  private state(key: string): KeyState {
    let state = this.states.get(key);
    if (!state) {
      state = { inFlight: 0, finishes: [], queue: [] };
      this.states.set(key, state);
    }
    return state;
  }

  private pump(key: string, state: KeyState): void {
    if (state.idleTimer) {
      clearTimeout(state.idleTimer);
      state.idleTimer = undefined;
    }
    if (state.timer) return; // a timer is already due to pump this key
    const now = this.now();
    // A finish exactly one window ago no longer counts (Graph's window drops starts <= now - window).
    while (state.finishes.length > 0 && (state.finishes[0] ?? 0) <= now - this.windowMs)
      state.finishes.shift();
    while (state.queue.length > 0 && state.inFlight + state.finishes.length < this.limit) {
      state.inFlight += 1;
      state.queue.shift()?.();
    }
    if (state.queue.length > 0 && state.finishes.length > 0) {
      const wait = (state.finishes[0] ?? now) + this.windowMs - now + 1;
      state.timer = setTimeout(() => {
        state.timer = undefined;
        this.pump(key, state);
      }, wait);
      state.timer.unref?.();
    } else if (state.queue.length === 0 && state.inFlight === 0) {
      // Idle: forget the key once its window has passed (keeps the map small).
      const last = state.finishes.at(-1);
      if (last === undefined) this.states.delete(key);
      else {
        state.idleTimer = setTimeout(
          () => {
            state.idleTimer = undefined;
            if (state.queue.length === 0 && state.inFlight === 0) this.states.delete(key);
          },
          last + this.windowMs - now + 1,
        );
        state.idleTimer.unref?.();
      }
    }
    // Otherwise every slot is in flight: the next finish pumps again.
  }
}

/** ≤ 4 requests per second per team or channel, per instance (reference §2.3). */
export const teamsPacer = new WindowPacer(4, 1000);

/** Pacing keys: a team (team-level calls) or a channel of a team. */
export const paceKey = {
  team: (teamId: string) => `team:${teamId.toLowerCase()}`,
  channel: (teamId: string, channelId: string) => `channel:${teamId.toLowerCase()}:${channelId}`,
};

export async function paceTeams<T>(key: string, fn: () => Promise<T>): Promise<T> {
  return await teamsPacer.run(key, fn);
}
