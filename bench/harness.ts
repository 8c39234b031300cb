/** Shared pieces for benchmarks: Azurite + the app harness, timing helpers, the results file. */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startAzurite, type RunningAzurite } from '../scripts/azurite';
import { projectRoot } from '../scripts/harness';
import { resetStorageClients } from '../shared/storage/clients';

export interface BenchResult {
  name: string;
  /** The headline figure as a ratio or count, measured in this run. */
  value: number;
  unit: string;
  detail: Record<string, unknown>;
  /** A Markdown section printed after the results table (kept, like the figures, until re-measured). */
  section?: { title: string; markdown: string };
}

export async function withAzurite<T>(fn: () => Promise<T>): Promise<T> {
  const azurite: RunningAzurite = await startAzurite();
  process.env.HARNESS_STORAGE = azurite.connectionString;
  process.env.AzureWebJobsStorage = azurite.connectionString;
  try {
    return await fn();
  } finally {
    await azurite.stop();
  }
}

/**
 * Runs `fn` against Azurite in a child process (then the in-process one again): storage work
 * runs on its own core and heap, as Storage does in Azure, instead of in the benchmark's event loop.
 */
export async function withChildAzurite<T>(fn: () => Promise<T>): Promise<T> {
  const script = join(__dirname, '..', 'scripts', 'azurite.js');
  const child = spawn(
    process.execPath,
    [
      '-e',
      `require(${JSON.stringify(script)}).startAzurite().then((a) => console.log('AZURITE ' + a.connectionString))`,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const connectionString = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString('utf8');
      const m = /AZURITE (\S+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    child.once('exit', (code) => reject(new Error(`Azurite exited (${code})`)));
  });
  const previous = { harness: process.env.HARNESS_STORAGE, storage: process.env.AzureWebJobsStorage };
  process.env.HARNESS_STORAGE = connectionString;
  process.env.AzureWebJobsStorage = connectionString;
  resetStorageClients();
  try {
    return await fn();
  } finally {
    child.kill();
    process.env.HARNESS_STORAGE = previous.harness;
    process.env.AzureWebJobsStorage = previous.storage;
    resetStorageClients();
  }
}

export function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

export function percentile(values: number[], p: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}

export const round = (n: number, digits = 2): number => Number(n.toFixed(digits));

export function writeResults(results: BenchResult[]): { json: string; md: string } {
  const root = projectRoot();
  const jsonPath = join(root, 'bench', 'results.json');
  const mdPath = join(root, 'bench', 'results.md');
  const previous = existsSync(jsonPath)
    ? (JSON.parse(readFileSync(jsonPath, 'utf8')) as { results?: BenchResult[] })
    : {};
  // Suites not run this time keep their last figures, marked with when they were measured.
  const merged = new Map((previous.results ?? []).map((r) => [r.name, r]));
  for (const r of results)
    merged.set(r.name, { ...r, detail: { ...r.detail, measuredAt: new Date().toISOString() } });
  const all = [...merged.values()];
  writeFileSync(jsonPath, JSON.stringify({ node: process.version, results: all }, null, 2) + '\n');
  const lines = [
    '# Benchmark results',
    '',
    `Measured with \`npm run bench\` on Node ${process.version}; each figure comes from one run of its suite.`,
    '',
    '| Benchmark | Value | Unit | Detail |',
    '|---|---|---|---|',
    ...all.map(
      (r) =>
        `| ${r.name} | ${r.value} | ${r.unit} | ${Object.entries(r.detail)
          .map(([k, v]) => `${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`)
          .join('; ')} |`,
    ),
    '',
    ...all.flatMap((r) =>
      r.section
        ? [
            `## ${r.section.title}`,
            '',
            `Measured ${String(r.detail.measuredAt)}.`,
            '',
            r.section.markdown,
            '',
          ]
        : [],
    ),
  ];
  writeFileSync(mdPath, lines.join('\n'));
  return { json: jsonPath, md: mdPath };
}
