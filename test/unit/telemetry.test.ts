import { trace } from '@opentelemetry/api';
import { contextFrom, currentTraceparent, startTelemetry } from '../../shared/telemetry';
import { takeCarried } from '../../shared/correlation';

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
