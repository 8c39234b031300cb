/**
 * The deployment package (`npm run package`, scripts/package.mjs; issue 29): what Azure loads.
 * - Indexed by a stand-in for the Functions worker (it provides `@azure/functions-core`, as the
 *   worker does), the package's entry registers exactly the functions, routes, methods, auth
 *   levels, schedules and queues the sources register, without loading the app's code.
 * - Run on its own (its node_modules only, in a folder outside the project) under the local host,
 *   it connects a user, answers an action and turns a new mail into a feed entry through the
 *   webhook and queue functions: every kind of trigger works from the deferred entry.
 * - It carries no devDependencies, keeps its source maps, and the zip holds the same files.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import JSZip from 'jszip';
import {
  apiCaller,
  configureEnv,
  connectUser,
  startHarnessSandbox,
  TEST_APP,
  type Caller,
} from '../../scripts/harness';
import { startAzurite, type RunningAzurite } from '../../scripts/azurite';
import type { Sandbox } from '../../sandbox';
import { freePort } from '../support/ports';
import { sendMailAs } from '../support/sandbox';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const root = join(__dirname, '..', '..');
const FUNCTION_KEY = 'package-test-function-key';
const MASTER_KEY = 'package-test-master-key';
const ADELE = 'adele.vance@contoso.test';
const MEGAN = 'megan.bowen@contoso.test';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Loads `entry` with the stand-in for the Functions worker (scripts/worker-standin.cjs, which
 * answers require('@azure/functions-core') as the worker does) and prints what was registered
 * with the host and which files were loaded.
 */
const INDEX_PROCESS = `
const [entry, functionsDir] = process.argv.slice(1);
const loaded = require(entry);
if (functionsDir) loaded.loadFunctions(functionsDir);
console.log(JSON.stringify({ registered: globalThis.__registeredFunctions, files: Object.keys(require.cache) }));`;

/** The app alone: the local host (from this project) serving the package's registrations. */
const APP_PROCESS = `
const [entry, localhost, port, functionKey, masterKey] = process.argv.slice(1);
const { startLocalHost } = require(localhost);
startLocalHost({
  registrations: require(entry).registrations(),
  port: Number(port), functionKey, masterKey, timers: false, queuePollMs: 100, log: () => undefined,
}).then((host) => console.log('up ' + host.url));`;

/** Binding names carry a random suffix (@azure/functions addBindingName): compare without it. */
function normalise(registered: Json[]): Json[] {
  const name = (n: string) => n.replace(/[0-9a-f]{10}$/, '');
  return registered
    .map((m): Json => ({
      ...m,
      bindings: Object.fromEntries(
        Object.entries(m.bindings as Record<string, Json>).map(([k, b]) => [
          name(k),
          { ...b, name: name(b.name) },
        ]),
      ),
    }))
    .sort((a, b) => String(a.name).localeCompare(String(b.name)));
}

function indexed(entry: string, functionsDir?: string): { registered: Json[]; files: string[] } {
  const out = execFileSync(
    process.execPath,
    [
      '-r',
      join(root, 'scripts', 'worker-standin.cjs'),
      '-e',
      INDEX_PROCESS,
      entry,
      ...(functionsDir ? [functionsDir] : []),
    ],
    {
      env: { PATH: process.env.PATH },
      maxBuffer: 64 * 1024 * 1024,
    },
  );
  return JSON.parse(String(out).trim().split('\n').pop()!) as { registered: Json[]; files: string[] };
}

let work: string;
let pkg: string;
let sandbox: Sandbox;
let azurite: RunningAzurite;
let port: number;
let app: ChildProcess | undefined;
let appOutput = '';

const call: Caller = (...args) => apiCaller(`http://127.0.0.1:${port}/api`, FUNCTION_KEY)(...args);

beforeAll(async () => {
  execFileSync(process.execPath, [join(root, 'scripts', 'build-fast.mjs'), '--quiet'], { cwd: root });
  // Outside the project: the package must run on its own node_modules.
  work = mkdtempSync(join(tmpdir(), 'm365-package-'));
  pkg = join(work, 'app');
  execFileSync(process.execPath, [join(root, 'scripts', 'package.mjs'), '--out', pkg, '--fast-zip'], {
    cwd: root,
    stdio: 'pipe',
  });

  sandbox = await startHarnessSandbox({ autoApprove: true });
  azurite = await startAzurite();
  port = await freePort();
  const redirectUri = `http://127.0.0.1:${port}/api/auth/microsoft/callback`;
  configureEnv(sandbox, redirectUri, { AzureWebJobsStorage: azurite.connectionString });
  sandbox.directory.apps.get(TEST_APP.clientId)!.redirectUris = [redirectUri];
  const child = spawn(
    process.execPath,
    [
      '-e',
      APP_PROCESS,
      join(pkg, 'dist', 'main.js'),
      join(root, 'dist', 'scripts', 'localhost.js'),
      String(port),
      FUNCTION_KEY,
      MASTER_KEY,
    ],
    { cwd: pkg, env: { ...process.env }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  app = child;
  child.stderr.on('data', (d: Buffer) => (appOutput += d.toString()));
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      appOutput += d.toString();
      if (appOutput.includes('up http')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`the packaged app exited (${code}):\n${appOutput}`)));
  });
}, 180000);

