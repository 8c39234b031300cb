/**
 * The document libraries (shared/content/*) load on first use only: what each costs to load in a
 * fresh process, and proof that loading the whole app loads none of them.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { projectRoot } from '../scripts/harness';
import { median, round, type BenchResult } from './harness';

const LIBRARIES: Record<string, string> = {
  'pdfjs-dist (PDF)': "require('pdfjs-dist/legacy/build/pdf.mjs')",
  'mammoth (Word)': "require('mammoth')",
  'exceljs (Excel)': "require('exceljs')",
  'jszip (PowerPoint)': "require('jszip')",
  'html-to-text (HTML, mail bodies)': "require('html-to-text')",
};

function timed(code: string, runs: number): number {
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const out = execFileSync(
      process.execPath,
      ['-e', `const t=process.hrtime.bigint();${code};console.log(Number(process.hrtime.bigint()-t)/1e6)`],
      { cwd: projectRoot(), env: { ...process.env, NODE_NO_WARNINGS: '1' } },
    );
    samples.push(Number(String(out).trim().split('\n').pop()));
  }
  return median(samples);
}

export async function contentLibraries(runs = 5): Promise<BenchResult[]> {
  const root = projectRoot();
  const loads: Record<string, number> = {};
  for (const [name, code] of Object.entries(LIBRARIES)) loads[name] = round(timed(code, runs));
  const app = timed(
    `require(${JSON.stringify(join(root, 'dist', 'shared', 'runtime', 'load.js'))}).loadFunctions()`,
    runs,
  );
  // Which of them a cold app has loaded: none is the goal.
  const probe = `require(${JSON.stringify(join(root, 'dist', 'shared', 'runtime', 'load.js'))}).loadFunctions();
    const names = ['pdfjs-dist', 'mammoth', 'exceljs', 'html-to-text'];
    console.log(names.filter((n) => Object.keys(require.cache).some((k) => k.includes('/node_modules/' + n + '/'))).length)`;
  const loadedAtStart = Number(
    String(
      execFileSync(process.execPath, ['-e', probe], {
        cwd: root,
        env: { ...process.env, NODE_NO_WARNINGS: '1' },
      }),
    )
      .trim()
      .split('\n')
      .pop(),
  );
  const total = Object.values(loads).reduce((a, b) => a + b, 0);
  return [
    {
      name: 'content libraries loaded by a cold app (of pdfjs-dist, mammoth, exceljs, html-to-text)',
      value: loadedAtStart,
      unit: 'libraries',
      detail: { appColdStartMs: round(app), runs },
    },
    {
      name: 'content libraries: first-use load time, all of them vs the app cold start',
      value: round(total / app),
      unit: 'ratio',
      detail: {
        ...Object.fromEntries(Object.entries(loads).map(([k, v]) => [`${k} ms`, v])),
        appColdStartMs: round(app),
        runs,
      },
    },
  ];
}
