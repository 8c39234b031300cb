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
}
