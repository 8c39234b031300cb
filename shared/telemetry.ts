/**
 * OpenTelemetry (issue 38; docs/operations.md): traces and metrics of what the app does, exported
 * to Application Insights through @azure/monitor-opentelemetry when
 * APPLICATIONINSIGHTS_CONNECTION_STRING is set, and nothing when it is not (the API's no-op
 * provider: no exporter loaded, no span recorded, nothing added to cold start).
 *
 * Spans: one per invocation (shared/correlation.ts `traced`), one per Graph request attempt (the
 * chokepoint, shared/graph/middleware.ts), the audit write (shared/audit.ts); a queued message
 * carries the W3C `traceparent` of the span that queued it, so a request and the work it caused
 * (sync jobs, notifications, events) are one trace. Attributes never carry a token, a body or a
 * URL (ids and addresses live in paths): functions, invocation ids, methods, statuses, throttling.
 */
import {
  context,
  createNoopMeter,
  metrics,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Context,
  type Span,
} from '@opentelemetry/api';

const NAME = 'm365-integration';

export { SpanKind };

export const tracer = () => trace.getTracer(NAME);
const meter = () => metrics.getMeter(NAME);

let started = false;

/**
 * Starts the Azure Monitor distro once per process when the connection string is set (loaded only
 * then). Its HTTP instrumentation stays off: incoming URLs carry OAuth codes and outgoing ones
 * user ids, and the invocation and Graph spans here say what they did without them.
 */
export function startTelemetry(env: Record<string, string | undefined> = process.env): boolean {
  if (started) return true;
  const connectionString = env.APPLICATIONINSIGHTS_CONNECTION_STRING;
  if (!connectionString) return false;
  started = true;
  const { useAzureMonitor } =
    require('@azure/monitor-opentelemetry') as typeof import('@azure/monitor-opentelemetry');
  useAzureMonitor({
    azureMonitorExporterOptions: { connectionString, ...ingestionCredential(env) },
    instrumentationOptions: { http: { enabled: false }, azureSdk: { enabled: true } },
    // Whole traces, not the distro's default of 5 per second: an operator finds any request by
    // its requestId. OTEL_TRACES_SAMPLER / OTEL_TRACES_SAMPLER_ARG override it (docs/operations.md).
    tracesPerSecond: 0,
    samplingRatio: 1,
  });
  return true;
}

/**
 * The templates turn Application Insights' local authentication off and have the app ingest as its
 * managed identity (`APPLICATIONINSIGHTS_AUTHENTICATION_STRING=ClientId=…;Authorization=AAD`, the
 * setting the Functions host reads too): the exporter gets the same identity.
 */
export function ingestionCredential(env: Record<string, string | undefined>): {
  credential?: import('@azure/core-auth').TokenCredential;
} {
  const auth = env.APPLICATIONINSIGHTS_AUTHENTICATION_STRING ?? '';
  if (!/Authorization=AAD/i.test(auth)) return {};
  const clientId = /ClientId=([^;]+)/i.exec(auth)?.[1];
  const { ManagedIdentityCredential } = require('@azure/identity') as typeof import('@azure/identity');
  return {
    credential: clientId ? new ManagedIdentityCredential({ clientId }) : new ManagedIdentityCredential(),
  };
}

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/** The context a W3C traceparent names (a message's or a request's), or the root. */
export function contextFrom(traceparent: string | undefined): Context {
  const m = traceparent ? TRACEPARENT.exec(traceparent) : null;
  if (!m) return ROOT_CONTEXT;
  return trace.setSpanContext(ROOT_CONTEXT, {
    traceId: m[1]!,
    spanId: m[2]!,
    traceFlags: Number.parseInt(m[3]!, 16),
    isRemote: true,
  });
}

/** The W3C traceparent of the active span (undefined when nothing is recorded). */
export function currentTraceparent(): string | undefined {
  const span = trace.getActiveSpan();
  const c = span?.spanContext();
  if (!c || !trace.isSpanContextValid(c)) return undefined;
  return `00-${c.traceId}-${c.spanId}-${c.traceFlags.toString(16).padStart(2, '0')}`;
}

/** An invocation's span, the parent of everything it does; `run` runs inside it. */
export async function inInvocationSpan<T>(
  name: string,
  kind: SpanKind,
  attributes: Attributes,
  parent: Context,
  run: () => Promise<T>,
): Promise<T> {
  const span = tracer().startSpan(name, { kind, attributes }, parent);
  return await context.with(trace.setSpan(parent, span), async () => await ended(span, run));
}

/** Runs `run` under no span: work an invocation starts that outlives it (the audit log's writer). */
export function withoutSpan<T>(run: () => T): T {
  return context.with(ROOT_CONTEXT, run);
}

