/**
 * Where outbound events meet the rest of the app: every change-feed push tells the delivery
 * worker, a new connection is a feed entry (`connection.connected`), and the delivery cursors and
 * dead letters are part of the user's data (erased on disconnect).
 */
import { onConnected } from '../auth/lifecycle';
import { registerUserData } from '../privacy';
import { erasePartition, partitionRows, table, userTable } from '../storage/clients';
import { getConnection } from '../storage/connections';
import { appendEvent, onPushed } from '../sync/feed';
import { CURSORS_TABLE, DEAD_LETTERS_TABLE, kickDelivery } from './deliver';

let installed = false;

export function installEventHooks(): void {
  if (installed) return;
  installed = true;
  onPushed(kickDelivery);

  onConnected(async (userId) => {
    const connection = await getConnection(userId);
    // One entry per connect: the connection's own time stamps it.
    await appendEvent(userId, {
      service: 'connection',
      resource: 'connection',
      id: 'microsoft',
      type: 'connected',
      summary: { status: 'connected', username: connection?.username ?? null },
      ...(connection?.connectedAt ? { occurrence: connection.connectedAt } : {}),
    });
  });

  registerUserData({
    name: 'eventDelivery',
    async export(userId) {
      const rows = await partitionRows<{ delivered?: number }>(
        await userTable(CURSORS_TABLE, userId),
        userId,
      );
      return rows.map((r) => ({ endpointId: r.rowKey, delivered: Number(r.delivered ?? 0) }));
    },
    async erase(userId) {
      let n = await erasePartition(await userTable(CURSORS_TABLE, userId), userId);
      const dead = await table(DEAD_LETTERS_TABLE);
      for await (const row of dead.listEntities({
        queryOptions: {
          filter: `userId eq '${userId.replace(/'/g, "''")}'`,
          select: ['PartitionKey', 'RowKey'],
        },
      })) {
        await dead.deleteEntity(String(row.partitionKey), String(row.rowKey));
        n++;
      }
      return n;
    },
  });
}
