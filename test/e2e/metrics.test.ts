/**
 * Metrics operators watch (issue 38, item 3; docs/operations.md): with a meter provider registered
 * (in Azure, useAzureMonitor registers one when APPLICATIONINSIGHTS_CONNECTION_STRING is set), a
 * sync round records its lag by resource kind and reason, a queued message its wait, and the
 * minute timer every queue's depth and the age of its front message. A delayed job (a spread
 * timer's) is not late while it waits for its turn.
 */
import { InvocationContext } from '@azure/functions';
import { metrics } from '@opentelemetry/api';
import {
  AggregationTemporality,
  DataPointType,
  MeterProvider,
  MetricReader,
  type Histogram,
  type MetricData,
} from '@opentelemetry/sdk-metrics';
import { traced } from '../../shared/correlation';
import { enqueue } from '../../shared/storage/clients';
import { enqueueSyncJob } from '../../shared/sync/jobs';
import { getSyncState } from '../../shared/sync/state';
import { sampleQueues } from '../../shared/storage/queue-metrics';
import { startTestApp, type TestApp } from '../support/app';
import { waitFor } from '../support/sandbox';

class TestReader extends MetricReader {
  constructor() {
    super({ aggregationTemporalitySelector: () => AggregationTemporality.CUMULATIVE });
  }
  protected async onShutdown(): Promise<void> {}
  protected async onForceFlush(): Promise<void> {}
}

const reader = new TestReader();
let t: TestApp;
let userId: string;

beforeAll(async () => {
  metrics.setGlobalMeterProvider(new MeterProvider({ readers: [reader] }));
  t = await startTestApp();
  userId = await t.connect('adele.vance@contoso.test', { features: ['todo'] });
});
afterAll(async () => {
  await t.stop();
  metrics.disable();
});

async function metric(name: string): Promise<MetricData | undefined> {
  const { resourceMetrics } = await reader.collect();
  return resourceMetrics.scopeMetrics.flatMap((s) => s.metrics).find((m) => m.descriptor.name === name);
}

/** The histogram point with these attributes (cumulative since the start). */
async function histogram(name: string, attributes: Record<string, string>): Promise<Histogram | undefined> {
  const m = await metric(name);
  if (!m || m.dataPointType !== DataPointType.HISTOGRAM) return undefined;
  const point = m.dataPoints.find((p) => Object.entries(attributes).every(([k, v]) => p.attributes[k] === v));
  return point?.value;
}

async function gauge(name: string, queue: string): Promise<number | undefined> {
  const m = await metric(name);
  if (!m || m.dataPointType !== DataPointType.GAUGE) return undefined;
  return m.dataPoints.find((p) => p.attributes['messaging.destination.name'] === queue)?.value;
}

test('the first rounds after connecting record their sync lag, and their jobs their queue wait', async () => {
  const lag = await waitFor(async () => {
    const h = await histogram('m365.sync.lag_ms', {
      'm365.resource_kind': 'todo',
      'm365.sync_reason': 'connect',
    });
    return h && h.count > 0 ? h : undefined;
  });
  // From the connect that asked for it to the round saved: some time, and not hours.
  expect(lag.max).toBeGreaterThan(0);
  expect(lag.max).toBeLessThan(120_000);
  const wait = await histogram('m365.queue.wait_ms', { 'messaging.destination.name': 'sync-jobs' });
  expect(wait?.count).toBeGreaterThan(0);
  // Attributes name kinds and queues only: never a user or resource id.
  const lagMetric = await metric('m365.sync.lag_ms');
  for (const p of lagMetric!.dataPoints) {
    expect(Object.keys(p.attributes).sort()).toEqual(['m365.resource_kind', 'm365.sync_reason']);
    expect(JSON.stringify(p.attributes)).not.toContain(userId);
  }
});

test('a job queued with a delay is late only from the end of its delay', async () => {
  const key = { 'm365.resource_kind': 'todo', 'm365.sync_reason': 'manual' };
  const before = (await histogram('m365.sync.lag_ms', key))?.count ?? 0;
  const saved = (await getSyncState(userId, 'todo'))?.lastSuccessAt;
  const queuedAt = Date.now();
  // Queued as a function queues it: inside an invocation, whose start the message carries on.
  const queuing = new InvocationContext({ functionName: 'syncTimer', invocationId: 'metrics-test' });
  await traced(queuing, undefined, async () => {
    await enqueueSyncJob({ userId, resource: 'todo', reason: 'manual' }, { visibilityTimeoutSeconds: 2 });
  });
  const h = await waitFor(async () => {
    const found = await histogram('m365.sync.lag_ms', key);
    return found && found.count > before ? found : undefined;
  }, 30_000);
  const elapsed = Date.now() - queuedAt;
  expect((await getSyncState(userId, 'todo'))?.lastSuccessAt).not.toBe(saved);
  // Measured from the end of the 2-second delay, the lag is at most what passed after it; measured
  // from the queueing it would be at least 2 s more.
  expect(h.max).toBeLessThanOrEqual(elapsed - 2000);
});

test('the minute timer reports every queue’s depth and the age of its front message; delayed ones are not old', async () => {
  await enqueue('metrics-probe', { n: 1 });
  await enqueue('metrics-probe', { n: 2 });
  await enqueue('metrics-probe-later', { n: 3 }, { visibilityTimeoutSeconds: 600 });
  await t.host.invoke('queueMetricsTimer');
  expect(await gauge('m365.queue.depth', 'metrics-probe')).toBe(2);
  expect(await gauge('m365.queue.depth', 'metrics-probe-later')).toBe(1);
  expect(await gauge('m365.queue.oldest_age_s', 'metrics-probe-later')).toBe(0);

  // Twenty minutes on, the visible message is twenty minutes old; the delayed one still waits.
  const later = await sampleQueues(Date.now() + 20 * 60_000);
  expect(later.find((q) => q.queue === 'metrics-probe')?.oldestAgeSeconds).toBeGreaterThanOrEqual(1200);
  expect(later.find((q) => q.queue === 'metrics-probe-later')?.oldestAgeSeconds).toBe(0);
  expect(await gauge('m365.queue.oldest_age_s', 'metrics-probe')).toBeGreaterThanOrEqual(1200);
});

test('a delayed message that became visible has waited since its delay ended, not since it was queued', async () => {
  const queuedAt = Date.now();
  await enqueue('metrics-delayed', { n: 4 }, { visibilityTimeoutSeconds: 2 });
  await waitFor(async () => {
    const [state] = (await sampleQueues()).filter((q) => q.queue === 'metrics-delayed');
    return state && Date.now() - queuedAt > 2500 ? state : undefined;
  }, 10_000);
  // Ten minutes after queueing: at most 598 s since the delay ended; from the queueing it is 600.
  const later = (await sampleQueues(queuedAt + 600_000)).find((q) => q.queue === 'metrics-delayed');
  expect(later?.oldestAgeSeconds).toBeLessThanOrEqual(598);
  expect(later?.oldestAgeSeconds).toBeGreaterThanOrEqual(590);
});
