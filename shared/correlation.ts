/**
 * Correlation: every log line of an invocation names the invocation (`invocationId`) and the
 * invocation that started the chain of work it belongs to (`originId`), so one search in
 * Application Insights for a request's invocation id finds the request and everything it caused:
 * the notification it queued, the sync job that notification queued, the events that sync wrote.
 *
 * register.ts runs every handler inside `traced`; `enqueue` (shared/storage/clients.ts) stamps
 * object messages with the current `originId`, and a queue handler continues that origin instead
 * of starting its own. The Functions host also tags each context log with its InvocationId
 * (customDimensions); the fields in the line itself make the link searchable across invocations.
 * With telemetry on (shared/telemetry.ts) each invocation is also a span, and a queued message
 * carries its traceparent: the request and what it caused are one trace.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { InvocationContext } from '@azure/functions';
import { contextFrom, currentTraceparent, inInvocationSpan, SpanKind, withoutSpan } from './telemetry';

export interface Trace {
  invocationId: string;
  originId: string;
  /** The function this invocation runs (the host's name for it). */
  functionName?: string;
  /** Requests to storage, Key Vault and Graph this invocation made (shared/meter.ts). */
  roundTrips?: Record<string, number>;
  /** How long the handler ran (set when it ends): the execution time Azure bills. */
  durationMs?: number;
  /**
   * When the chain of work began (epoch ms): the origin invocation's start, carried by queued
   * messages, so a sync round can tell how long after a change notification reached us it ran.
   */
  originAt: number;
  /**
   * A message queued with a delay: when the delay ended (epoch ms). A spread timer job is not
   * late while it waits for its turn.
   */
  delayedUntil?: number;
}

/**
 * How long ago the work this invocation does was asked for: since its origin began (a change
 * notification received, a timer fired, a user connected) or, for work queued with a delay (a
 * spread timer job), since the delay ended. The sync lag (shared/sync/engine.ts).
 */
export function askedAgoMs(trace: Trace, now = Date.now()): number {
  return Math.max(0, now - Math.max(trace.originAt, trace.delayedUntil ?? 0));
}

let running = 0;

/** Handlers of this process running now (the scale benchmark waits for none). */
export function runningInvocations(): number {
  return running;
}

const endListeners: Array<(trace: Trace) => void> = [];

/** Called with each trace when its handler has finished (shared/meter.ts listens). */
export function onTraceEnd(listener: (trace: Trace) => void): void {
  if (!endListeners.includes(listener)) endListeners.push(listener);
}

/** The field a queued message carries its origin in. */
export const ORIGIN_FIELD = 'originId';
/** The field a queued message carries the W3C traceparent of the span that queued it in. */
export const TRACEPARENT_FIELD = 'traceparent';
/** The field a queued message carries its origin's start in (epoch ms). */
export const ORIGIN_AT_FIELD = 'originAt';
/** The field a message queued with a delay carries the end of that delay in (epoch ms). */
export const DUE_AT_FIELD = 'dueAt';

export interface Carried {
  originId?: string;
  traceparent?: string;
  originAt?: number;
  /** A message queued with a delay: the end of its delay (epoch ms). */
  dueAt?: number;
}

const storage = new AsyncLocalStorage<Trace>();

export function currentTrace(): Trace | undefined {
  return storage.getStore();
}

const ID = /^[A-Za-z0-9-]{1,100}$/;

const instant = (value: unknown): number | undefined =>
  typeof value === 'number' && Number.isSafeInteger(value) && value > 0 ? value : undefined;

/**
 * Reads (and removes) the fields a queued message carries: its origin, its traceparent, when the
 * origin began and when the message became due.
 */
