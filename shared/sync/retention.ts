/**
 * Retention of the change feed and the index's tombstones (CHANGE_RETENTION_DAYS): a daily fan-out
 * of one `sync-retention` message per user (the feed and the index are per-user partitions), each
 * purged by functions/sync/retention.ts.
 */
import { enqueue } from '../storage/clients';
import { listConnections, type Connection } from '../storage/connections';

export const RETENTION_QUEUE = 'sync-retention';

export async function fanOutRetention(
  connections: AsyncIterable<Connection> | Iterable<Connection> = listConnections(),
): Promise<number> {
  let users = 0;
  for await (const c of connections) {
    await enqueue(RETENTION_QUEUE, { userId: c.userId });
    users++;
  }
  return users;
}
