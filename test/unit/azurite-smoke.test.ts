import { TableClient } from '@azure/data-tables';
import { QueueServiceClient } from '@azure/storage-queue';

test('azurite from globalSetup serves tables and queues', async () => {
  const conn = process.env.TEST_AZURITE_CONNECTION!;
  const c = TableClient.fromConnectionString(conn, 'smoke', { allowInsecureConnection: true });
  await c.createTable();
  await c.upsertEntity({ partitionKey: 'p', rowKey: 'r', v: 1 });
  expect((await c.getEntity<{ v: number }>('p', 'r')).v).toBe(1);
  const q = QueueServiceClient.fromConnectionString(conn).getQueueClient('smoke');
  await q.createIfNotExists();
  await q.sendMessage('aGk=');
  const r = await q.receiveMessages();
  expect(r.receivedMessageItems[0]?.messageText).toBe('aGk=');
});
