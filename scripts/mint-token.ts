/** `npm run token -- <userId>`: prints a development caller token from the local settings. */
import { mintCallerToken } from '../shared/http/caller';
import { loadLocalSettings } from './settings';

async function main(): Promise<void> {
  const userId = process.argv[2];
  if (!userId) {
    console.error('usage: npm run token -- <userId> [lifetimeSeconds]');
    process.exit(2);
  }
  loadLocalSettings();
  console.log(await mintCallerToken(userId, Number(process.argv[3] ?? 600)));
}

main().catch((err: unknown) => {
  console.error((err as Error).message);
  process.exit(1);
});
