/**
 * `npm run bench -- soak` (issue 38): 2,000 simulated users on the sandbox for 10 minutes,
 * loopback only and bounded (one request in flight per user, a think time between actions, a fixed
 * end). Each user acts about once every 5 minutes, a busy hour all along (To Do reads, writes and
 * deletes, profile reads; the cost model's default user makes 25 actions a day); the
 * sync timer ticks from the start at the product's cadence (15 minutes, notified resources every
 * 4 ticks, each user's turn and delay spread by hash over the tick; SOAK_TICK_MINUTES compresses
 * it to stress the background) and the renewal timer fires once, so the design's background work
 * runs alongside. Sampled every 5 seconds: live heap (after a full GC; `npm run bench` runs with
 * --expose-gc), event-loop delay, a Table Storage round trip, the depth of every queue the app
 * consumes and how long its front message has waited. Reported: whether memory and queues stay
 * flat (the second half against the first), and p50/p99 per action. Compressed 3 and 15 times,
 * 2,000 users' rounds outran what one process and one Azurite drain (docs/scale.md).
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { startAppHarness, type TestApp } from '../scripts/harness';
import { tableClient } from '../shared/storage/clients';
import { sampleQueues } from '../shared/storage/queue-metrics';
import { CHANGES_QUEUE } from '../shared/sync/feed';
import { percentile, round, type BenchResult } from './harness';
import { connectLoadUsers } from './load';

export interface SoakOptions {
  users: number;
  durationMs: number;
  /** Mean think time between one user's actions. */
  thinkMs: number;
  /** Connects in parallel while setting up. */
  connectConcurrency: number;
  /** The sync timer's (compressed) tick. */
  tickMinutes: number;
}

const DEFAULTS: SoakOptions = {
  users: 2000,
  durationMs: 10 * 60_000,
  thinkMs: 5 * 60_000,
  connectConcurrency: 16,
  tickMinutes: 15,
};

interface Sample {
  atSeconds: number;
  liveHeapMb: number;
  rssMb: number;
  loopDelayP99Ms: number;
  storageMs: number;
  queued: number;
  oldestWaitS: number;
  actionsSoFar: number;
}

