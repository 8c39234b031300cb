/**
 * Load under throttling (issue 13): N users run a mix of actions for a fixed time while the
 * sandbox answers a share of all Graph requests with 429 (FaultSpec.probability). Loopback only,
 * bounded in users, time and in-flight requests (one per user), stops by itself.
 *
 * Mix per step: 40% todo.createTask, 30% todo.listTasks, 15% todo.getTask of an own earlier
 * task, 15% profile.getMe. Afterwards every task whose create answered 201 is read back
 * (no lost writes). Reported: status counts, 5xx (all of our making: the sandbox injects only
 * 429s), p50/p99 latency, throughput, Graph requests and how many were throttled.
 *
 * `npm run bench -- load` runs 50 users for 60 s; test/e2e/reliability-load.test.ts runs a
 * scaled-down version inside `npm test`.
 */
import { startAppHarness, type TestApp } from '../scripts/harness';
import { percentile, round, type BenchResult } from './harness';

export interface LoadOptions {
  users: number;
  durationMs: number;
  /** Share of Graph requests the sandbox throttles (0–1). */
  throttleProbability: number;
  /** Retry-After the throttled answers carry (seconds). */
  retryAfterSeconds?: number;
}

export interface LoadReport {
  users: number;
  durationMs: number;
  requests: number;
  byStatus: Record<string, number>;
  /** Answers with status >= 500 (none may come from Graph here: only 429s are injected). */
  serverErrors: number;
  /** Throttled answers that reached a caller (retry budget exhausted). */
  throttledToCaller: number;
  creates: number;
  /** Tasks whose create succeeded but which could not be read back. */
  lost: string[];
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  throughputPerSecond: number;
  graphRequests: number;
  graphThrottled: number;
  actions: Record<string, number>;
}

