/**
 * Outside the Functions host, @azure/functions announces "test mode" once per registration;
 * expected in tests (the local host is the host), so those lines are dropped to keep failures
 * readable. Nothing else is filtered.
 */
const EXPECTED = [
  /Failed to detect the Azure Functions runtime/,
  /package is in test mode/,
  /^HTTP streaming enabled\.?$/,
];

// Every action result in every test is held to the action's output schema (shared/actions/output.ts).
process.env.ACTION_OUTPUT_CHECK = 'strict';

for (const level of ['warn', 'debug'] as const) {
  const original = console[level].bind(console);
  console[level] = (...args: unknown[]) => {
    const first = typeof args[0] === 'string' ? args[0] : '';
    if (EXPECTED.some((re) => re.test(first))) return;
    original(...args);
  };
}
