/**
 * A local stand-in for the Azure Functions host, which cannot be installed on our machines.
 * It serves exactly the triggers recorded by shared/runtime/register with the host's semantics:
 * - HTTP under host.json's routePrefix, declared methods, `{param}` / `{param?}` / `{*rest}`
 *   routes, function keys for authLevel function/admin, streamed bodies both ways;
 * - timers on their 6-field NCRONTAB schedules, runOnStartup, and on demand through
 *   `POST /admin/functions/{name}` (master key), as the real host offers;
 * - Storage-queue triggers: base64 messages, dequeueCount, visibility-timeout backoff on failure,
 *   and after maxDequeueCount failed attempts the message moves to `<queue>-poison`.
 */
import { randomUUID, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import {
  HttpRequest,
  HttpResponse,
  InvocationContext,
  type HttpResponseInit,
  type LogLevel,
  type Timer,
} from '@azure/functions';
import { CronExpressionParser } from 'cron-parser';
import { Problem, problemResponse } from '../shared/http/problem';
import { decodeOrRaw, tryDecode } from '../shared/http/url';
import {
  runShutdownHooks,
  type HttpSpec,
  type QueueSpec,
  type TimerSpec,
  type TriggerSpec,
} from '../shared/runtime/register';
import { hostRoute } from '../shared/runtime/routes';
import { queueClient } from '../shared/storage/clients';
import type { DequeuedMessageItem, QueueClient } from '@azure/storage-queue';

export interface HostJson {
  extensions?: {
    http?: { routePrefix?: string };
    queues?: {
      maxDequeueCount?: number;
      visibilityTimeout?: string;
      batchSize?: number;
      newBatchThreshold?: number;
      maxPollingInterval?: string;
    };
  };
}

export interface LocalHostOptions {
  registrations: TriggerSpec[];
  port?: number;
  host?: string;
  hostJson?: HostJson;
  /** Key accepted for authLevel "function" routes (x-functions-key header or code query). */
  functionKey: string;
  /** Key accepted for authLevel "admin" routes and the admin API. */
  masterKey: string;
  /** Start timers on their schedules (tests usually run them on demand instead). */
  timers?: boolean;
  /** Poll queue triggers. */
  queues?: boolean;
  /** Overrides host.json queues.visibilityTimeout (milliseconds), for fast tests. */
  queueVisibilityTimeoutMs?: number;
  queuePollMs?: number;
  log?: (line: string) => void;
}

export interface LocalHost {
  url: string;
  port: number;
  /** Runs a timer or queue function once, as the admin API does. */
  invoke(name: string, input?: unknown): Promise<unknown>;
  stop(): Promise<void>;
}

/** Parses "hh:mm:ss" (or "d.hh:mm:ss") TimeSpan strings used in host.json. */
export function parseTimeSpan(value: string | undefined, fallbackMs: number): number {
  if (!value) return fallbackMs;
  const m = /^(?:(\d+)\.)?(\d{1,2}):(\d{2}):(\d{2})(?:\.(\d+))?$/.exec(value);
  if (!m) return fallbackMs;
  const [, d, h, mi, s] = m;
  return (((Number(d ?? 0) * 24 + Number(h)) * 60 + Number(mi)) * 60 + Number(s)) * 1000;
}

interface CompiledRoute {
  spec: HttpSpec;
  regex: RegExp;
  names: string[];
}

/** Compiles a Functions route template (ASP.NET style) into a matcher. */
export function compileRoute(template: string): { regex: RegExp; names: string[] } {
  const names: string[] = [];
  const segments = template
    .replace(/^\/+|\/+$/g, '')
    .split('/')
    .filter(Boolean);
  let pattern = '';
  for (const segment of segments) {
    const catchAll = /^\{\*([A-Za-z_][\w]*)(?::[^}]*)?\}$/.exec(segment);
    if (catchAll) {
      names.push(catchAll[1]!);
      pattern += '(?:/(.*))?';
      continue;
    }
    const optional = /^\{([A-Za-z_][\w]*)(?::[^}?]*)?\?\}$/.exec(segment);
    if (optional) {
      names.push(optional[1]!);
      pattern += '(?:/([^/]+))?';
      continue;
    }
    let seg = '';
    let rest = segment;
    const param = /\{([A-Za-z_][\w]*)(?::([^}]*))?\}/;
    while (rest.length > 0) {
      const m = param.exec(rest);
      if (!m) {
        seg += escapeRegex(rest);
        break;
      }
      seg += escapeRegex(rest.slice(0, m.index));
      names.push(m[1]!);
      seg += constraintPattern(m[2]);
      rest = rest.slice(m.index + m[0].length);
    }
    pattern += '/' + seg;
  }
  return { regex: new RegExp(`^${pattern}/?$`, 'i'), names };
}

