import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startAzurite, type RunningAzurite } from '../../scripts/azurite';

declare global {
  var __AZURITE__: RunningAzurite | undefined;
}

/** Starts Azurite (in memory, free ports) once for the run; workers inherit its connection string. */
export default async function globalSetup(): Promise<void> {
  if (!process.env.NODE_EXTRA_CA_CERTS) {
    throw new Error('Run tests through `npm test` so the sandbox CA is trusted (NODE_EXTRA_CA_CERTS).');
  }
  const azurite = await startAzurite();
  globalThis.__AZURITE__ = azurite;
  process.env.AzureWebJobsStorage = azurite.connectionString;
  process.env.TEST_AZURITE_CONNECTION = azurite.connectionString;
  // Every worker appends the ids of the actions whose results it held to their output schema.
  const log = join(tmpdir(), `m365-output-checks-${process.pid}.txt`);
  writeFileSync(log, '');
  process.env.ACTION_OUTPUT_LOG = log;
}
