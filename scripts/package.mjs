#!/usr/bin/env node
// Builds what Azure runs: `npm run package` writes .package/app/ and .package/app.zip, which
// `azd deploy` (azure.yaml `dist`) and the zip deployment of docs/deployment.md upload.
//
//   dist/app.js    the whole app (our code, zod, luxon, windows-iana, p-retry) in one CommonJS
//                  bundle, built by esbuild with source maps; every SDK and content library stays
//                  a require() of node_modules, loaded on first use as in the sources
//   dist/main.js   the entry package.json `main` names: registers every function from a manifest
//                  and loads dist/app.js on the first invocation (shared/runtime/deferred.ts)
//   node_modules/  exactly the packages the bundles require, with their own dependencies; no
//                  devDependencies
//   host.json, package.json
//
// Usage: node scripts/package.mjs [--out <dir>] [--no-zip] [--fast-zip]
// (--fast-zip: deflate level 1, for tests: a slightly larger zip for a third of the CPU)
import {
  cpSync,
  createWriteStream,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { execFileSync } from 'node:child_process';
import { builtinModules, createRequire } from 'node:module';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const outIndex = args.indexOf('--out');
const out = resolve(outIndex >= 0 ? args[outIndex + 1] : join(root, '.package', 'app'));
const zip = !args.includes('--no-zip');
const zipLevel = args.includes('--fast-zip') ? 1 : 6;
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));

/** Packages compiled into the bundle: small, pure JS, on the path of most requests. */
const BUNDLED = new Set([
  'zod',
  'luxon',
  'windows-iana',
  'p-retry',
  'is-network-error',
  '@opentelemetry/api',
]);
const builtins = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));
const packageName = (spec) =>
  spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0];

/** Bare imports become require()s of node_modules unless the package is in BUNDLED. */
const externals = {
  name: 'externals',
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, (a) => {
      if (builtins.has(a.path) || BUNDLED.has(packageName(a.path))) return undefined;
      return { path: a.path, external: true };
    });
  },
};

/**
 * zod's classic API re-exports all of its ~50 locales (about half of zod's code) and configures
 * English; our problem details are English, so the bundle keeps `en` alone.
 */
const zodEnglishOnly = {
  name: 'zod-english-only',
  setup(b) {
    b.onResolve({ filter: /locales\/index\.js$/ }, (a) =>
      a.importer.includes(join('node_modules', 'zod', 'v4'))
        ? { path: join(dirname(a.importer), '..', 'locales', 'index.js'), namespace: 'zod-locales' }
        : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'zod-locales' }, (a) => ({
      contents: `export { default as en } from ${JSON.stringify(join(dirname(a.path), 'en.js'))};`,
      resolveDir: dirname(a.path),
    }));
  },
};

function walk(dir, found = []) {
  for (const name of readdirSync(dir).sort()) {
    const full = join(dir, name);
    if (statSync(full).isDirectory()) walk(full, found);
    else if (name.endsWith('.ts') && !name.endsWith('.d.ts') && !name.endsWith('.test.ts')) found.push(full);
  }
  return found;
}

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: true,
  minify: true,
  // Stack traces keep our function names (source maps give files and lines).
  keepNames: true,
  legalComments: 'linked',
  logLevel: 'warning',
  metafile: true,
};

const started = Date.now();
rmSync(out, { recursive: true, force: true });
mkdirSync(join(out, 'dist'), { recursive: true });

// 1. The app: every function file (each registers itself, in record-only mode) and the registry.
const functionFiles = walk(join(root, 'functions'));
const appBuild = await build({
  ...common,
  stdin: {
    contents: [
      ...functionFiles.map((f) => `import ${JSON.stringify('./' + relative(root, f).replace(/\.ts$/, ''))};`),
      "import { registrations, runShutdownHooks } from './shared/runtime/register';",
      "import { toManifest } from './shared/runtime/deferred';",
      'export { registrations, runShutdownHooks };',
      'export const manifest = () => toManifest(registrations());',
    ].join('\n'),
    resolveDir: root,
    sourcefile: 'app-entry.ts',
    loader: 'ts',
  },
  outfile: join(out, 'dist', 'app.js'),
  define: { __RECORD_ONLY__: 'true' },
  plugins: [externals, zodEnglishOnly],
});

// 2. node_modules: the packages the bundle requires, and theirs, copied from this install.
const required = new Set();
for (const output of Object.values(appBuild.metafile.outputs))
  for (const i of output.imports) if (i.external && !builtins.has(i.path)) required.add(packageName(i.path));
