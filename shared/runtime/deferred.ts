/**
 * The entry of the deployment package (scripts/package.mjs): it registers every function with
 * the Functions host from a manifest written at package time, and loads the app's code (the
 * `app.js` bundle) on the first invocation instead of at startup. On Flex Consumption every
 * scale-out starts a new worker, which indexes the functions before it can take any request; with
 * this entry indexing costs about what a bare `@azure/functions` import costs, and the app is
 * loaded once, by whichever invocation comes first (bench/results.md, "cold start").
 *
 * The whole app loads at once, never one function's files alone: modules register hooks as they
 * load (a new connection starts sync and subscriptions, a feed push wakes MCP streams and events,
 * every store joins export and erase), and an instance must run all of them whichever function
 * it serves first.
 */
import { app, type HttpHandler, type StorageQueueHandler, type TimerHandler } from '@azure/functions';
import type { HttpSpec, QueueSpec, TimerSpec, TriggerSpec } from './register';
import { shardCopies } from '../shards';
import { hostRoute } from './routes';

/** A registration without its handler: what the package writes into the entry. */
export type ManifestEntry =
  Omit<HttpSpec, 'handler'> | Omit<TimerSpec, 'handler'> | Omit<QueueSpec, 'handler'>;

/** The app bundle: the same registrations, with their handlers (shared/runtime/register.ts). */
export interface AppBundle {
  registrations(): TriggerSpec[];
  /** The app's graceful-shutdown work (register.ts onShutdown: the audit writer's flush). */
  runShutdownHooks?(): Promise<void>;
}

type AnyHandler = (input: unknown, context: unknown) => Promise<unknown>;

/** The manifest, read back from registrations (scripts/package.mjs writes it into the entry). */
export function toManifest(registrations: TriggerSpec[]): ManifestEntry[] {
  // The shards' copies are made where the app starts, from its own STORAGE_SHARDS.
  return registrations
    .filter((spec) => spec.kind !== 'queue' || spec.shard === undefined)
    .map((spec) => {
      switch (spec.kind) {
        case 'http':
          return {
            kind: 'http',
            name: spec.name,
            route: spec.route,
            ...(spec.root ? { root: true } : {}),
            methods: spec.methods,
            authLevel: spec.authLevel,
          };
        case 'timer':
          return { kind: 'timer', name: spec.name, schedule: spec.schedule, runOnStartup: spec.runOnStartup };
        case 'queue':
          return { kind: 'queue', name: spec.name, queueName: spec.queueName, connection: spec.connection };
      }
    });
}

/**
 * Registers every function of the manifest with the host; each handler loads the app on its
 * first call. Returns the registrations with those handlers (the local host can serve them).
 */
export function registerDeferred(manifest: ManifestEntry[], loadApp: () => AppBundle): TriggerSpec[] {
  let handlers: Map<string, AnyHandler> | undefined;
  let loaded: AppBundle | undefined;
  const handlerFor = (name: string): AnyHandler => {
    loaded ??= loadApp();
    handlers ??= new Map(loaded.registrations().map((s) => [s.name, s.handler as AnyHandler]));
    const handler = handlers.get(name);
    // Only a package built from two different trees could get here: fail loudly, not silently.
    if (!handler) throw new Error(`the app bundle registers no function named "${name}"`);
    return handler;
  };
  const deferred =
    (name: string): AnyHandler =>
    async (input, context) =>
      await handlerFor(name)(input, context);

  app.setup({ enableHttpStream: true });
  // The app registers its shutdown work when it loads, after the host's startup: the entry holds
  // the hook (an app never loaded has nothing to finish).
  app.hook.appTerminate(async () => await loaded?.runShutdownHooks?.());
  const entries = manifest.flatMap((e): ManifestEntry[] =>
    e.kind === 'queue' ? [e, ...shardCopies(e)] : [e],
  );
  return entries.map((entry): TriggerSpec => {
    switch (entry.kind) {
      case 'http': {
        const handler = deferred(entry.name) as HttpHandler;
        app.http(entry.name, {
          route: hostRoute(entry),
          methods: entry.methods,
          authLevel: entry.authLevel,
          handler,
        });
        return { ...entry, handler };
      }
      case 'timer': {
        const handler = deferred(entry.name) as TimerHandler;
        app.timer(entry.name, { schedule: entry.schedule, runOnStartup: entry.runOnStartup, handler });
        return { ...entry, handler };
      }
      case 'queue': {
        const handler = deferred(entry.name) as StorageQueueHandler;
        app.storageQueue(entry.name, { queueName: entry.queueName, connection: entry.connection, handler });
        return { ...entry, handler };
      }
    }
  });
}
