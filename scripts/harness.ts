/**
 * The app harness: a sandbox (auto-approving sign-ins), the app configured against it, and the
 * local host serving every function over real HTTP, with callers authenticated by real JWTs.
 * Used by the end-to-end tests (test/support/app.ts), the benchmarks and the demo.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync, rmdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { startSandbox, type Sandbox, type SandboxOptions } from '../sandbox';
import { resetConfig } from '../shared/config';
import { mintCallerToken } from '../shared/http/caller';
import { loadFunctions } from '../shared/runtime/load';
import { resetSecrets } from '../shared/secrets';
import { shardOf } from '../shared/shards';
import { startAzurite, type RunningAzurite } from './azurite';
import { startLocalHost, type LocalHost } from './localhost';

/** The app registration the harness's sandbox knows (sandbox-only values). */
export const TEST_APP = {
  clientId: '11111111-2222-4333-8444-555555555555',
  clientSecret: 'sandbox-test-client-secret-value-0001',
  redirectUri: 'http://127.0.0.1:7071/api/auth/microsoft/callback',
};

/** The project root (works from the sources and from dist/). */
export function projectRoot(from = __dirname): string {
  let dir = from;
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
}

/** The sample settings (which work against the sandbox). */
export function sampleSettings(): Record<string, string> {
  const raw = JSON.parse(readFileSync(join(projectRoot(), 'local.settings.sample.json'), 'utf8')) as {
    Values: Record<string, string>;
  };
  return { ...raw.Values };
}

export async function startHarnessSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  return await startSandbox({
    port: 0,
    app: {
      clientId: TEST_APP.clientId,
      clientSecret: TEST_APP.clientSecret,
      redirectUris: [TEST_APP.redirectUri],
    },
    ...options,
  });
}

export const FUNCTION_KEY = 'harness-function-key';
/** The platform's page the connect flow returns to (allow-listed in the harness settings). */
export const PLATFORM_RETURN_URL = 'https://platform.example.test/return';
export const MASTER_KEY = 'harness-master-key';

