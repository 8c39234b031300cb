/**
 * `npm run bench`: runs the benchmark suites in one process and writes bench/results.json and a
 * Markdown table (bench/results.md). Ratios are measured within one run, so they compare like
 * with like on whatever machine runs them. `npm run bench -- core` runs only the named suites;
 * `npm run bench -- soak` (ten minutes) runs only when named.
 */
import { contentLibraries } from './content';
import { eventsLatency } from './events';
import { actionOverhead, coldStart, sandboxStart } from './core';
import { filesStream } from './files-stream';
import { load } from './load';
import { scaleBench } from './scale';
import { soak } from './soak';
import { syncBench } from './sync';
import { webhookBenchmarks } from './webhooks';
import { withChildAzurite, writeResults, type BenchResult } from './harness';

type Suite = () => Promise<BenchResult | BenchResult[]>;

const suites: Record<string, Suite> = {
  core: async () => [...(await coldStart()), await sandboxStart(), ...(await actionOverhead())],
  files: async () => await filesStream(100),
  webhooks: async () => await webhookBenchmarks(),
  sync: async () => await syncBench(),
  load: async () => await load(),
  content: async () => await contentLibraries(),
  events: async () => await eventsLatency(),
  scale: async () => await scaleBench(),
  // SOAK_USERS and SOAK_MINUTES shrink it for a quick try, SOAK_TICK_MINUTES compresses the timers,
  // SOAK_THINK_SECONDS sets each user's mean time between actions
  // (the recorded figures use the defaults).
  soak: async () =>
    await soak({
      ...(process.env.SOAK_USERS ? { users: Number(process.env.SOAK_USERS) } : {}),
      ...(process.env.SOAK_MINUTES ? { durationMs: Number(process.env.SOAK_MINUTES) * 60_000 } : {}),
      ...(process.env.SOAK_TICK_MINUTES ? { tickMinutes: Number(process.env.SOAK_TICK_MINUTES) } : {}),
      ...(process.env.SOAK_THINK_SECONDS ? { thinkMs: Number(process.env.SOAK_THINK_SECONDS) * 1000 } : {}),
    }),
};

async function main(): Promise<void> {
  // The app logs through @azure/functions' fallback handler; benchmarks want a quiet console.
  console.warn = () => undefined;
  const wanted = process.argv.slice(2);
  // The soak runs for ten minutes: only when asked for by name.
  const names = wanted.length ? wanted : Object.keys(suites).filter((n) => n !== 'soak');
  const results: BenchResult[] = [];
  // Azurite runs in its own process, as Storage is its own service in Azure: its work stays off
  // the measured event loop, and its telemetry (applicationinsights installs OpenTelemetry and
  // require hooks when loaded) stays out of the measured process.
  await withChildAzurite(async () => {
    for (const name of names) {
      const suite = suites[name];
      if (!suite) throw new Error(`Unknown suite "${name}"; known: ${Object.keys(suites).join(', ')}`);
      const started = Date.now();
      const out = await suite();
      results.push(...(Array.isArray(out) ? out : [out]));
      process.stdout.write(`suite ${name} done in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
    }
  });
  for (const r of results)
    process.stdout.write(`${r.name}: ${r.value} ${r.unit} ${JSON.stringify(r.detail)}\n`);
  const { json, md } = writeResults(results);
  process.stdout.write(`written: ${json}, ${md}\n`);
  process.exit(0);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
