/**
 * Queue depth and age for operators (issue 38; docs/operations.md): every queue of the app's
 * storage account, its approximate message count and the age of the message at its front. Azure
 * Storage's own QueueMessageCount metric is per account and hourly; a backlog must show within
 * minutes (the `sync-behind` alert reads the age). Delayed messages (a spread timer's jobs) count
 * in the depth but are invisible to a peek, so they never look old while they wait for their turn.
 */
import { takeCarried } from '../correlation';
import { countRoundTrip } from '../meter';
import { recordQueueState } from '../telemetry';
import type { QueueServiceClient } from '@azure/storage-queue';
import { everyQueueService } from './clients';

export interface QueueState {
  queue: string;
  depth: number;
  /** Seconds since the front visible message was queued; 0 when none is visible. */
  oldestAgeSeconds: number;
}

/** The dueAt a delayed message carries (shared/correlation.ts), from its base64 JSON text. */
function dueAtOf(messageText: string): number | undefined {
  try {
    return takeCarried(JSON.parse(Buffer.from(messageText, 'base64').toString('utf8'))).dueAt;
  } catch {
    return undefined; // not ours, or not JSON: its insertion time stands
  }
}

/**
 * Every queue's depth and front age. With storage shards a user queue exists in every account
 * (shared/shards.ts): its depth is the sum over the accounts and its age the oldest front.
 */
export async function sampleQueues(now = Date.now()): Promise<QueueState[]> {
  const byQueue = new Map<string, QueueState>();
  for (const service of await everyQueueService()) {
    for (const s of await sampleAccount(service, now)) {
      const seen = byQueue.get(s.queue);
      byQueue.set(
        s.queue,
        seen
          ? {
              queue: s.queue,
              depth: seen.depth + s.depth,
              oldestAgeSeconds: Math.max(seen.oldestAgeSeconds, s.oldestAgeSeconds),
            }
          : s,
      );
    }
  }
  const states = [...byQueue.values()];
  for (const s of states) recordQueueState(s.queue, s.depth, s.oldestAgeSeconds);
  return states;
}

async function sampleAccount(service: QueueServiceClient, now: number): Promise<QueueState[]> {
  const states: QueueState[] = [];
  countRoundTrip('queue:* GET');
  for await (const q of service.listQueues()) {
    const client = service.getQueueClient(q.name);
    countRoundTrip(`queue:${q.name} GET`);
    const depth = (await client.getProperties()).approximateMessagesCount ?? 0;
    let oldestAgeSeconds = 0;
    if (depth > 0) {
      countRoundTrip(`queue:${q.name} GET`);
      const front = (await client.peekMessages({ numberOfMessages: 1 })).peekedMessageItems[0];
      if (front) {
        // A message queued with a delay has waited only since its delay ended (its dueAt).
        const since = Math.max(front.insertedOn.getTime(), dueAtOf(front.messageText) ?? 0);
        oldestAgeSeconds = Math.max(0, Math.round((now - since) / 1000));
      }
    }
    states.push({ queue: q.name, depth, oldestAgeSeconds });
  }
  return states;
}
