/**
 * `npm run reshard -- --to <n>`: grows the storage shards from STORAGE_SHARDS (the count the app
 * runs with now) to n, copying the rows of the users whose account changes (shared/storage/
 * reshard.ts; docs/scale.md, "Growing the shards"). Stop the app first; set STORAGE_SHARD_k for
 * every new account (a connection string, or __tableServiceUri with your `az login` identity);
 * then run this, set STORAGE_SHARDS=n on the app and start it. Settings come from the
 * environment, else local.settings.json.
 */
import { reshard } from '../shared/storage/reshard';
import { shardCount } from '../shared/shards';
import { loadLocalSettings } from './settings';

const USAGE = 'usage: npm run reshard -- --to <count>   (from STORAGE_SHARDS to <count>, app stopped)';

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const at = args.indexOf('--to');
  const to = Number(args[at + 1]);
  if (at < 0 || args.length !== 2 || !Number.isInteger(to)) {
    console.error(USAGE);
    process.exit(2);
  }
  loadLocalSettings(process.cwd());
  const from = shardCount();
  const report = await reshard(from, to, (line) => console.log(line));
  console.log(
    `${report.users} users moved (${Object.values(report.rows).reduce((a, b) => a + b, 0)} rows) from ${from} to ${to} accounts: now set STORAGE_SHARDS=${to} on the app and start it`,
  );
}

main().catch((err: unknown) => {
  console.error(`npm run reshard: ${(err as Error).message}`);
  process.exit(1);
});