export interface TestApp {
  sandbox: Sandbox;
  host: LocalHost;
  /** http://127.0.0.1:PORT/api */
  api: string;
  /** A caller JWT for the user id, as the platform would mint it. */
  tokenFor(userId: string): Promise<string>;
  /** Calls an API route as the user (function key + caller JWT). */
  call(
    userId: string,
    method: string,
    path: string,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<Response>;
  /** Runs the whole connect flow for a sandbox user; returns the platform user id. */
  connect(upn: string, options?: { features?: string[]; userId?: string }): Promise<string>;
  /** The storage connection string this app uses (its own Azurite unless one was given). */
  storage: string;
  /** Every storage account's connection string, shard 0 (`storage`) first (shared/shards.ts). */
  storages: string[];
  /** The connection string of the account holding this user's rows (the user's shard). */
  storageOf(principal: string): string;
  stop(): Promise<void>;
}

/** Configures process.env for the app against this sandbox (the same names as local.settings.json). */
/** This process's audit journal folder (removed when an app stops and nothing is left in it). */
function ownJournalDir(): string {
  return join(tmpdir(), `m365-audit-journal-${process.pid}`);
}

function removeIfEmpty(dir: string | undefined): void {
  if (!dir) return;
  try {
    rmdirSync(dir); // only when empty: a journal left behind is for the next process
  } catch {
    // not created, or not empty
  }
}

export function configureEnv(
  sandbox: Sandbox,
  redirectUri: string,
  extra: Record<string, string> = {},
): void {
  const env: Record<string, string> = {
    ...sampleSettings(),
    AzureWebJobsStorage:
      process.env.HARNESS_STORAGE ??
      process.env.TEST_AZURITE_CONNECTION ??
      process.env.AzureWebJobsStorage ??
      '',
    MICROSOFT_CLIENT_ID: TEST_APP.clientId,
    MICROSOFT_CLIENT_SECRET: TEST_APP.clientSecret,
    MICROSOFT_TENANT_ID: 'common',
    MICROSOFT_AUTHORITY_HOST: sandbox.authorityHost,
    GRAPH_BASE_URL: sandbox.graphBaseUrl,
    MICROSOFT_REDIRECT_URI: redirectUri,
    PUBLIC_BASE_URL: new URL(redirectUri).origin,
    RETURN_URL_ALLOWLIST: 'https://platform.example.test/return,http://127.0.0.1:3999/',
    KEY_VAULT_URL: '',
    CALLER_JWKS_URL: '',
    // Tests and benchmarks fire the timers on demand and expect every user's rounds and
    // reconciliation at once; the product spreads them (docs/scale.md; test/unit/sync-plan.test.ts).
    SYNC_SAFETY_NET_MINUTES: '15',
    SUBSCRIPTION_RECONCILE_MINUTES: '30',
    TIMER_SPREAD_MINUTES: '0',
    // The audit journal (shared/audit/journal.ts) of this process and the app processes it starts:
    // a folder of its own, so no other test process takes over its entries.
    AUDIT_JOURNAL_DIR: process.env.AUDIT_JOURNAL_DIR ?? ownJournalDir(),
    // One storage account unless this app is given shards (an earlier app's must not linger).
    STORAGE_SHARDS: '',
    ...Object.fromEntries(
      Object.keys(process.env)
        .filter((k) => /^STORAGE_SHARD_\d+$/.test(k))
        .map((k) => [k, '']),
    ),
    ...extra,
  };
  for (const [k, v] of Object.entries(env)) {
    if (v === '') delete process.env[k];
    else process.env[k] = v;
  }
  resetConfig();
  resetSecrets();
}

export interface AppHarnessOptions {
  sandbox?: SandboxOptions;
  env?: Record<string, string>;
  /**
   * Receives every line the local host logs (its own lines and the functions' context logs);
   * the log-scan security test collects them. Defaults to the console when TEST_HOST_LOG is set.
   */
  log?: (line: string) => void;
}

export async function startAppHarness(options: AppHarnessOptions = {}): Promise<TestApp> {
  const sandbox = await startHarnessSandbox({ autoApprove: true, ...options.sandbox });
  // Each app gets its own storage (an in-process Azurite, ~20 ms) unless told otherwise: queue
  // workers of two apps sharing queues would take each other's messages.
  let own: RunningAzurite | undefined;
  const env = { ...options.env };
  if (!env.AzureWebJobsStorage && !process.env.HARNESS_STORAGE) {
    own = await startAzurite();
    env.AzureWebJobsStorage = own.connectionString;
  }
  // Storage shards (shared/shards.ts): STORAGE_SHARDS in the options, or HARNESS_SHARDS for
  // a whole run, gets each extra shard its own Azurite unless its setting is given.
  const shards = Number(env.STORAGE_SHARDS ?? process.env.HARNESS_SHARDS ?? '1');
  const extra: RunningAzurite[] = [];
  if (shards > 1) {
    env.STORAGE_SHARDS = String(shards);
    for (let k = 1; k < shards; k++) {
      if (env[`STORAGE_SHARD_${k}`]) continue;
      const shard = await startAzurite();
      extra.push(shard);
      env[`STORAGE_SHARD_${k}`] = shard.connectionString;
    }
  }
  options = { ...options, env };
  // Route registration reads MICROSOFT_REDIRECT_URI for the callback path; the port comes later.
  configureEnv(sandbox, 'http://127.0.0.1:1/api/auth/microsoft/callback', options.env);
  const registrations = loadFunctions();
  const host = await startLocalHost({
    registrations,
    port: 0,
    functionKey: FUNCTION_KEY,
    masterKey: MASTER_KEY,
    timers: false,
    queueVisibilityTimeoutMs: 0,
    queuePollMs: 100,
    log: options.log ?? (process.env.TEST_HOST_LOG ? (line) => console.log(line) : () => undefined),
  });
  const redirectUri = `${host.url}/api/auth/microsoft/callback`;
  configureEnv(sandbox, redirectUri, options.env);
  const app = sandbox.directory.apps.get(TEST_APP.clientId);
  if (app) app.redirectUris = [redirectUri];
  const api = `${host.url}/api`;
  const storages = [
    process.env.AzureWebJobsStorage ?? '',
    ...Array.from({ length: shards - 1 }, (_, k) => process.env[`STORAGE_SHARD_${k + 1}`] ?? ''),
  ];

  const tokenFor = async (userId: string) => await mintCallerToken(userId);
  const call = apiCaller(api, FUNCTION_KEY);

  return {
    sandbox,
    host,
    api,
    tokenFor,
    call,
    connect: async (upn, opts = {}) => await connectUser(call, upn, opts),
    storage: storages[0]!,
    storages,
    storageOf: (principal) => storages[shardOf(principal, storages.length)]!,
    async stop() {
      await host.stop(); // flushes the audit journal (its shutdown hook)
      removeIfEmpty(process.env.AUDIT_JOURNAL_DIR);
      await sandbox.stop();
      await own?.stop();
      for (const shard of extra) await shard.stop();
    },
  };
}

export type Caller = (
  userId: string,
  method: string,
  path: string,
  body?: unknown,
  headers?: Record<string, string>,
) => Promise<Response>;

/**
 * Calls an app's API routes (`api` = http://host:port/api) as the platform does: the function key
 * and the user's caller JWT; a body goes as JSON. Also used for an app in another process.
 */
export function apiCaller(api: string, functionKey: string): Caller {
  return async (userId, method, path, body, headers = {}) =>
    await fetch(`${api}${path}`, {
      method,
      redirect: 'manual',
      headers: {
        'x-functions-key': functionKey,
        authorization: `Bearer ${await mintCallerToken(userId)}`,
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...headers,
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
}

/**
 * Runs the whole connect flow for a sandbox user (the sandbox auto-approves) through an app's
 * routes, called with `call`; returns the platform user id. Also used against an app running in
 * another process (test/e2e/events-crash.test.ts).
 */
export async function connectUser(
  call: Caller,
  upn: string,
  opts: { features?: string[]; userId?: string } = {},
): Promise<string> {
  const userId = opts.userId ?? `user-${randomUUID()}`;
  const start = await call(userId, 'POST', '/auth/microsoft/start', {
    ...(opts.features ? { features: opts.features } : {}),
    loginHint: upn,
    returnUrl: PLATFORM_RETURN_URL,
  });
  if (start.status !== 200) throw new Error(`start failed: ${start.status} ${await start.text()}`);
  const { authorizationUrl } = (await start.json()) as { authorizationUrl: string };
  const authorize = await fetch(authorizationUrl, { redirect: 'manual' });
  const callbackUrl = authorize.headers.get('location');
  if (!callbackUrl) throw new Error(`authorize did not redirect: ${authorize.status}`);
  const callback = await fetch(callbackUrl, { redirect: 'manual' });
  const back = callback.headers.get('location');
  if (callback.status !== 302 || !back)
    throw new Error(`callback failed: ${callback.status} ${await callback.text()}`);
  // The platform's return page: confirms with the same user's caller JWT (docs/security.md).
  const returned = new URL(back).searchParams;
  if (returned.get('status') === 'confirm') {
    const complete = await call(userId, 'POST', '/auth/microsoft/complete', {
      completionCode: returned.get('completion'),
    });
    if (complete.status !== 200)
      throw new Error(`complete failed: ${complete.status} ${await complete.text()}`);
  } else if (returned.get('status') !== 'connected') {
    throw new Error(`callback returned ${back}`);
  }
  return userId;
}
