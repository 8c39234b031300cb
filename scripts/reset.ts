/**
 * `npm run reset`: wipes what `npm start` keeps between runs (the sandbox tenant and Azurite's
 * data) and says what it removed. The next `npm start` begins with the fresh demo tenant.
 */
import { localStateDirs, resetLocalState } from './local-state';
import { loadLocalSettings, SettingsFileError } from './settings';

function main(): void {
  if (process.argv.length > 2) {
    console.error(`unexpected argument(s): ${process.argv.slice(2).join(' ')}\nusage: npm run reset`);
    process.exit(2);
  }
  const root = process.cwd();
  loadLocalSettings(root);
  for (const line of resetLocalState(root, localStateDirs(root))) console.log(line);
}

try {
  main();
} catch (err) {
  console.error(
    err instanceof SettingsFileError
      ? `npm run reset: ${err.message}`
      : `npm run reset: ${(err as Error).message}`,
  );
  process.exit(1);
}
