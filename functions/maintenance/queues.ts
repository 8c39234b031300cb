import type { InvocationContext, Timer } from '@azure/functions';
import { registerTimer } from '../../shared/runtime/register';
import { sampleQueues } from '../../shared/storage/queue-metrics';
import { metricsRecorded } from '../../shared/telemetry';

/**
 * Every minute, when metrics are exported: the depth and front age of every queue (one execution
 * per app, not per user). Without a connection string there is nobody to tell: no storage call.
 */
export async function queueMetricsTimer(_timer: Timer, context: InvocationContext): Promise<void> {
  if (!metricsRecorded()) return;
  const states = await sampleQueues();
  const backlog = states.filter((s) => s.oldestAgeSeconds >= 15 * 60 && !s.queue.endsWith('-poison'));
  // A log line too: the alert and a search find a queue that is falling behind without metrics.
  if (backlog.length > 0)
    context.warn(
      JSON.stringify({
        event: 'queue_backlog',
        queues: backlog.map((s) => ({
          queue: s.queue,
          depth: s.depth,
          oldestAgeSeconds: s.oldestAgeSeconds,
        })),
      }),
    );
}

registerTimer('queueMetricsTimer', { schedule: '0 * * * * *', handler: queueMetricsTimer });