export function takeCarried(message: unknown): Carried {
  if (!message || typeof message !== 'object' || Array.isArray(message)) return {};
  const record = message as Record<string, unknown>;
  const origin = record[ORIGIN_FIELD];
  const traceparent = record[TRACEPARENT_FIELD];
  const originAt = instant(record[ORIGIN_AT_FIELD]);
  const dueAt = instant(record[DUE_AT_FIELD]);
  for (const field of [ORIGIN_FIELD, TRACEPARENT_FIELD, ORIGIN_AT_FIELD, DUE_AT_FIELD]) delete record[field];
  return {
    ...(typeof origin === 'string' && ID.test(origin) ? { originId: origin } : {}),
    ...(typeof traceparent === 'string' && traceparent.length <= 55 ? { traceparent } : {}),
    ...(originAt !== undefined ? { originAt } : {}),
    ...(dueAt !== undefined ? { dueAt } : {}),
  };
}

/**
 * The message to queue, with the current origin (and when it began) and, when spans are recorded,
 * the traceparent of the active one; with `dueAt` when it is queued with a delay (objects only;
 * strings go as they are).
 */
export function withOrigin(message: unknown, dueAt?: number): unknown {
  if (!message || typeof message !== 'object' || Array.isArray(message)) return message;
  const trace = currentTrace();
  const record = message as Record<string, unknown>;
  const due = dueAt !== undefined ? { [DUE_AT_FIELD]: dueAt } : {};
  if (!trace || ORIGIN_FIELD in record) return dueAt !== undefined ? { ...record, ...due } : message;
  const traceparent = currentTraceparent();
  return {
    ...record,
    [ORIGIN_FIELD]: trace.originId,
    [ORIGIN_AT_FIELD]: trace.originAt,
    ...(traceparent ? { [TRACEPARENT_FIELD]: traceparent } : {}),
    ...due,
  };
}

/** A log line with the trace's ids: added to a JSON object line, appended to any other line. */
export function stampLine(line: unknown, trace: Trace): unknown {
  if (typeof line !== 'string') return line;
  if (line.startsWith('{')) {
    try {
      const parsed = JSON.parse(line) as unknown;
      if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) {
        return JSON.stringify({ ...parsed, invocationId: trace.invocationId, originId: trace.originId });
      }
    } catch {
      // not JSON after all: appended below
    }
  }
  return `${line} [invocationId=${trace.invocationId} originId=${trace.originId}]`;
}

const LEVELS = ['log', 'trace', 'debug', 'info', 'warn', 'error'] as const;

/**
 * Runs `run` outside any invocation: what it counts and logs belongs to no request. For work a
 * request starts that serves many (the audit log's writer flushing several requests' entries).
 */
export function detached<T>(run: () => T): T {
  return storage.exit(() => withoutSpan(run));
}

/**
 * Runs a handler with its trace: the context's log methods stamp every line, and anything the
 * handler queues carries the origin on.
 */
export async function traced<T>(
  context: InvocationContext,
  carried: Carried | undefined,
  run: () => Promise<T>,
  span: { kind: SpanKind; trigger: 'http' | 'timer' | 'pubsub'; traceparent?: string } = {
    kind: SpanKind.INTERNAL,
    trigger: 'timer',
  },
): Promise<T> {
  const from = carried ?? {};
  const trace: Trace = {
    invocationId: context.invocationId,
    originId: from.originId ?? context.invocationId,
    functionName: context.functionName,
    originAt: (from.originId ? from.originAt : undefined) ?? Date.now(),
    ...(from.dueAt !== undefined ? { delayedUntil: from.dueAt } : {}),
  };
  for (const level of LEVELS) {
    const original = context[level].bind(context);
    context[level] = (...args: unknown[]) =>
      original(...args.map((a, i) => (i === 0 ? stampLine(a, trace) : a)));
  }
  const started = performance.now();
  running += 1;
  try {
    // One span per invocation (shared/telemetry.ts): its children are the Graph requests and the
    // audit write; the caller's requestId is its invocation id.
    return await storage.run(
      trace,
      async () =>
        await inInvocationSpan(
          trace.functionName ?? 'invocation',
          span.kind,
          {
            'faas.name': trace.functionName ?? '',
            'faas.invocation_id': trace.invocationId,
            'faas.trigger': span.trigger,
            'm365.origin_id': trace.originId,
          },
          contextFrom(span.traceparent),
          run,
        ),
    );
  } finally {
    running -= 1;
    trace.durationMs = performance.now() - started;
    for (const listener of endListeners) listener(trace);
  }
}
