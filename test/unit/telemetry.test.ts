import { trace } from '@opentelemetry/api';
import { contextFrom, currentTraceparent, metricsRecorded, startTelemetry } from '../../shared/telemetry';
import { askedAgoMs, takeCarried } from '../../shared/correlation';

test('without a connection string nothing starts and the exporter is never loaded', () => {
  expect(startTelemetry({})).toBe(false);
  expect(Object.keys(require.cache).some((k) => k.includes('monitor-opentelemetry'))).toBe(false);
  // No provider: nothing is recorded, so nothing is propagated either.
  expect(currentTraceparent()).toBeUndefined();
});

test('a W3C traceparent names the parent; anything else starts a new trace', () => {
  const parent = trace.getSpanContext(contextFrom('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'));
  expect(parent).toMatchObject({
    traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
    spanId: '00f067aa0ba902b7',
    traceFlags: 1,
    isRemote: true,
  });
  for (const bad of [
    undefined,
    '',
    'nonsense',
    '00-XYZ-00f067aa0ba902b7-01',
    '01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
  ])
    expect(trace.getSpanContext(contextFrom(bad))).toBeUndefined();
});

test('a queued message gives up its origin and traceparent before its handler sees it', () => {
  const message: Record<string, unknown> = {
    userId: 'u1',
    originId: 'inv-1',
    traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
  };
  expect(takeCarried(message)).toEqual({
    originId: 'inv-1',
    traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
  });
  expect(message).toEqual({ userId: 'u1' });
});

test('a queued message also gives up when its origin began and when it became due; malformed instants are ignored', () => {
  const message: Record<string, unknown> = {
    userId: 'u1',
    originId: 'inv-1',
    originAt: 1_800_000_000_000,
    dueAt: 1_800_000_060_000,
  };
  expect(takeCarried(message)).toEqual({
    originId: 'inv-1',
    originAt: 1_800_000_000_000,
    dueAt: 1_800_000_060_000,
  });
  expect(message).toEqual({ userId: 'u1' });
  const bad: Record<string, unknown> = { userId: 'u1', originAt: 'yesterday', dueAt: -5 };
  expect(takeCarried(bad)).toEqual({});
  expect(bad).toEqual({ userId: 'u1' });
});

test('the lag of queued work runs from its origin, or from the end of the delay it was queued with', () => {
  const trace = { invocationId: 'i', originId: 'o', originAt: 1_000 };
  expect(askedAgoMs(trace, 5_000)).toBe(4_000);
  expect(askedAgoMs({ ...trace, delayedUntil: 3_000 }, 5_000)).toBe(2_000);
  expect(askedAgoMs({ ...trace, delayedUntil: 500 }, 5_000)).toBe(4_000);
});

test('without a meter provider no metric is recorded, so the queue sampler has nothing to do', () => {
  expect(metricsRecorded()).toBe(false);
});
