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

export type AuthLevel = 'anonymous' | 'function' | 'admin';

export interface HttpSpec {
  kind: 'http';
  name: string;
  route: string;
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
}
export type TriggerSpec = HttpSpec | TimerSpec | QueueSpec;

const registry = new Map<string, TriggerSpec>();

// Streams let large uploads and downloads pass through without being buffered whole.
app.setup({ enableHttpStream: true });

function record(spec: TriggerSpec): void {
  if (registry.has(spec.name)) throw new Error(`Function "${spec.name}" is registered twice`);
  registry.set(spec.name, spec);
}

export function registerHttp(
  name: string,
  options: { route: string; methods: HttpMethod[]; authLevel: AuthLevel; handler: HttpHandler },
): void {
  record({ kind: 'http', name, ...options });
  const httpOptions: HttpFunctionOptions = {
    route: options.route,
    methods: options.methods,
    authLevel: options.authLevel,
    handler: options.handler,
  };
  app.http(name, httpOptions);
}

export function registerTimer(
  name: string,
  options: { schedule: string; runOnStartup?: boolean; handler: TimerHandler },
): void {
  const runOnStartup = options.runOnStartup ?? false;
  record({ kind: 'timer', name, schedule: options.schedule, runOnStartup, handler: options.handler });
  app.timer(name, { schedule: options.schedule, runOnStartup, handler: options.handler });
}

export function registerQueue(
  name: string,
  options: { queueName: string; connection?: string; handler: StorageQueueHandler },
): void {
  const connection = options.connection ?? 'AzureWebJobsStorage';
  record({ kind: 'queue', name, queueName: options.queueName, connection, handler: options.handler });
  app.storageQueue(name, { queueName: options.queueName, connection, handler: options.handler });
}

/** What has been registered so far (the local host and tests read this). */
export function registrations(): TriggerSpec[] {
  return [...registry.values()];
}
