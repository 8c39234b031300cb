/**
 * With APPLICATIONINSIGHTS_CONNECTION_STRING set the Azure Monitor distro starts and spans are
 * recorded (its own file: the distro registers process-wide providers). The endpoint is a closed
 * local port, so nothing leaves the machine.
 */
import { trace } from '@opentelemetry/api';
import { shutdownAzureMonitor } from '@azure/monitor-opentelemetry';
import { ingestionCredential, startTelemetry } from '../../shared/telemetry';

test('a connection string starts the distro once; spans are then recorded', async () => {
  const env = {
    APPLICATIONINSIGHTS_CONNECTION_STRING:
      'InstrumentationKey=00000000-0000-0000-0000-000000000000;IngestionEndpoint=https://127.0.0.1:9/',
  };
  expect(trace.getTracer('probe').startSpan('before').isRecording()).toBe(false);
  expect(startTelemetry(env)).toBe(true);
  expect(startTelemetry(env)).toBe(true); // once per process
  const span = trace.getTracer('probe').startSpan('after');
  expect(span.isRecording()).toBe(true);
  span.end();
  await shutdownAzureMonitor().catch(() => undefined);
});

test('ingestion as the managed identity when the templates say so', () => {
  expect(ingestionCredential({})).toEqual({});
  expect(
    ingestionCredential({ APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=abc;Authorization=AAD' })
      .credential,
  ).toBeDefined();
});
