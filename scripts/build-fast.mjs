#!/usr/bin/env node
// The quick build `npm start`, the demo and the benchmarks use: every TypeScript file of the app
// transpiled to dist/ with swc (about a second), no type-checking. Types are checked by
// `npm run typecheck` (and `npm run build`, the tsc build used for deployment) — the same split
// the tests use (@swc/jest plus tsc --noEmit, toolchain.md).
import { mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
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
    writeFileSync(out, `${code}\n//# sourceMappingURL=${out.split('/').pop()}.map\n`);
    if (map) writeFileSync(`${out}.map`, map);
  }),
);
if (!process.argv.includes('--quiet'))
  console.log(`built ${files.length} files into dist/ in ${Date.now() - started} ms`);
