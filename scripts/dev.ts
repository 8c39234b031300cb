/**
 * `npm start`: Azurite (data under .local/azurite), the sandbox (when the settings point at it)
 * and the local Functions host, with URLs printed. Ctrl-C stops everything and leaves no process
 * behind. With real Microsoft settings in local.settings.json the sandbox is not started and the
 * same command talks to real Microsoft.
 *
 * Both the sandbox tenant (.local/sandbox) and Azurite (.local/azurite) keep their data across
 * restarts; `npm start -- --reset` wipes both first (scripts/local-state.ts).
 */
import { existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import { loadFunctions } from '../shared/runtime/load';
import { startAzurite, type RunningAzurite } from './azurite';
import { startLocalHost, type LocalHost } from './localhost';
import { ConfigError, parseConfig } from '../shared/config';
import { StateError } from '../sandbox/persist';
import { localStateDirs, resetLocalState } from './local-state';
import {
  alignPorts,
  isLoopbackUrl,
  loadLocalSettings,
  localUrlProblems,
  SettingsFileError,
} from './settings';

// Outside the real host @azure/functions warns that it runs in "test mode" once per function:
// expected here (this script is the host), so those lines are dropped to keep the output readable.
const warn = console.warn.bind(console);
console.warn = (...args: unknown[]) => {
  const first = typeof args[0] === 'string' ? args[0] : '';
  if (first.includes('Azure Functions runtime') || first.includes('package is in test mode')) return;
  warn(...args);
};

const USAGE = 'usage: npm start [-- --reset]';

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const unknown = args.filter((a) => a !== '--reset');
  if (unknown.length) throw new UsageError(`unknown option(s): ${unknown.join(' ')}\n${USAGE}`);
  const root = process.cwd();
  const explicit = new Set(Object.keys(process.env));
  const loaded = loadLocalSettings(root);
  console.log(`settings: ${loaded.file}`);
  alignPorts(loaded, explicit);
  checkSettings();
  const dirs = localStateDirs(root);
  if (args.includes('--reset')) for (const line of resetLocalState(root, dirs)) console.log(line);
  const stops: Array<() => Promise<void>> = [];

  // Decided before Azurite creates its directory: data left from a run whose tenant is gone.
  const azuriteHadData = existsSync(dirs.azurite);
  let azurite: RunningAzurite | undefined;
  if ((process.env.AzureWebJobsStorage ?? '').trim() === 'UseDevelopmentStorage=true') {
    azurite = await startAzurite({
      location: dirs.azurite,
      queuePort: Number(process.env.AZURITE_QUEUE_PORT ?? 10001),
      tablePort: Number(process.env.AZURITE_TABLE_PORT ?? 10002),
    });
    process.env.AzureWebJobsStorage = azurite.connectionString;
    stops.push(() => azurite!.stop());
    console.log(
      `azurite: queues :${azurite.queuePort}, tables :${azurite.tablePort} (data in ${relative(root, dirs.azurite) || dirs.azurite})`,
    );
  }

  if (isLoopbackUrl(process.env.MICROSOFT_AUTHORITY_HOST) && isLoopbackUrl(process.env.GRAPH_BASE_URL)) {
    const { startSandbox } = await import('../sandbox/index.js');
    const port = Number(process.env.SANDBOX_PORT ?? new URL(process.env.GRAPH_BASE_URL!).port ?? 7443);
    const sandbox = await startSandbox({
      port,
      ...(process.env.SANDBOX_BROWSER_PORT ? { browserPort: Number(process.env.SANDBOX_BROWSER_PORT) } : {}),
      app: {
        clientId: process.env.MICROSOFT_CLIENT_ID ?? '',
        clientSecret: process.env.MICROSOFT_CLIENT_SECRET ?? '',
        redirectUris: [process.env.MICROSOFT_REDIRECT_URI ?? ''],
      },
      verbose: process.env.SANDBOX_VERBOSE === 'true',
      stateDir: dirs.sandbox,
    });
    stops.push(() => sandbox.stop());
    const restored = sandbox.persistence?.snapshot;
    console.log(
      restored
        ? `sandbox: tenant restored from ${relative(root, dirs.sandbox) || dirs.sandbox} (saved ${restored.savedAt}; npm start -- --reset starts afresh)`
        : `sandbox: new demo tenant, kept in ${relative(root, dirs.sandbox) || dirs.sandbox} across restarts`,
    );
    if (!restored && azuriteHadData)
      console.log(
        'sandbox: Azurite still holds connections from an earlier tenant; they will ask to reconnect (npm start -- --reset wipes both)',
      );
    console.log(
      `sandbox: ${sandbox.url} (Graph ${sandbox.graphBaseUrl}); sign-in pages ${sandbox.browserUrl} (users: ${sandbox.browserUrl}/_sandbox/users)`,
    );
  } else {
    console.log('sandbox: not started (settings point at real Microsoft)');
  }

  const registrations = loadFunctions(join(__dirname, '..', 'functions'));
  const host: LocalHost = await startLocalHost({
    registrations,
    port: Number(process.env.PORT ?? 7071),
    functionKey: process.env.LOCAL_FUNCTION_KEY ?? 'local-function-key',
    masterKey: process.env.LOCAL_MASTER_KEY ?? 'local-master-key',
  });
  stops.unshift(() => host.stop());
  const http = registrations.filter((r) => r.kind === 'http').length;
  console.log(
    `functions: ${host.url}/api (${http} HTTP routes, ${registrations.length - http} timers and queue triggers)`,
  );
  console.log(`health: ${host.url}/api/health`);
  console.log('ready — press Ctrl-C to stop');

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`\n${signal}: stopping…`);
    const force = setTimeout(() => process.exit(1), 10000);
    force.unref();
    void (async () => {
      for (const stop of stops) await stop().catch(() => undefined);
      process.exit(0);
    })();
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
}

/**
 * Every invalid or missing setting stops `npm start` here, before anything starts and before
 * "ready": the same checks the app runs (shared/config.ts) plus where the local host listens.
 */
function checkSettings(): void {
  const problems = [...localUrlProblems()];
  try {
    parseConfig(process.env); // not cached: Azurite's connection string replaces the sample's below
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    problems.push(...err.problems);
  }
  if (problems.length === 0) return;
  throw new ConfigError(problems);
}

class UsageError extends Error {}

main().catch((err: unknown) => {
  if (err instanceof ConfigError) {
    console.error('npm start: the settings are not valid; nothing was started.');
    for (const p of err.problems) console.error(`  - ${p}`);
  } else if (err instanceof SettingsFileError || err instanceof StateError || err instanceof UsageError) {
    console.error(`npm start: ${err.message}`);
  } else {
    console.error(`npm start failed: ${(err as Error).message}`);
  }
  process.exit(1);
});
