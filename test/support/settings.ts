/** The sample settings (which work against the sandbox), for tests that build an environment. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, parseConfig } from '../../shared/config';

export function sampleSettings(): Record<string, string> {
  const raw = JSON.parse(readFileSync(join(__dirname, '..', '..', 'local.settings.sample.json'), 'utf8')) as {
    Values: Record<string, string>;
  };
  return { ...raw.Values };
}

/** The problems a configuration is rejected with (fails the test when it is accepted). */
export function problemsFor(env: Record<string, string | undefined>): string[] {
  try {
    parseConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
  throw new Error('expected the configuration to be rejected');
}
