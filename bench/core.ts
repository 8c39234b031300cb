/**
 * Benchmarks of the Graph chokepoint and the actions framework (issue: Graph chokepoint):
 * per-action overhead of the function layer against a direct Graph call to the sandbox, cold
 * start of the whole app against a bare @azure/functions import, Graph requests used by a
 * 100-action batch, and Graph requests saved by the read cache in a typical assistant session.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { startSandbox } from '../sandbox';
import { flushAudit } from '../shared/audit';
import { resetConfig } from '../shared/config';
import { FUNCTION_KEY, startAppHarness, projectRoot } from '../scripts/harness';
import { median, round, type BenchResult } from './harness';

function sandboxLog(url: string, since: number): Promise<Array<{ seq: number; path: string }>> {
  return fetch(`${url}/_sandbox/requests?since=${since}`)
    .then((r) => r.json())
    .then((b: { value: Array<{ seq: number; path: string }> }) => b.value);
}

async function lastSeq(url: string): Promise<number> {
  const b = (await fetch(`${url}/_sandbox/requests?since=0`).then((r) => r.json())) as { lastSeq: number };
  return b.lastSeq;
}

/**
 * Cold start, each figure the median of `runs` fresh processes, all under the stand-in for the
 * Functions worker (scripts/worker-standin.cjs), so every entry registers with a host as in Azure:
 * - bare: `require('@azure/functions')`, the floor;
 * - package index: the deployment package's entry (`npm run package`), which registers every
 *   function from its manifest: what a new instance does before it can take a request;
 * - package first invocation: index, then the app bundle the first invocation loads;
 * - sources: every compiled function file loaded, as the package.json glob did before the bundle.
 */
export async function coldStart(runs = 7): Promise<BenchResult[]> {
  const root = projectRoot();
  const pkg = join(root, '.local', 'bench-package', 'app');
  execFileSync(process.execPath, [join(root, 'scripts', 'package.mjs'), '--out', pkg, '--no-zip'], {
    cwd: root,
    stdio: 'ignore',
  });
  const standin = join(root, 'scripts', 'worker-standin.cjs');
  const time = (code: string) => {
    const samples: number[] = [];
    for (let i = 0; i < runs; i++) {
      const out = execFileSync(
        process.execPath,
        [
          '-r',
          standin,
          '-e',
          `const t=process.hrtime.bigint();${code};console.log(Number(process.hrtime.bigint()-t)/1e6)`,
        ],
        { cwd: root, env: { ...process.env, NODE_NO_WARNINGS: '1' } },
      );
      samples.push(Number(String(out).trim().split('\n').pop()));
    }
    return median(samples);
  };
  const main = JSON.stringify(join(pkg, 'dist', 'main.js'));
  const bare = time("require('@azure/functions')");
  const index = time(`require(${main})`);
  const first = time(
    `require(${main});require(${JSON.stringify(join(pkg, 'dist', 'app.js'))}).registrations()`,
  );
  const sources = time(
    `require(${JSON.stringify(join(root, 'dist', 'shared', 'runtime', 'load.js'))}).loadFunctions()`,
  );
  return [
    {
      name: 'cold start: package entry registering every function vs bare @azure/functions',
      value: round(index / bare),
      unit: 'ratio',
      detail: { indexMs: round(index), bareMs: round(bare), runs, goal: 'at most 2' },
    },
    {
      name: 'cold start: package entry + the app bundle its first invocation loads vs bare @azure/functions',
      value: round(first / bare),
      unit: 'ratio',
      detail: { firstInvocationMs: round(first), appLoadMs: round(first - index), bareMs: round(bare), runs },
    },
    {
      name: 'cold start: every compiled function file (no bundle) vs bare @azure/functions',
      value: round(sources / bare),
      unit: 'ratio',
      detail: { sourcesMs: round(sources), bareMs: round(bare), runs },
    },
  ];
}

/** The sandbox (identity, Graph, Key Vault over HTTPS, seeded tenant) from nothing to serving. */
export async function sandboxStart(runs = 7): Promise<BenchResult> {
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    const sandbox = await startSandbox({ port: 0 });
    const res = await fetch(`${sandbox.url}/_sandbox/health`);
    samples.push(performance.now() - t0);
    if (res.status !== 200) throw new Error(`sandbox health answered ${res.status}`);
    await sandbox.stop();
  }
  return {
    name: 'sandbox start to first answer (HTTPS, seeded tenant), median',
    value: round(median(samples)),
    unit: 'ms',
    detail: {
      minMs: round(Math.min(...samples)),
      maxMs: round(Math.max(...samples)),
      runs,
      target: 'under 1000 ms',
    },
  };
}