required.add('@azure/functions'); // the entry's
const copied = new Map();
function copyPackage(name, fromDir) {
  // Node's lookup: the nearest node_modules/<name> from the requiring package up to the root.
  let dir = fromDir;
  let source;
  for (;;) {
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) {
      source = candidate;
      break;
    }
    if (dir === root) break;
    dir = dirname(dir);
  }
  if (!source) return false;
  if (copied.has(source)) return true;
  const meta = JSON.parse(readFileSync(join(source, 'package.json'), 'utf8'));
  copied.set(source, meta.version);
  for (const dep of Object.keys({
    ...meta.dependencies,
    ...meta.optionalDependencies,
    ...meta.peerDependencies,
  })) {
    if (!copyPackage(dep, source) && meta.dependencies?.[dep])
      throw new Error(`${meta.name} needs ${dep}, which is not installed: run npm ci first`);
  }
  return true;
}
for (const name of required) {
  if (!pkg.dependencies[name])
    throw new Error(`the app requires ${name}, which is not in package.json dependencies`);
  copyPackage(name, root);
}
// One cp per target folder: ten times faster than fs.cpSync on a node_modules tree (Windows has
// no cp). A package nested in another's node_modules comes with that package.
const byTarget = new Map();
for (const source of copied.keys()) {
  if (relative(root, source).split('node_modules').length > 2) continue;
  const target = dirname(join(out, relative(root, source)));
  byTarget.set(target, [...(byTarget.get(target) ?? []), source]);
}
for (const [target, sources] of byTarget) {
  mkdirSync(target, { recursive: true });
  if (process.platform === 'win32')
    for (const source of sources)
      cpSync(source, join(target, basename(source)), { recursive: true, dereference: true });
  else execFileSync('cp', ['-RL', ...sources, target]);
}

// 3. The manifest, read from the app itself: the same registrations the sources make.
const requireFromOut = createRequire(join(out, 'dist', 'package.mjs'));
const app = requireFromOut('./app.js');
const manifest = app.manifest();

// 4. The entry.
await build({
  ...common,
  stdin: {
    contents: [
      "import { registerDeferred } from './shared/runtime/deferred';",
      `const registered = registerDeferred(${JSON.stringify(manifest)}, () => require('./app.js'));`,
      'export const registrations = () => registered;',
    ].join('\n'),
    resolveDir: root,
    sourcefile: 'main-entry.ts',
    loader: 'ts',
  },
  outfile: join(out, 'dist', 'main.js'),
  plugins: [
    externals,
    {
      name: 'app',
      setup: (b) => b.onResolve({ filter: /^\.\/app\.js$/ }, () => ({ path: './app.js', external: true })),
    },
  ],
});

// 5. host.json and a package.json naming the entry and what node_modules holds.
cpSync(join(root, 'host.json'), join(out, 'host.json'));
const dependencies = Object.fromEntries([...required].sort().map((name) => [name, pkg.dependencies[name]]));
writeFileSync(
  join(out, 'package.json'),
  JSON.stringify(
    {
      name: pkg.name,
      version: pkg.version,
      private: true,
      main: 'dist/main.js',
      engines: pkg.engines,
      dependencies,
    },
    null,
    2,
  ) + '\n',
);

// 6. The zip (deflate), entries in a stable order.
if (zip) {
  const { default: JSZip } = await import('jszip');
  const archive = new JSZip();
  const files = [];
  (function list(dir) {
    for (const name of readdirSync(dir).sort()) {
      const full = join(dir, name);
      if (statSync(full).isDirectory()) list(full);
      else files.push(full);
    }
  })(out);
  for (const file of files)
    archive.file(relative(out, file), readFileSync(file), {
      date: new Date(0),
      unixPermissions: statSync(file).mode,
    });
  const zipPath = `${out}.zip`;
  await new Promise((done, fail) =>
    archive
      .generateNodeStream({
        type: 'nodebuffer',
        streamFiles: true,
        compression: 'DEFLATE',
        compressionOptions: { level: zipLevel },
        platform: 'UNIX',
      })
      .pipe(createWriteStream(zipPath))
      .on('finish', done)
      .on('error', fail),
  );
}

const size = (f) => `${(statSync(join(out, 'dist', f)).size / 1024).toFixed(0)} KB`;
console.log(
  `package: ${relative(process.cwd(), out) || '.'} — ${manifest.length} functions; dist/main.js ${size('main.js')}, dist/app.js ${size('app.js')}; node_modules: ${copied.size} packages (${[...required].sort().join(', ')})${zip ? `; ${relative(process.cwd(), out)}.zip` : ''} in ${((Date.now() - started) / 1000).toFixed(1)} s`,
);
