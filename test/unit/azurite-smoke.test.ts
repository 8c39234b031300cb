import { TableClient } from '@azure/data-tables';
import { QueueServiceClient } from '@azure/storage-queue';
import { startAzurite } from '../../scripts/azurite';

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

test('an in-process Azurite leaves the process alone: no diagnostics channel patching require', async () => {
  // Azurite's servers import applicationinsights 2.x; with its diagnostic channel on, every Jest
  // test file that started an Azurite stayed in memory (scripts/azurite.ts).
  const azurite = await startAzurite();
  await azurite.stop();
  const channel = require('applicationinsights/out/AutoCollection/diagnostic-channel/initialization') as {
    IsInitialized: boolean;
  };
  expect(channel.IsInitialized).toBe(false);
});
