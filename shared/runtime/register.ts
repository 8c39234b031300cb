/**
 * Every function registers through these helpers: they call the real `app.*` (so the same files
 * run under the Functions host in Azure) and record the trigger spec, which the local host
 * (scripts/localhost.ts) serves because Core Tools cannot run on our machines.
 */
import {
  app,
  type HttpFunctionOptions,
  type HttpHandler,
  type HttpMethod,
  type StorageQueueHandler,
  type TimerHandler,
} from '@azure/functions';
import { takeCarried, traced } from '../correlation';
import { recordQueueWait, SpanKind, startTelemetry } from '../telemetry';
import { shardCopies } from '../shards';
import { hostRoute } from './routes';

export type AuthLevel = 'anonymous' | 'function' | 'admin';

export interface HttpSpec {
  kind: 'http';
  name: string;
  /** The route under /api, or at the site's root when `root` is set (the OAuth well-known documents). */
  route: string;
  root?: boolean;
  methods: HttpMethod[];
  authLevel: AuthLevel;
  handler: HttpHandler;
}
export interface TimerSpec {
  kind: 'timer';
  name: string;
  schedule: string;
  runOnStartup: boolean;
  handler: TimerHandler;
}
export interface QueueSpec {
  kind: 'queue';
  name: string;
  queueName: string;
  connection: string;
  handler: StorageQueueHandler;
  /** A copy serving storage shard k's queue (shared/shards.ts `shardCopies`). */
  shard?: number;
}
export type TriggerSpec = HttpSpec | TimerSpec | QueueSpec;

const registry = new Map<string, TriggerSpec>();

/**
 * In the deployment package (scripts/package.mjs) the host indexes the functions from a small
 * entry (shared/runtime/deferred.ts) and the app's code is loaded on the first invocation, after
 * indexing: there these helpers only record (the package build defines `__RECORD_ONLY__`), since
 * the host accepts registrations during startup only.
 */
declare const __RECORD_ONLY__: boolean | undefined;
const recordOnly = typeof __RECORD_ONLY__ !== 'undefined' && __RECORD_ONLY__ === true;

// Every handler runs traced (shared/correlation.ts): its log lines carry its invocation id
// and the id of the invocation that started the work; a queue message continues its origin.
// With telemetry on, each invocation is a span, continuing a caller's W3C traceparent header or
// the one a queued message carries (shared/telemetry.ts).
const tracedHttp =
  (handler: HttpHandler): HttpHandler =>
  async (request, context) =>
    await traced(context, undefined, async () => await handler(request, context), {
      kind: SpanKind.SERVER,
      trigger: 'http',
      traceparent: request.headers.get('traceparent') ?? undefined,
    });
const tracedTimer =
  (handler: TimerHandler): TimerHandler =>
  async (timer, context) =>
    await traced(context, undefined, async () => await handler(timer, context), {
      kind: SpanKind.INTERNAL,
      trigger: 'timer',
    });
const tracedQueue =
  (queueName: string, handler: StorageQueueHandler): StorageQueueHandler =>
  async (message, context) => {
    const carried = takeCarried(message);
    // Due when queued (the host's insertionTime, kept across retries) or, for a message queued
    // with a delay, when the delay ended: the wait after that is the queue's age at dequeue.
    const inserted = context.triggerMetadata?.insertionTime;
    const insertedAt =
      typeof inserted === 'string' || inserted instanceof Date ? new Date(inserted).getTime() : NaN;
    const dueAt = Math.max(carried.dueAt ?? 0, Number.isNaN(insertedAt) ? 0 : insertedAt);
    if (dueAt > 0) recordQueueWait(queueName, Date.now() - dueAt);
    await traced(context, carried, async () => await handler(message, context), {
      kind: SpanKind.CONSUMER,
      trigger: 'pubsub',
      ...(carried.traceparent ? { traceparent: carried.traceparent } : {}),
    });
  };

// Streams let large uploads and downloads pass through without being buffered whole.
if (!recordOnly) app.setup({ enableHttpStream: true });
// Traces and metrics to Application Insights when its connection string is set (else nothing).
startTelemetry();

function record(spec: TriggerSpec): void {
  if (registry.has(spec.name)) throw new Error(`Function "${spec.name}" is registered twice`);
  registry.set(spec.name, spec);
}

export function registerHttp(
  name: string,
  options: {
    route: string;
    root?: boolean;
    methods: HttpMethod[];
    authLevel: AuthLevel;
    handler: HttpHandler;
  },
): void {
  const handler = tracedHttp(options.handler);
  record({ kind: 'http', name, ...options, handler });
  const httpOptions: HttpFunctionOptions = {
    route: hostRoute(options),
    methods: options.methods,
    authLevel: options.authLevel,
    handler,
  };
  if (!recordOnly) app.http(name, httpOptions);
}

export function registerTimer(
  name: string,
  options: { schedule: string; runOnStartup?: boolean; handler: TimerHandler },
): void {
  const runOnStartup = options.runOnStartup ?? false;
  const handler = tracedTimer(options.handler);
  record({ kind: 'timer', name, schedule: options.schedule, runOnStartup, handler });
  if (!recordOnly) app.timer(name, { schedule: options.schedule, runOnStartup, handler });
}

export function registerQueue(
  name: string,
  options: { queueName: string; connection?: string; handler: StorageQueueHandler },
): void {
  const connection = options.connection ?? 'AzureWebJobsStorage';
  const handler = tracedQueue(options.queueName, options.handler);
  const spec: QueueSpec = { kind: 'queue', name, queueName: options.queueName, connection, handler };
  record(spec);
  // A user queue has one in every storage account: each gets its copy of the function.
  if (!recordOnly)
    for (const s of [spec, ...shardCopies(spec)])
      app.storageQueue(s.name, { queueName: s.queueName, connection: s.connection, handler });
}

const shutdownHooks: Array<() => Promise<void>> = [];

/**
 * Work to finish when the instance shuts down gracefully (the Functions host's appTerminate hook;
 * the local host's stop): the audit writer flushes what it journaled. A forced end skips it.
 */
export function onShutdown(hook: () => Promise<void>): void {
  shutdownHooks.push(hook);
  if (!recordOnly) app.hook.appTerminate(async () => await hook());
}

/** Runs every shutdown hook (the local host on stop; the package entry's appTerminate). */
export async function runShutdownHooks(): Promise<void> {
  await Promise.all(shutdownHooks.map(async (hook) => await hook()));
}

/**
 * What has been registered so far (the local host and tests read this), with the copies of the
 * user queues' functions for the storage shards configured now.
 */
export function registrations(): TriggerSpec[] {
  return [...registry.values()].flatMap((s): TriggerSpec[] =>
    s.kind === 'queue' ? [s, ...shardCopies(s)] : [s],
  );
}
