/**
 * Starts Azurite's queue and table servers in this process on free ports (the `azurite` package
 * entry is its VS Code extension, so the servers are deep-imported; see toolchain.md). Used by
 * Jest's globalSetup (in memory) and by `npm start` (persisted under .local/azurite).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

const ACCOUNT = 'devstoreaccount1';
const KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

interface AzuriteServer {
  start(): Promise<void>;
  close(): Promise<void>;
  clean(): Promise<void>;
  getHttpServerAddress(): string;
}

export interface RunningAzurite {
  connectionString: string;
  queuePort: number;
  tablePort: number;
  stop(): Promise<void>;
}

type Ctor<T> = new (...args: unknown[]) => T;

export async function startAzurite(
  options: { location?: string; queuePort?: number; tablePort?: number } = {},
): Promise<RunningAzurite> {
  // Azurite's servers import applicationinsights 2.x (for telemetry we never start), whose
  // diagnostic channel patches `require` and hooks into the process-wide `global.diagnosticsSource`
  // at import. Under Jest each test file loads Azurite again in its own module registry, and that
  // global hook kept every finished file's modules alive: the heap grew ~25 MB per e2e file and
  // garbage collection slowed the CPU-heavy tests late in a run tenfold. The variable switches the
  // channel off (applicationinsights Library/JsonConfig.js, APPLICATION_INSIGHTS_NO_DIAGNOSTIC_CHANNEL).
  process.env.APPLICATION_INSIGHTS_NO_DIAGNOSTIC_CHANNEL ??= '1';
  const QueueServer = (require('azurite/dist/src/queue/QueueServer') as { default: Ctor<AzuriteServer> })
    .default;
  const QueueConfiguration = (
    require('azurite/dist/src/queue/QueueConfiguration') as { default: Ctor<object> }
  ).default;
  const TableServer = (require('azurite/dist/src/table/TableServer') as { default: Ctor<AzuriteServer> })
    .default;
  const TableConfiguration = (
    require('azurite/dist/src/table/TableConfiguration') as { default: Ctor<object> }
  ).default;
  const memory = !options.location;
  const dir = options.location ?? '';
  if (!memory) mkdirSync(dir, { recursive: true });

  const queueConfig = new QueueConfiguration(
    '127.0.0.1',
    options.queuePort ?? 0,
    5,
    memory ? undefined : join(dir, '__azurite_db_queue__.json'),
    memory ? undefined : join(dir, '__azurite_db_queue_extent__.json'),
    memory
      ? undefined
      : [{ locationId: 'Default', locationPath: join(dir, '__queuestorage__'), maxConcurrency: 10 }],
    false,
    undefined,
    false,
    undefined,
    false,
    true,
    '',
    '',
    '',
    undefined,
    false,
    memory,
  );
  const tableConfig = new TableConfiguration(
    '127.0.0.1',
    options.tablePort ?? 0,
    5,
    memory ? undefined : join(dir, '__azurite_db_table__.json'),
    false,
    false,
    undefined,
    undefined,
    false,
    true,
    '',
    '',
    '',
    undefined,
    false,
    memory,
  );
  const queue = new QueueServer(queueConfig);
  const tableServer = new TableServer(tableConfig);
  await queue.start();
  await tableServer.start();
  const queuePort = Number(new URL(queue.getHttpServerAddress()).port);
  const tablePort = Number(new URL(tableServer.getHttpServerAddress()).port);
  const connectionString =
    `DefaultEndpointsProtocol=http;AccountName=${ACCOUNT};AccountKey=${KEY};` +
    `QueueEndpoint=http://127.0.0.1:${queuePort}/${ACCOUNT};TableEndpoint=http://127.0.0.1:${tablePort}/${ACCOUNT};`;
  return {
    connectionString,
    queuePort,
    tablePort,
    async stop() {
      await queue.close();
      await tableServer.close();
      if (memory) {
        await queue.clean().catch(() => undefined);
        await tableServer.clean().catch(() => undefined);
      }
    },
  };
}
