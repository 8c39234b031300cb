/** End-to-end harness for tests: see scripts/harness.ts (shared with the benchmarks and the demo). */
import { startAppHarness, type TestApp } from '../../scripts/harness';
import type { SandboxOptions } from '../../sandbox';

export { configureEnv, FUNCTION_KEY, MASTER_KEY, type TestApp } from '../../scripts/harness';
export { controlCall } from './sandbox';

export async function startTestApp(
  options: { sandbox?: SandboxOptions; env?: Record<string, string> } = {},
): Promise<TestApp> {
  return await startAppHarness(options);
}
