/**
 * Traces (issue 38, must-show): with a tracer provider registered (in Azure, useAzureMonitor
 * registers one when APPLICATIONINSIGHTS_CONNECTION_STRING is set: shared/telemetry.ts), one
 * action is one trace whose spans cover the function, its Graph request and its audit write, named
 * by the caller's requestId, with no token or body in any attribute; a caller's traceparent is
 * continued; work a request queues continues its trace across the queue hop.
 */
import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
  type ReadableSpan,
} from '@opentelemetry/sdk-trace-base';
import { startTestApp, type TestApp } from '../support/app';
import { waitFor } from '../support/sandbox';

const exporter = new InMemorySpanExporter();
let t: TestApp;
let userId: string;

beforeAll(async () => {
  trace.setGlobalTracerProvider(
    new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }),
  );
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  t = await startTestApp();
  userId = await t.connect('adele.vance@contoso.test', { features: ['mail', 'todo'] });
});
afterAll(async () => {
  await t.stop();
  trace.disable();
  context.disable();
});

const spans = (): ReadableSpan[] => exporter.getFinishedSpans();
const parentOf = (s: ReadableSpan): string | undefined => s.parentSpanContext?.spanId;
const invocation = (requestId: string) =>
  spans().find((s) => s.attributes['faas.invocation_id'] === requestId);

test('one action is one trace: the function, its Graph request and its audit write, no token or body in any attribute', async () => {
  exporter.reset();
  const res = await t.call(userId, 'POST', '/profile/getMe', {}, { 'cache-control': 'no-cache' });
  expect(res.status).toBe(200);
  const body = (await res.json()) as { displayName: string; mail: string };
  const requestId = res.headers.get('x-request-id')!;
  const root = await waitFor(() => invocation(requestId));
  expect(root.name).toBe('profileActions');
  expect(root.attributes['faas.trigger']).toBe('http');

  const traceId = root.spanContext().traceId;
  const own = await waitFor(() => {
    const found = spans().filter((s) => s.spanContext().traceId === traceId);
    return found.some((s) => s.name === 'audit write') && found;
  });
  const graph = own.filter((s) => s.name === 'graph GET');
  expect(graph).toHaveLength(1);
  expect(graph[0]!.attributes['http.response.status_code']).toBe(200);
  expect(graph[0]!.attributes['m365.throttled']).toBe(false);
  expect(own.filter((s) => s.name === 'audit write')).toHaveLength(1);
  // Both are children of the function's span.
  for (const child of own.filter((s) => s !== root)) expect(parentOf(child)).toBe(root.spanContext().spanId);

  const values = own.flatMap((s) => Object.values(s.attributes).map(String));
  expect(values.length).toBeGreaterThan(0);
  for (const v of values) {
    expect(v).not.toMatch(/eyJ[\w-]+\.[\w-]+/); // a JWT
    expect(v).not.toMatch(/bearer/i);
    expect(v).not.toContain('https://'); // no URL, whose path names users and items
    expect(v).not.toContain(body.displayName);
    expect(v).not.toContain(body.mail);
  }
});

test('a caller’s W3C traceparent is continued', async () => {
  const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
  const res = await t.call(
    userId,
    'POST',
    '/profile/getMe',
    {},
    { traceparent: `00-${traceId}-00f067aa0ba902b7-01` },
  );
  expect(res.status).toBe(200);
  await res.text();
  const root = await waitFor(() => invocation(res.headers.get('x-request-id')!));
  expect(root.spanContext().traceId).toBe(traceId);
  expect(parentOf(root)).toBe('00f067aa0ba902b7');
});

test('work a request queues continues its trace across the queue hop', async () => {
  exporter.reset();
  // The connect's completing request queues the new connection's first sync rounds.
  await t.connect('megan.bowen@contoso.test', { features: ['contacts'] });
  const complete = await waitFor(() => spans().find((s) => s.name === 'authComplete'));
  const traceId = complete.spanContext().traceId;
  const worker = await waitFor(
    // (With storage shards, the copy serving the user's account: syncWorkerShard1, …)
    () => spans().find((s) => /^syncWorker(Shard\d+)?$/.test(s.name) && s.spanContext().traceId === traceId),
    15_000,
  );
  expect(worker.attributes['faas.trigger']).toBe('pubsub');
  // Queued from inside the request's span: that span is the worker's parent.
  expect(parentOf(worker)).toBe(complete.spanContext().spanId);
  // The worker's own Graph request is in the same trace, under the worker.
  const graph = await waitFor(() =>
    spans().find((s) => s.name === 'graph GET' && parentOf(s) === worker.spanContext().spanId),
  );
  expect(graph.spanContext().traceId).toBe(traceId);
});
