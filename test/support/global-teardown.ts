import { existsSync, readFileSync, rmSync } from 'node:fs';
import { allActions } from '../../shared/actions/registry';
import { loadAllActions } from '../../shared/services';

/**
 * Stops Azurite and says which actions' results the run held to their output schema
 * (shared/actions/output.ts): the e2e tests call the actions, and every result is checked.
 */
export default async function globalTeardown(): Promise<void> {
  await globalThis.__AZURITE__?.stop();
  const log = process.env.ACTION_OUTPUT_LOG;
  if (!log || !existsSync(log)) return;
  const checked = new Set(readFileSync(log, 'utf8').split('\n').filter(Boolean));
  rmSync(log, { force: true });
  if (checked.size === 0) return; // a partial run (one file) says nothing
  loadAllActions();
  const json = allActions().filter((a) => a.output);
  const unchecked = json.filter((a) => !checked.has(a.id)).map((a) => a.id);
  console.log(
    `output schemas: ${json.length - unchecked.length} of ${json.length} actions' results checked` +
      // A run of a few files calls few actions: name the missing ones only for a (nearly) full run.
      (unchecked.length && unchecked.length <= 10
        ? ` (not called by any test: ${unchecked.join(', ')})`
        : ''),
  );
}
