/** The sample settings (which work against the sandbox), for tests that build an environment. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export function sampleSettings(): Record<string, string> {
  const raw = JSON.parse(readFileSync(join(__dirname, '..', '..', 'local.settings.sample.json'), 'utf8')) as {
    Values: Record<string, string>;
  };
  return { ...raw.Values };
}