function constraintPattern(constraint: string | undefined): string {
  switch (constraint) {
    case 'int':
      return '(-?\\d+)';
    case 'guid':
      return '([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})';
    case 'alpha':
      return '([A-Za-z]+)';
    default:
      return '([^/]+)';
  }
}

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function safeEqual(a: string, b: string): boolean {
  const ab = Buffer.from(a);
  const bb = Buffer.from(b);
  return ab.length === bb.length && timingSafeEqual(ab, bb);
}

function loadHostJson(): HostJson {
  try {
    return JSON.parse(readFileSync(join(process.cwd(), 'host.json'), 'utf8')) as HostJson;
  } catch {
    return {};
  }
}

/**
 * A handler loaded from the deployment package (scripts/package.mjs) answers with that package's
 * copy of @azure/functions' HttpResponse, which is not an instance of ours: recognise it by shape.
 */
function isHttpResponse(init: HttpResponseInit | HttpResponse): init is HttpResponse {
  if (init instanceof HttpResponse) return true;
  const candidate = init as Partial<HttpResponse>;
  return (
    typeof candidate.arrayBuffer === 'function' &&
    Array.isArray(candidate.cookies) &&
    typeof candidate.headers?.forEach === 'function'
  );
}

export async function startLocalHost(options: LocalHostOptions): Promise<LocalHost> {
  const hostJson = options.hostJson ?? loadHostJson();
  const log = options.log ?? ((line: string) => console.log(line));
  const prefix = (hostJson.extensions?.http?.routePrefix ?? 'api').replace(/^\/+|\/+$/g, '');
  const routes: CompiledRoute[] = options.registrations
    .filter((s): s is HttpSpec => s.kind === 'http')
    .map((spec) => ({ spec, ...compileRoute(`${prefix}/${hostRoute(spec)}`) }));
  const byName = new Map(options.registrations.map((s) => [s.name, s]));
  const stoppers: Array<() => Promise<void>> = [];
  let stopping = false;

  const logHandler =
    (functionName: string, invocationId: string) =>
    (level: LogLevel, ...args: unknown[]) => {
      const text = args
        .map((a) => (typeof a === 'string' ? a : a instanceof Error ? a.message : JSON.stringify(a)))
        .join(' ');
      log(`[${new Date().toISOString()}] ${level} ${functionName} (${invocationId.slice(0, 8)}): ${text}`);
    };

  function contextFor(name: string, triggerMetadata: Record<string, unknown> = {}): InvocationContext {
    const invocationId = randomUUID();
    return new InvocationContext({
      invocationId,
      functionName: name,
      logHandler: logHandler(name, invocationId),
      triggerMetadata,
    });
  }

  // ---------------------------------------------------------------- timers
  function timerInfo(spec: TimerSpec, isPastDue = false): Timer {
    const now = new Date();
    const next = CronExpressionParser.parse(spec.schedule, { currentDate: now }).next().toDate();
    return {
      isPastDue,
      schedule: { adjustForDST: true },
      scheduleStatus: { last: now.toISOString(), next: next.toISOString(), lastUpdated: now.toISOString() },
    };
  }

  async function runTimer(spec: TimerSpec): Promise<void> {
    const context = contextFor(spec.name);
    try {
      await spec.handler(timerInfo(spec), context);
    } catch (err) {
      context.error(`timer ${spec.name} failed: ${(err as Error).message}`);
      throw err;
    }
  }

  function scheduleTimer(spec: TimerSpec): void {
    let handle: NodeJS.Timeout | undefined;
    // setTimeout overflows above 2^31-1 ms (about 24.8 days) and would fire at once, so long
    // waits are taken in steps of at most an hour until the occurrence is due.
    const MAX_STEP_MS = 3600_000;
    const waitUntil = (due: number) => {
      if (stopping) return;
      const remaining = due - Date.now();
      if (remaining > 0) {
        handle = setTimeout(() => waitUntil(due), Math.min(remaining, MAX_STEP_MS));
        handle.unref?.();
        return;
      }
      runTimer(spec)
        .catch(() => undefined)
        .finally(arm);
    };
    const arm = () => {
      if (stopping) return;
      waitUntil(CronExpressionParser.parse(spec.schedule).next().toDate().getTime());
    };
    arm();
    stoppers.push(async () => clearTimeout(handle));
  }

  // ---------------------------------------------------------------- queues
  const queueSettings = hostJson.extensions?.queues ?? {};
  const maxDequeueCount = queueSettings.maxDequeueCount ?? 5;
  const visibilityMs = options.queueVisibilityTimeoutMs ?? parseTimeSpan(queueSettings.visibilityTimeout, 0);
  const maxPollMs = options.queuePollMs ?? parseTimeSpan(queueSettings.maxPollingInterval, 2000);
  const batchSize = Math.min(32, queueSettings.batchSize ?? 16);
  const newBatchThreshold = queueSettings.newBatchThreshold ?? Math.floor(batchSize / 2);

  function decodeQueueMessage(text: string): unknown {
    const decoded = Buffer.from(text, 'base64').toString('utf8');
    try {
      return JSON.parse(decoded);
    } catch {
      return decoded;
    }
  }

  async function runQueueMessage(
    spec: QueueSpec,
    input: unknown,
    metadata: Record<string, unknown>,
  ): Promise<void> {
    const context = contextFor(spec.name, metadata);
    await spec.handler(input, context);
  }

  /**
   * The host's queue listener: it fetches `batchSize` messages and runs them concurrently, and
   * fetches the next batch as soon as the number still running falls to `newBatchThreshold`
   * (default half the batch), so one slow message does not hold back the ones behind it. An empty
   * queue is polled again after a delay that doubles up to `maxPollingInterval`.
   * https://learn.microsoft.com/azure/azure-functions/functions-bindings-storage-queue#host-json
   */
  function pollQueue(spec: QueueSpec): void {
    let idleMs = 50;
    let timer: NodeJS.Timeout | undefined;
    let created = false;
    let polling: Promise<void> = Promise.resolve();
    const running = new Set<Promise<void>>();
    const handle = async (client: QueueClient, msg: DequeuedMessageItem) => {
      const metadata = {
        id: msg.messageId,
        dequeueCount: msg.dequeueCount,
        insertionTime: msg.insertedOn.toISOString(),
        expirationTime: msg.expiresOn.toISOString(),
        nextVisibleTime: msg.nextVisibleOn.toISOString(),
        popReceipt: msg.popReceipt,
        queueTrigger: Buffer.from(msg.messageText, 'base64').toString('utf8'),
      };
      try {
        await runQueueMessage(spec, decodeQueueMessage(msg.messageText), metadata);
        await client.deleteMessage(msg.messageId, msg.popReceipt);
      } catch (err) {
        if (msg.dequeueCount >= maxDequeueCount) {
          const poison = await queueClient(`${spec.queueName}-poison`, spec.connection);
          await poison.createIfNotExists();
          await poison.sendMessage(msg.messageText);
          await client.deleteMessage(msg.messageId, msg.popReceipt);
          log(
            `queue ${spec.queueName}: message ${msg.messageId} moved to ${spec.queueName}-poison after ${msg.dequeueCount} attempts (${(err as Error).message})`,
          );
        } else {
          await client.updateMessage(
            msg.messageId,
            msg.popReceipt,
            undefined,
            Math.ceil(visibilityMs / 1000),
          );
        }
      }
    };
    /** Fetches one batch and starts it; true when messages came. */
    const fetchBatch = async (): Promise<boolean> => {
      const client = await queueClient(spec.queueName, spec.connection);
      if (!created) {
        await client.createIfNotExists();
        created = true;
      }
      const received = await client.receiveMessages({ numberOfMessages: batchSize, visibilityTimeout: 600 });
      for (const msg of received.receivedMessageItems) {
        const run: Promise<void> = handle(client, msg)
          .catch((err: unknown) => log(`queue ${spec.queueName}: ${(err as Error).message}`))
          .finally(() => {
            running.delete(run);
            // Room for the next batch: fetch it now rather than at the next idle poll.
            if (running.size === newBatchThreshold && !stopping) schedule(0);
          });
        running.add(run);
      }
      return received.receivedMessageItems.length > 0;
    };
    let fetching = false;
    const loop = () => {
      timer = undefined;
      // Busy: a fetch on its way, or more running than the threshold (a finishing one calls again).
      if (stopping || fetching || running.size > newBatchThreshold) return;
      fetching = true;
      polling = fetchBatch()
        .finally(() => (fetching = false))
        .then((got) => {
          idleMs = got ? 50 : Math.min(maxPollMs, idleMs * 2);
          if (got) schedule(0);
          else schedule(idleMs);
        })
        .catch((err: unknown) => {
          idleMs = maxPollMs;
          log(`queue ${spec.queueName}: polling failed (${(err as Error).message})`);
          schedule(idleMs);
        });
    };
    const schedule = (ms: number) => {
      if (stopping) return;
      if (timer) {
        if (ms > 0) return;
        clearTimeout(timer);
      }
      timer = setTimeout(loop, ms);
    };
    loop();
    stoppers.push(async () => {
      clearTimeout(timer);
      await polling;
      await Promise.all(running);
    });
  }

  // ---------------------------------------------------------------- admin invoke
  async function invoke(name: string, input?: unknown): Promise<unknown> {
    const spec = byName.get(name);
    if (!spec) throw new Problem('not_found', `No function named "${name}"`);
    if (spec.kind === 'timer') return await runTimer(spec);
    if (spec.kind === 'queue') return await runQueueMessage(spec, input, { dequeueCount: 1 });
    throw new Problem('invalid_input', `"${name}" is an HTTP function: call its route instead`);
  }

  /**
   * A problem the host itself answers (unknown route, key refused): with a requestId in the body
   * and the x-request-id header, like every problem the functions answer.
   */
  function hostProblem(problem: Problem): HttpResponseInit {
    const requestId = randomUUID();
    const response = problemResponse(problem, requestId);
    return {
      ...response,
      headers: { ...(response.headers as Record<string, string>), 'x-request-id': requestId },
    };
  }

  // ---------------------------------------------------------------- http
  function keyFrom(req: IncomingMessage, url: URL): string | undefined {
    const header = req.headers['x-functions-key'];
    return (Array.isArray(header) ? header[0] : header) ?? url.searchParams.get('code') ?? undefined;
  }

  function keyAllows(level: 'function' | 'admin', key: string | undefined): boolean {
    if (!key) return false;
    if (safeEqual(key, options.masterKey)) return true;
    return level === 'function' && safeEqual(key, options.functionKey);
  }

  async function send(res: ServerResponse, init: HttpResponseInit | HttpResponse): Promise<void> {
    const response = isHttpResponse(init) ? init : new HttpResponse(init);
    const headers: Record<string, string | string[]> = {};
    response.headers.forEach((value, key) => {
      headers[key] = value;
    });
    const cookies = response.cookies.map((c) => {
      let s = `${c.name}=${c.value}`;
      if (c.path) s += `; Path=${c.path}`;
      if (c.domain) s += `; Domain=${c.domain}`;
      if (c.maxAge !== undefined) s += `; Max-Age=${c.maxAge}`;
      if (c.expires) s += `; Expires=${new Date(c.expires).toUTCString()}`;
      if (c.secure) s += '; Secure';
      if (c.httpOnly) s += '; HttpOnly';
      if (c.sameSite) s += `; SameSite=${c.sameSite}`;
      return s;
    });
    if (cookies.length > 0) headers['set-cookie'] = cookies;
    res.writeHead(response.status, headers);
    if (!response.body) {
      res.end();
      return;
    }
    const body = Readable.fromWeb(response.body);
    await new Promise<void>((resolve, reject) => {
      body.on('error', (err) => {
        res.destroy(err);
        reject(err);
      });
      res.on('close', () => {
        body.destroy();
        resolve();
      });
      body.pipe(res);
    });
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const hostHeader = req.headers.host ?? `127.0.0.1:${port}`;
    const url = new URL(req.url ?? '/', `http://${hostHeader}`);
    const path = url.pathname;

    const admin = /^\/admin\/functions\/([^/]+)\/?$/.exec(path);
    if (admin) {
      if (req.method !== 'POST') {
        return await send(
          res,
          hostProblem(new Problem('method_not_allowed', 'Use POST', {}, { allow: 'POST' })),
        );
      }
      if (!keyAllows('admin', keyFrom(req, url))) {
        return await send(
          res,
          hostProblem(new Problem('function_key_required', 'The admin API needs the master key')),
        );
      }
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      let input: unknown;
      try {
        const parsed = chunks.length
          ? (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { input?: unknown })
          : {};
        input = typeof parsed.input === 'string' ? decodeJsonMaybe(parsed.input) : parsed.input;
      } catch {
        return await send(
          res,
          hostProblem(new Problem('invalid_input', 'Body must be JSON like {"input": "..."}')),
        );
      }
      try {
        await invoke(decodeOrRaw(admin[1]!), input);
        return await send(res, { status: 202 });
      } catch (err) {
        if (err instanceof Problem) return await send(res, hostProblem(err));
        return await send(
          res,
          hostProblem(new Problem('internal_error', `The function failed: ${(err as Error).message}`)),
        );
      }
    }

    const matches = routes
      .map((route) => ({ route, m: route.regex.exec(path) }))
      .filter((x): x is { route: CompiledRoute; m: RegExpExecArray } => x.m !== null);
    if (matches.length === 0) {
      return await send(res, hostProblem(new Problem('route_not_found', `No function serves ${path}`)));
    }
    const method = (req.method ?? 'GET').toUpperCase();
    const hit = matches.find(({ route }) => route.spec.methods.includes(method as never));
    if (!hit) {
      const allow = [...new Set(matches.flatMap(({ route }) => route.spec.methods))].join(', ');
      return await send(
        res,
        hostProblem(
          new Problem(
            'method_not_allowed',
            `${method} is not allowed on ${path}; use ${allow}`,
            {},
            { allow },
          ),
        ),
      );
    }
    const { spec } = hit.route;
    const key = keyFrom(req, url);
    if (spec.authLevel !== 'anonymous' && !keyAllows(spec.authLevel, key)) {
      return await send(
        res,
        hostProblem(
          key
            ? new Problem(
                'function_key_invalid',
                "The function key you sent is not this app's: check x-functions-key (locally LOCAL_FUNCTION_KEY in the settings; in Azure the app's function or host key).",
              )
            : new Problem(
                'function_key_required',
                'Send the function key in the x-functions-key header or the code query parameter',
              ),
        ),
      );
    }
    const params: Record<string, string> = {};
    let malformed = false;
    hit.route.names.forEach((name, i) => {
      const value = hit.m[i + 1];
      if (value === undefined) return;
      const decoded = tryDecode(value);
      if (decoded === undefined) malformed = true;
      else params[name] = decoded;
    });
    if (malformed) {
      return await send(
        res,
        hostProblem(
          new Problem(
            'invalid_input',
            'The URL path is not correctly percent-encoded (a "%" must start %XX).',
          ),
        ),
      );
    }
    const headers = new Headers();
    for (const [key, value] of Object.entries(req.headers)) {
      if (value === undefined) continue;
      for (const v of Array.isArray(value) ? value : [value]) headers.append(key, v);
    }
    const hasBody = method !== 'GET' && method !== 'HEAD';
    // As the real host does in stream mode (createStreamRequest), the body is the live request stream.
    const nativeRequest = new Request(url.toString(), {
      method,
      headers,
      body: hasBody ? (Readable.toWeb(req) as unknown as BodyInit) : undefined,
      duplex: 'half',
    } as RequestInit);
    const request = new HttpRequest({ nativeRequest, params } as unknown as ConstructorParameters<
      typeof HttpRequest
    >[0]);
    const context = contextFor(spec.name, { headers: Object.fromEntries(headers) });
    let result: HttpResponseInit | HttpResponse;
    try {
      result = await spec.handler(request, context);
    } catch (err) {
      context.error(`unhandled error: ${(err as Error).message}`);
      result = hostProblem(new Problem('internal_error', 'The function failed unexpectedly'));
    }
    await drain(nativeRequest.body);
    await send(res, result);
  }

  /**
   * A handler that answered without reading the whole body (a 413, a validation error) would
   * leave the client mid-upload and see a reset; the real host reads the request in full, so the
   * rest is read and dropped here too, up to a bound.
   */
  async function drain(body: ReadableStream<Uint8Array> | null): Promise<void> {
    if (!body || body.locked) return;
    const reader = body.getReader();
    let seen = 0;
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        seen += value.length;
        if (seen > 256 * 1024 * 1024) {
          await reader.cancel();
          return;
        }
      }
    } catch {
      // the client went away: nothing to drain
    } finally {
      reader.releaseLock();
    }
  }

  function decodeJsonMaybe(text: string): unknown {
    try {
      return JSON.parse(text);
    } catch {
      return text;
    }
  }

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      log(`local host: request failed (${(err as Error).message})`);
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });
  server.requestTimeout = 0;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 7071, options.host ?? '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;

  if (options.queues ?? true) {
    for (const spec of options.registrations) if (spec.kind === 'queue') pollQueue(spec);
  }
  if (options.timers ?? true) {
    for (const spec of options.registrations) {
      if (spec.kind !== 'timer') continue;
      scheduleTimer(spec);
      if (spec.runOnStartup) runTimer(spec).catch(() => undefined);
    }
  }

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    invoke,
    async stop() {
      stopping = true;
      await Promise.all(stoppers.map((s) => s()));
      // As the Functions host runs the app's appTerminate hooks on a graceful shutdown.
      await runShutdownHooks();
      await new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      });
    },
  };
}
