/** End-to-end harness for tests: see scripts/harness.ts (shared with the benchmarks and the demo). */
import { startAppHarness, type AppHarnessOptions, type TestApp } from '../../scripts/harness';

export { configureEnv, FUNCTION_KEY, MASTER_KEY, type TestApp } from '../../scripts/harness';
export { controlCall } from './sandbox';

export async function startTestApp(options: AppHarnessOptions = {}): Promise<TestApp> {
  return await startAppHarness(options);
}