const began = Date.now();
/** A progress line on stderr (the results go to stdout): a long run shows where it is. */
const progress = (line: string): void => {
  process.stderr.write(`[soak ${((Date.now() - began) / 1000).toFixed(0)} s] ${line}\n`);
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Messages in the queues the app consumes, and how long the front visible one has waited: delayed
 * messages (the timer's spread jobs) count but never look old, so a growing wait is a backlog.
 */
async function queues(): Promise<{ queued: number; oldestWaitS: number }> {
  // The change feed's queue is the platform's to read; poison queues are kept for operators.
  const consumed = (await sampleQueues()).filter(
    (q) => q.queue !== CHANGES_QUEUE && !q.queue.endsWith('-poison'),
  );
  return {
    queued: consumed.reduce((n, q) => n + q.depth, 0),
    oldestWaitS: Math.max(0, ...consumed.map((q) => q.oldestAgeSeconds)),
  };
}

async function storageRoundTrip(): Promise<number> {
  const client = await tableClient('connections');
  const started = performance.now();
  await client.getEntity('soak-probe', 'none').catch(() => undefined); // a 404 is a round trip too
  return performance.now() - started;
}

const liveHeapMb = (): number => {
  (globalThis as { gc?: () => void }).gc?.();
  return process.memoryUsage().heapUsed / 1e6;
};

/** Connects the users in parallel batches (their sandbox accounts are created as needed). */
async function connectAll(t: TestApp, users: number, concurrency: number): Promise<string[]> {
  const ids: string[] = [];
  for (let start = 0; start < users; start += concurrency) {
    const batch = Math.min(concurrency, users - start);
    const got = await Promise.all(
      Array.from({ length: batch }, async (_, k) => (await connectLoadUsers(t, 1, start + k))[0]!),
    );
    ids.push(...got);
    if (ids.length % 100 < batch) progress(`connected ${ids.length}/${users}`);
  }
  return ids;
}

export async function soak(options: Partial<SoakOptions> = {}): Promise<BenchResult[]> {
  const o = { ...DEFAULTS, ...options };
  // The product's spread and ratios (safety net every 4 ticks), on a compressed tick.
  const t = await startAppHarness({
    env: {
      SYNC_INTERVAL_MINUTES: String(o.tickMinutes),
      SYNC_SAFETY_NET_MINUTES: String(4 * o.tickMinutes),
      SUBSCRIPTION_RECONCILE_MINUTES: '120',
      TIMER_SPREAD_MINUTES: String(o.tickMinutes),
    },
  });
  try {
    const setupStarted = Date.now();
    const users = await connectAll(t, o.users, o.connectConcurrency);
    const setupSeconds = (Date.now() - setupStarted) / 1000;

    const latencies: Record<string, number[]> = {};
    const statuses: Record<string, number> = {};
    let actions = 0;
    const samples: Sample[] = [];
    const delay = monitorEventLoopDelay({ resolution: 10 });
    delay.enable();
    const started = Date.now();
    const deadline = started + o.durationMs;

    const act = async (userId: string, i: number, own: Array<{ listId: string; id: string }>) => {
      const r = Math.random();
      let name: string;
      let res: Response;
      const s = performance.now();
      // A user keeps at most 3 tasks of its own (the oldest is deleted first): the mailbox, which
      // lives in this process's sandbox, stays the same size, so the heap measures the app.
      if (r < 0.2 && own.length >= 3) {
        name = 'deleteTask';
        const oldest = own.shift()!;
        res = await t.call(userId, 'POST', '/todo/deleteTask', { listId: oldest.listId, taskId: oldest.id });
      } else if (r < 0.2) {
        name = 'createTask';
        res = await t.call(
          userId,
          'POST',
          '/todo/createTask',
          { title: `soak ${i}` },
          { 'idempotency-key': `soak-${userId}-${i}` },
        );
      } else if (r < 0.8) {
        name = 'listTasks';
        res = await t.call(userId, 'POST', '/todo/listTasks', { top: 10 }, { 'cache-control': 'no-cache' });
      } else if (r < 0.9 && own.length > 0) {
        name = 'getTask';
        const pick = own[Math.floor(Math.random() * own.length)]!;
        res = await t.call(userId, 'POST', '/todo/getTask', { listId: pick.listId, taskId: pick.id });
      } else {
        name = 'getMe';
        res = await t.call(userId, 'POST', '/profile/getMe', {}, { 'cache-control': 'no-cache' });
      }
      const text = await res.text();
      (latencies[name] ??= []).push(performance.now() - s);
      statuses[res.status] = (statuses[res.status] ?? 0) + 1;
      actions += 1;
      if (name === 'createTask' && res.status === 201) {
        const task = JSON.parse(text) as { id: string; listId: string };
        own.push({ listId: task.listId, id: task.id });
      }
    };

    const userLoop = async (userId: string) => {
      const own: Array<{ listId: string; id: string }> = [];
      // Start spread over the first think time, then act about once per think time.
      await sleep(Math.random() * o.thinkMs);
      for (let i = 0; Date.now() < deadline; i++) {
        try {
          await act(userId, i, own);
        } catch {
          statuses.transport = (statuses.transport ?? 0) + 1;
        }
        // The last think time ends at the deadline, not after it.
        await sleep(Math.min(o.thinkMs * (0.5 + Math.random()), Math.max(0, deadline - Date.now())));
      }
    };

    // The sync timer every (compressed) tick from the start; the renewal timer once, halfway, as
    // its 30-minute schedule would fire about once in the compressed run.
    const tickMs = o.tickMinutes * 60_000;
    const timers = (async () => {
      for (let tick = 0; started + tick * tickMs < deadline; tick++) {
        await sleep(Math.max(0, started + tick * tickMs - Date.now()));
        await t.host.invoke('syncTimer').catch(() => undefined);
        if (tick === Math.floor(o.durationMs / tickMs / 2))
          await t.host.invoke('subscriptionRenewalTimer').catch(() => undefined);
      }
    })();

    const sampler = (async () => {
      while (Date.now() < deadline) {
        await sleep(5000);
        // The delay first: the full GC the heap figure needs is a pause of our making, left out.
        const loopDelayP99Ms = round(delay.percentile(99) / 1e6, 1);
        const heap = round(liveHeapMb(), 1);
        delay.reset();
        samples.push({
          atSeconds: Math.round((Date.now() - started) / 1000),
          liveHeapMb: heap,
          rssMb: round(process.memoryUsage().rss / 1e6, 1),
          loopDelayP99Ms,
          storageMs: round(await storageRoundTrip(), 1),
          ...(await queues()),
          actionsSoFar: actions,
        });
        const last = samples[samples.length - 1]!;
        if (samples.length % 6 === 0)
          progress(
            `${last.atSeconds} s: ${actions} actions, heap ${last.liveHeapMb} MB, loop p99 ${last.loopDelayP99Ms} ms, storage ${last.storageMs} ms, queued ${last.queued}, oldest waiting ${last.oldestWaitS} s`,
          );
      }
    })();

    await Promise.all([...users.map(userLoop), timers, sampler]);
    delay.disable();
    return report(o, users.length, setupSeconds, samples, latencies, statuses, actions);
  } finally {
    await t.stop();
  }
}

function report(
  o: SoakOptions,
  users: number,
  setupSeconds: number,
  samples: Sample[],
  latencies: Record<string, number[]>,
  statuses: Record<string, number>,
  actions: number,
): BenchResult[] {
  const half = Math.floor(samples.length / 2);
  const first = samples.slice(1, half); // the first sample still holds the start-up's garbage
  const second = samples.slice(half);
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(xs.length, 1);
  const heapRatio =
    mean(second.map((s) => s.liveHeapMb)) / Math.max(mean(first.map((s) => s.liveHeapMb)), 1e-9);
  const perAction = Object.fromEntries(
    Object.entries(latencies).map(([k, v]) => [
      k,
      { n: v.length, p50Ms: round(percentile(v, 50), 1), p99Ms: round(percentile(v, 99), 1) },
    ]),
  );
  const serverErrors = Object.entries(statuses)
    .filter(([k]) => Number(k) >= 500)
    .reduce((n, [, v]) => n + v, 0);
  const storage = samples.map((s) => s.storageMs);
  const detail = {
    users,
    minutes: o.durationMs / 60_000,
    setupSeconds: round(setupSeconds, 0),
    actions,
    actionsPerSecond: round(actions / (o.durationMs / 1000), 1),
    byStatus: statuses,
    serverErrors,
    perAction,
    liveHeapMb: {
      first: round(mean(first.map((s) => s.liveHeapMb)), 1),
      second: round(mean(second.map((s) => s.liveHeapMb)), 1),
    },
    maxLoopDelayP99Ms: Math.max(...samples.map((s) => s.loopDelayP99Ms)),
    storageMs: { p50: round(percentile(storage, 50), 1), p99: round(percentile(storage, 99), 1) },
    queued: { max: Math.max(...samples.map((s) => s.queued)), last: samples.at(-1)?.queued ?? 0 },
    oldestWaitS: {
      max: Math.max(...samples.map((s) => s.oldestWaitS)),
      last: samples.at(-1)?.oldestWaitS ?? 0,
    },
    setup: `one process: app (local host), sandbox; Azurite in a child process; timers at a ${o.tickMinutes}-minute tick`,
  };
  const table = [
    '| Second | Live heap MB | RSS MB | Event-loop delay p99 ms | Storage round trip ms | Queued messages | Oldest waiting s | Actions so far |',
    '|---|---|---|---|---|---|---|---|',
    ...samples
      .filter((_, i) => i % 6 === 5)
      .map(
        (s) =>
          `| ${s.atSeconds} | ${s.liveHeapMb} | ${s.rssMb} | ${s.loopDelayP99Ms} | ${s.storageMs} | ${s.queued} | ${s.oldestWaitS} | ${s.actionsSoFar} |`,
      ),
    '',
    `Per action: ${Object.entries(perAction)
      .map(([k, v]) => `${k} ${v.n} calls, p50 ${v.p50Ms} ms, p99 ${v.p99Ms} ms`)
      .join('; ')}.`,
  ].join('\n');
  return [
    {
      name: `soak: ${users} users for ${o.durationMs / 60_000} minutes, live heap second half / first half`,
      value: round(heapRatio, 2),
      unit: 'ratio',
      detail,
      section: {
        title: `Soak: ${users} users for ${o.durationMs / 60_000} minutes (npm run bench -- soak)`,
        markdown: table,
      },
    },
  ];
}