/** A child span of the active one (a Graph request, an audit write) around `run`. */
export async function inSpan<T>(
  name: string,
  kind: SpanKind,
  attributes: Attributes,
  run: (span: Span) => Promise<T>,
): Promise<T> {
  const span = tracer().startSpan(name, { kind, attributes });
  return await context.with(
    trace.setSpan(context.active(), span),
    async () => await ended(span, () => run(span)),
  );
}

async function ended<T>(span: Span, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    // The error's class only: messages can quote what a caller or Graph sent.
    span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.name : 'error' });
    throw err;
  } finally {
    span.end();
  }
}

/** Metric instruments, created on first use (no-ops without a provider). */
let instruments:
  | {
      graphRequests: ReturnType<ReturnType<typeof meter>['createCounter']>;
      tokenRefreshes: ReturnType<ReturnType<typeof meter>['createCounter']>;
      webhookAck: ReturnType<ReturnType<typeof meter>['createHistogram']>;
      eventDeliveries: ReturnType<ReturnType<typeof meter>['createCounter']>;
      queueWait: ReturnType<ReturnType<typeof meter>['createHistogram']>;
      queueDepth: ReturnType<ReturnType<typeof meter>['createGauge']>;
      queueOldest: ReturnType<ReturnType<typeof meter>['createGauge']>;
      syncLag: ReturnType<ReturnType<typeof meter>['createHistogram']>;
    }
  | undefined;

function metric() {
  instruments ??= {
    graphRequests: meter().createCounter('m365.graph.requests', {
      description: 'Graph request attempts, by method, status class and whether Graph throttled them',
    }),
    tokenRefreshes: meter().createCounter('m365.token.refreshes', {
      description: 'Access token refreshes, by outcome (ok, reauth_required, failed)',
    }),
    webhookAck: meter().createHistogram('m365.webhook.ack_ms', {
      description: 'Time to acknowledge a Graph change notification POST',
      unit: 'ms',
    }),
    eventDeliveries: meter().createCounter('m365.events.deliveries', {
      description: 'Signed event deliveries to the platform, by outcome',
    }),
    queueWait: meter().createHistogram('m365.queue.wait_ms', {
      description: 'How long a queued message waited after it was due (queued, or its delay ended), by queue',
      unit: 'ms',
    }),
    queueDepth: meter().createGauge('m365.queue.depth', {
      description: 'Messages in a queue (approximate, delayed ones included), by queue',
    }),
    queueOldest: meter().createGauge('m365.queue.oldest_age_s', {
      description: 'Age of the message at the front of a queue (0 when none is visible), by queue',
      unit: 's',
    }),
    syncLag: meter().createHistogram('m365.sync.lag_ms', {
      description:
        'From the change (or the timer turn) that asked for a sync round to the round saved, by resource kind and reason',
      unit: 'ms',
    }),
  };
  return instruments;
}

export function recordGraphRequest(method: string, status: number): void {
  metric().graphRequests.add(1, {
    'http.request.method': method,
    'http.response.status_class': `${Math.floor(status / 100)}xx`,
    'm365.throttled': status === 429 || status === 503,
  });
}

export function recordTokenRefresh(outcome: 'ok' | 'reauth_required' | 'failed'): void {
  metric().tokenRefreshes.add(1, { outcome });
}

export function recordWebhookAck(ms: number): void {
  metric().webhookAck.record(ms);
}

export function recordEventDelivery(outcome: 'delivered' | 'failed' | 'dead_lettered'): void {
  metric().eventDeliveries.add(1, { outcome });
}

export function recordQueueWait(queue: string, ms: number): void {
  metric().queueWait.record(Math.max(0, ms), { 'messaging.destination.name': queue });
}

export function recordQueueState(queue: string, depth: number, oldestAgeSeconds: number): void {
  const attributes = { 'messaging.destination.name': queue };
  metric().queueDepth.record(depth, attributes);
  metric().queueOldest.record(Math.max(0, oldestAgeSeconds), attributes);
}

/** `kind` is the resource's kind (mail, todo, teamschat …), never its id: one series per kind. */
export function recordSyncLag(kind: string, reason: string, ms: number): void {
  metric().syncLag.record(Math.max(0, ms), { 'm365.resource_kind': kind, 'm365.sync_reason': reason });
}

/**
 * Whether metrics go anywhere: false under the API's no-op provider (no connection string, no
 * provider a test registered), so work done only to be measured (sampling queues) is skipped.
 */
export function metricsRecorded(): boolean {
  return metrics.getMeter(NAME) !== createNoopMeter();
}
