#!/usr/bin/env node
// The quick build `npm start`, the demo and the benchmarks use: every TypeScript file of the app
// transpiled to dist/ with swc (about a second), no type-checking. Types are checked by
// `npm run typecheck` (and `npm run build`, the tsc build used for deployment) — the same split
// the tests use (@swc/jest plus tsc --noEmit, toolchain.md).
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { transformFile } from '@swc/core';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const sources = ['functions', 'shared', 'sandbox', 'scripts', 'bench'];

function walk(dir, out) {
  for (const name of readdirSync(dir)) {
    const full = join(dir, name);
    if (statSync(full).isDirectory()) walk(full, out);
    else if (name.endsWith('.ts') && !name.endsWith('.d.ts') && !name.endsWith('.test.ts')) out.push(full);
  }
}

/**
 * Another process may be running the app from dist/ while this build runs (two test files, or
 * npm start and a test): a file is replaced by rename, never truncated and rewritten, so a
 * require() never reads half of one; and an unchanged file is not touched at all.
 */
function writeIfChanged(path, text) {
  if (existsSync(path) && readFileSync(path, 'utf8') === text) return;
  const temp = `${path}.${process.pid}.tmp`;
  writeFileSync(temp, text);
  renameSync(temp, path);
}

const files = [];
for (const dir of sources) walk(join(root, dir), files);
const started = Date.now();
await Promise.all(
  files.map(async (file) => {
    const out = join(root, 'dist', relative(root, file)).replace(/\.ts$/, '.js');
    const { code, map } = await transformFile(file, {
      jsc: { parser: { syntax: 'typescript' }, target: 'es2022' },
      module: { type: 'commonjs' },
      sourceMaps: true,
      outputPath: out,
    });
    mkdirSync(dirname(out), { recursive: true });
    writeIfChanged(out, `${code}\n//# sourceMappingURL=${out.split('/').pop()}.map\n`);
    if (map) writeIfChanged(`${out}.map`, map);
  }),
);
// Output whose source is gone (a moved or deleted file) is removed: the Functions host and the
// local host load every file under dist/functions, so a stale one would register twice.
const built = new Set(files.map((file) => join(root, 'dist', relative(root, file)).replace(/\.ts$/, '.js')));
let removed = 0;
for (const dir of sources) {
  const outDir = join(root, 'dist', dir);
  if (!existsSync(outDir)) continue;
  const outputs = [];
  (function list(d) {
    for (const name of readdirSync(d)) {
      const full = join(d, name);
      if (statSync(full).isDirectory()) list(full);
      else outputs.push(full);
    }
  })(outDir);
  for (const out of outputs) {
    const js = out.replace(/\.map$/, '');
    if (js.endsWith('.js') && !built.has(js)) {
      rmSync(out);
      removed += 1;
    }
  }
}
if (!process.argv.includes('--quiet'))
  console.log(
    `built ${files.length} files into dist/ in ${Date.now() - started} ms${removed ? ` (${removed} stale outputs removed)` : ''}`,
  );
