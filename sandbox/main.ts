/** Runs the sandbox as a process: `node dist/sandbox/main.js` (npm start does this for you). */
import { startSandbox } from './index';

async function main(): Promise<void> {
  const port = Number(process.env.SANDBOX_PORT ?? 7443);
  const clientId = process.env.MICROSOFT_CLIENT_ID;
  const clientSecret = process.env.MICROSOFT_CLIENT_SECRET;
  const redirectUri = process.env.MICROSOFT_REDIRECT_URI;
  const sandbox = await startSandbox({
    port,
    app:
      clientId && clientSecret && redirectUri
        ? { clientId, clientSecret, redirectUris: [redirectUri] }
        : undefined,
    verbose: process.env.SANDBOX_VERBOSE === 'true',
    // Kept across restarts only when asked (npm start keeps it in .local/sandbox).
    ...(process.env.SANDBOX_STATE_DIR ? { stateDir: process.env.SANDBOX_STATE_DIR } : {}),
  });
  console.log(`sandbox listening on ${sandbox.url} (Graph ${sandbox.graphBaseUrl})`);
  const stop = () => {
    void sandbox.stop().then(() => process.exit(0));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((err: unknown) => {
  console.error((err as Error).message);
  process.exit(1);
});