afterAll(async () => {
  if (app) {
    const exited = new Promise((r) => app!.once('exit', r));
    app.kill('SIGKILL');
    await exited;
  }
  await sandbox?.stop();
  await azurite?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

test('the worker indexes the same functions from the package as from the sources, without loading the app', () => {
  const fromPackage = indexed(join(pkg, 'dist', 'main.js'));
  const fromSources = indexed(
    join(root, 'dist', 'shared', 'runtime', 'load.js'),
    join(root, 'dist', 'functions'),
  );

  expect(fromSources.registered.length).toBeGreaterThan(40);
  expect(normalise(fromPackage.registered)).toEqual(normalise(fromSources.registered));
  // Indexing loads the entry and @azure/functions (with its dependencies); the app and every
  // other library wait for the first invocation.
  const functionsPackage = join(pkg, 'node_modules', '@azure', 'functions');
  const itsDependencies = Object.keys(
    (JSON.parse(readFileSync(join(functionsPackage, 'package.json'), 'utf8')) as Json).dependencies as Json,
  );
  const allowed = [functionsPackage, ...itsDependencies.map((d) => join(pkg, 'node_modules', d))];
  const packageFiles = fromPackage.files.filter((f) => f.startsWith(pkg));
  expect(packageFiles).toContain(join(pkg, 'dist', 'main.js'));
  expect(
    packageFiles.filter(
      (f) => f !== join(pkg, 'dist', 'main.js') && !allowed.some((a) => f.startsWith(a + '/')),
    ),
  ).toEqual([]);
}, 60000);

test('the packaged app connects a user, answers an action and feeds a new mail through webhook and queue', async () => {
  const health = await fetch(`http://127.0.0.1:${port}/api/health`);
  expect(health.status).toBeLessThan(500);
  const adele = await connectUser(call, ADELE, { features: ['mail'] });

  const listed = await call(adele, 'POST', '/mail/listMessages', { folder: 'inbox', top: 5 });
  expect(listed.status).toBe(200);
  expect(((await listed.json()) as Json).items.length).toBeGreaterThan(0);

  // Graph's notification → webhook function → queue → sync worker → change feed.
  await sendMailAs(sandbox, MEGAN, ADELE, 'packaged-app mail');
  const deadline = Date.now() + 60000;
  let subjects: string[] = [];
  while (Date.now() < deadline) {
    const res = await call(adele, 'GET', '/changes?after=0');
    const items = ((await res.json()) as { items: Json[] }).items;
    subjects = items.map((e) => String(e.summary?.subject ?? ''));
    if (subjects.includes('packaged-app mail')) break;
    await sleep(200);
  }
  expect(subjects).toContain('packaged-app mail');
  expect(appOutput).not.toMatch(/Error:|registers no function/);
}, 120000);

test('the package holds no devDependencies, keeps its source maps, and the zip holds the same files', async () => {
  const manifest = JSON.parse(readFileSync(join(pkg, 'package.json'), 'utf8')) as Json;
  expect(manifest.main).toBe('dist/main.js');
  expect(existsSync(join(pkg, 'dist', 'main.js.map'))).toBe(true);
  expect(existsSync(join(pkg, 'dist', 'app.js.map'))).toBe(true);
  expect(existsSync(join(pkg, 'host.json'))).toBe(true);

  const project = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as Json;
  const modules = readdirSync(join(pkg, 'node_modules')).flatMap((name) =>
    name.startsWith('@') ? readdirSync(join(pkg, 'node_modules', name)).map((n) => `${name}/${n}`) : [name],
  );
  for (const dev of ['jest', 'typescript', 'esbuild', 'azurite', '@swc/core', 'eslint', 'prettier'])
    expect(modules).not.toContain(dev);
  // A devDependency may be in the package only because a production package needs it (protobufjs,
  // under the Azure Monitor exporter, depends on @types/node): never because the build copied it.
  const neededByProduction = new Set(
    modules.flatMap((m) => {
      const manifestOf = JSON.parse(
        readFileSync(join(pkg, 'node_modules', m, 'package.json'), 'utf8'),
      ) as Json;
      return Object.keys((manifestOf.dependencies as Json | undefined) ?? {});
    }),
  );
  expect(
    Object.keys(project.devDependencies as Json).filter(
      (d) => modules.includes(d) && !neededByProduction.has(d),
    ),
  ).toEqual([]);
  // The dependencies the package names are all there, and nothing from the sources is.
  for (const dep of Object.keys(manifest.dependencies as Json)) expect(modules).toContain(dep);
  expect(readdirSync(pkg).sort()).toEqual(['dist', 'host.json', 'node_modules', 'package.json']);

  const zip = await JSZip.loadAsync(readFileSync(`${pkg}.zip`));
  const entries = Object.values(zip.files)
    .filter((f) => !f.dir)
    .map((f) => f.name);
  expect(entries).toEqual(
    expect.arrayContaining(['dist/main.js', 'dist/app.js', 'host.json', 'package.json']),
  );
  expect(entries.filter((e) => e.startsWith('node_modules/@azure/functions/')).length).toBeGreaterThan(0);
  expect(entries.some((e) => /^(test|sandbox|shared|functions|scripts)\//.test(e))).toBe(false);
}, 60000);