const sandboxCall = async (t: TestApp, method: string, path: string, body?: unknown): Promise<unknown> => {
  const res = await fetch(`${t.sandbox.url}/_sandbox${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`sandbox ${method} ${path}: ${res.status} ${text}`);
  return text ? (JSON.parse(text) as unknown) : undefined;
};

/** Creates (once) and connects `count` load users from number `from`; returns their platform user ids. */
export async function connectLoadUsers(t: TestApp, count: number, from = 0): Promise<string[]> {
  const ids: string[] = [];
  for (let i = from; i < from + count; i++) {
    const upn = `load.user${i}@contoso.test`;
    if (!t.sandbox.directory.findUser(upn)) {
      await sandboxCall(t, 'POST', '/users', { userPrincipalName: upn, displayName: `Load User ${i}` });
    }
    ids.push(await t.connect(upn, { features: ['todo'], userId: `load-user-${i}` }));
  }
  return ids;
}

interface Created {
  userId: string;
  listId: string;
  id: string;
}

/** Runs the load against a started harness (the caller owns it). */
export async function runLoad(t: TestApp, options: LoadOptions): Promise<LoadReport> {
  const users = await connectLoadUsers(t, options.users);
  const latencies: number[] = [];
  const byStatus: Record<string, number> = {};
  const actions: Record<string, number> = {};
  const created: Created[] = [];
  const fromSeq = t.sandbox.log.lastSeq;
  await sandboxCall(t, 'POST', '/faults', {
    path: '^/v1\\.0/',
    status: 429,
    headers: { 'retry-after': String(options.retryAfterSeconds ?? 0.2) },
    probability: options.throttleProbability,
    count: 1_000_000,
  });
  const started = Date.now();
  const deadline = started + options.durationMs;
  let seq = 0;

  const step = async (userId: string, own: Created[]): Promise<void> => {
    const r = Math.random();
    let action: string;
    let path: string;
    let body: unknown;
    if (r < 0.4) {
      action = 'createTask';
      path = '/todo/createTask';
      body = { title: `load task ${userId} ${++seq}` };
    } else if (r < 0.7) {
      action = 'listTasks';
      path = '/todo/listTasks';
      body = { top: 10 };
    } else if (r < 0.85 && own.length > 0) {
      const pick = own[Math.floor(Math.random() * own.length)]!;
      action = 'getTask';
      path = '/todo/getTask';
      body = { listId: pick.listId, taskId: pick.id };
    } else {
      action = 'getMe';
      path = '/profile/getMe';
      body = {};
    }
    const s = performance.now();
    const res = await t.call(userId, 'POST', path, body, { 'cache-control': 'no-cache' });
    const text = await res.text();
    latencies.push(performance.now() - s);
    byStatus[res.status] = (byStatus[res.status] ?? 0) + 1;
    actions[action] = (actions[action] ?? 0) + 1;
    if (action === 'createTask' && res.status === 201) {
      const task = JSON.parse(text) as { id: string; listId: string };
      const entry = { userId, listId: task.listId, id: task.id };
      own.push(entry);
      created.push(entry);
    }
  };

  await Promise.all(
    users.map(async (userId) => {
      const own: Created[] = [];
      while (Date.now() < deadline) {
        try {
          await step(userId, own);
        } catch {
          byStatus.transport = (byStatus.transport ?? 0) + 1;
        }
      }
    }),
  );
  const elapsedMs = Date.now() - started;
  await sandboxCall(t, 'DELETE', '/faults');
  // Graph traffic of the run itself (the product's calls, retries and background syncs).
  const graph = t.sandbox.log.since(fromSeq).filter((e) => e.path.startsWith('/v1.0/'));

  // No lost writes: every task whose create answered 201 is readable afterwards.
  const lost: string[] = [];
  for (let i = 0; i < created.length; i += 10) {
    await Promise.all(
      created.slice(i, i + 10).map(async (c) => {
        const res = await t.call(c.userId, 'POST', '/todo/getTask', { listId: c.listId, taskId: c.id });
        await res.text();
        if (res.status !== 200) lost.push(`${c.userId}/${c.id}: ${res.status}`);
      }),
    );
  }

  const requests = latencies.length;
  return {
    users: options.users,
    durationMs: elapsedMs,
    requests,
    byStatus,
    serverErrors: Object.entries(byStatus)
      .filter(([status]) => Number(status) >= 500)
      .reduce((n, [, c]) => n + c, 0),
    throttledToCaller: byStatus['429'] ?? 0,
    creates: created.length,
    lost,
    p50Ms: round(percentile(latencies, 50)),
    p99Ms: round(percentile(latencies, 99)),
    maxMs: round(Math.max(...latencies)),
    throughputPerSecond: round(requests / (elapsedMs / 1000)),
    graphRequests: graph.length,
    graphThrottled: graph.filter((e) => e.status === 429).length,
    actions,
  };
}

/** The benchmark: 50 users, 60 s, 10% of Graph requests throttled. */
export async function load(
  options: LoadOptions = { users: 50, durationMs: 60_000, throttleProbability: 0.1 },
): Promise<BenchResult[]> {
  const t = await startAppHarness();
  try {
    const r = await runLoad(t, options);
    const detail = {
      users: r.users,
      seconds: round(r.durationMs / 1000, 1),
      requests: r.requests,
      byStatus: r.byStatus,
      serverErrors: r.serverErrors,
      throttledToCaller: r.throttledToCaller,
      creates: r.creates,
      lostWrites: r.lost.length,
      p99Ms: r.p99Ms,
      maxMs: r.maxMs,
      graphRequests: r.graphRequests,
      graphThrottled: r.graphThrottled,
      throttledShare: round(r.graphThrottled / Math.max(1, r.graphRequests), 3),
      actions: r.actions,
    };
    return [
      { name: 'load: p50 latency, 50 users, 10% of Graph throttled', value: r.p50Ms, unit: 'ms', detail },
      {
        name: 'load: p99 latency, 50 users, 10% of Graph throttled',
        value: r.p99Ms,
        unit: 'ms',
        detail: { requests: r.requests },
      },
      {
        name: 'load: throughput, 50 users, 10% of Graph throttled',
        value: r.throughputPerSecond,
        unit: 'actions/s',
        detail: { requests: r.requests, serverErrors: r.serverErrors, lostWrites: r.lost.length },
      },
    ];
  } finally {
    await t.stop();
  }
}