export async function actionOverhead(iterations = 60): Promise<BenchResult[]> {
  const t = await startAppHarness();
  try {
    const userId = await t.connect('adele.vance@contoso.test', { features: ['mail', 'calendar'] });
    const tokenRes = (await fetch(`${t.sandbox.url}/_sandbox/tokens`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ user: 'adele.vance@contoso.test', scopes: ['MailboxSettings.Read'] }),
    }).then((r) => r.json())) as { access_token: string };
    const direct = async () => {
      const s = performance.now();
      const res = await fetch(`${t.sandbox.graphBaseUrl}/me/mailboxSettings`, {
        headers: { authorization: `Bearer ${tokenRes.access_token}` },
      });
      await res.text();
      return performance.now() - s;
    };
    // The platform mints its caller JWT once and reuses it while valid (up to 15 minutes), as the
    // direct call reuses its access token: neither mint is part of the measured call.
    const callerJwt = await t.tokenFor(userId);
    const viaAction = async () => {
      const s = performance.now();
      const res = await fetch(`${t.api}/profile/getMailboxSettings`, {
        method: 'POST',
        headers: {
          'x-functions-key': FUNCTION_KEY,
          authorization: `Bearer ${callerJwt}`,
          'content-type': 'application/json',
          'cache-control': 'no-cache',
        },
        body: '{}',
      });
      await res.text();
      if (res.status !== 200) throw new Error(`action failed ${res.status}`);
      return performance.now() - s;
    };
    for (let i = 0; i < 10; i++) {
      await direct();
      await viaAction();
    }
    // The audit entry reaches storage after the answer (shared/audit/journal.ts); that write runs
    // in this process too, so each measured call starts once the previous one's has landed.
    const measure = async () => {
      const d: number[] = [];
      const a: number[] = [];
      for (let i = 0; i < iterations; i++) {
        await flushAudit();
        d.push(await direct());
        await flushAudit();
        a.push(await viaAction());
      }
      return { d, a };
    };
    const { d, a } = await measure();
    // The same with every action reading its connection row (CONNECTION_RECHECK_SECONDS=0): the
    // first action of a user after a pause, or an app configured so.
    process.env.CONNECTION_RECHECK_SECONDS = '0';
    resetConfig();
    const everyRead = await measure();
    delete process.env.CONNECTION_RECHECK_SECONDS;
    resetConfig();
    const rowRead: BenchResult = {
      name: 'per-action overhead when the action reads its connection row (CONNECTION_RECHECK_SECONDS=0)',
      value: round(median(everyRead.a) / median(everyRead.d)),
      unit: 'ratio',
      detail: {
        actionMedianMs: round(median(everyRead.a)),
        directMedianMs: round(median(everyRead.d)),
        iterations,
        includes: 'as above, with the connection row read in parallel with the Graph call',
      },
    };
    const overhead: BenchResult = {
      name: 'per-action overhead: function layer vs direct Graph call (sandbox)',
      value: round(median(a) / median(d)),
      unit: 'ratio',
      detail: {
        actionMedianMs: round(median(a)),
        directMedianMs: round(median(d)),
        iterations,
        includes:
          'local host HTTP hop, caller JWT (verified once, then remembered), connection row (read by the first call; within CONNECTION_RECHECK_SECONDS a read reuses it), chokepoint, audit entry journaled (written to storage after the answer)',
        storage: 'Azurite in its own process',
        goal: 'at most 3',
      },
    };

    // 100 batchable actions → ceil(100 / 20) Graph $batch calls.
    const since = await lastSeq(t.sandbox.url);
    const items = Array.from({ length: 100 }, (_, i) => ({
      id: `b${i}`,
      action: i % 2 ? 'profile.getMe' : 'profile.getMailboxSettings',
      input: {},
    }));
    const res = await t.call(userId, 'POST', '/batch', { items });
    const body = (await res.json()) as { results: Array<{ status: number }> };
    const log = await sandboxLog(t.sandbox.url, since);
    const outer = log.filter((e) => e.path === '/v1.0/$batch').length;
    const batch: BenchResult = {
      name: 'Graph requests for a 100-action batch',
      value: outer,
      unit: '$batch calls',
      detail: {
        minimum: Math.ceil(100 / 20),
        ok: body.results.filter((r) => r.status === 200).length,
        innerRequests: log.filter((e) => e.path !== '/v1.0/$batch' && e.path.startsWith('/v1.0/')).length,
      },
    };

    // A typical assistant session: who am I, my time zone, repeated as the conversation goes on.
    const session = [
      'profile.getMe',
      'profile.getMailboxSettings',
      'profile.getMe',
      'profile.getMailboxSettings',
      'profile.getMe',
      'profile.getMailboxSettings',
      'profile.getMe',
      'profile.getMe',
    ];
    // Only the session's own calls count: a new connection's first sync rounds run meanwhile.
    const sessionPaths = new Set(['/v1.0/me', '/v1.0/me/mailboxSettings']);
    const count = async (headers: Record<string, string>) => {
      const from = await lastSeq(t.sandbox.url);
      for (const id of session) await t.call(userId, 'POST', `/${id.replace('.', '/')}`, {}, headers);
      return (await sandboxLog(t.sandbox.url, from)).filter((e) => sessionPaths.has(e.path)).length;
    };
    const uncached = await count({ 'cache-control': 'no-cache' });
    const fresh = `cache-${Date.now()}`;
    const second = await t.connect('adele.vance@contoso.test', {
      features: ['mail', 'calendar'],
      userId: fresh,
    });
    void second;
    const cachedFrom = await lastSeq(t.sandbox.url);
    for (const id of session) await t.call(fresh, 'POST', `/${id.replace('.', '/')}`, {});
    const cached = (await sandboxLog(t.sandbox.url, cachedFrom)).filter((e) =>
      sessionPaths.has(e.path),
    ).length;
    const cache: BenchResult = {
      name: 'Graph requests saved by the cache in an assistant session',
      value: uncached - cached,
      unit: 'requests saved',
      detail: { sessionActions: session.length, withoutCache: uncached, withCache: cached },
    };
    return [overhead, rowRead, batch, cache];
  } finally {
    await t.stop();
  }
}
