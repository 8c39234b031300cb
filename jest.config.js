// Jest per toolchain.md: @swc/jest (CommonJS), type-checking by `npm run typecheck` instead.
// Azurite starts once in globalSetup on free ports; each integration/e2e file starts its own
// sandbox in-process (under 1 s) so fault injection in one file never leaks into another.
/** @type {import('jest').Config} */
const swc = [
  '@swc/jest',
  { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'commonjs' } },
];
const common = {
  transform: { '^.+\\.(t|j|mj)s$': swc },
  transformIgnorePatterns: [
    '/node_modules/(?!(p-retry|is-network-error|jose|pdfjs-dist|marked|sanitize-html|htmlparser2|domhandler|domutils|dom-serializer|domelementtype|entities)/)',
  ],
  testEnvironment: 'node',
  moduleFileExtensions: ['ts', 'js', 'mjs', 'json'],
  setupFiles: ['<rootDir>/test/support/quiet.ts'],
  // Deployment packages (npm run package) carry their own package.json and node_modules.
  modulePathIgnorePatterns: ['<rootDir>/.package/', '<rootDir>/.local/'],
};
module.exports = {
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  globalTeardown: '<rootDir>/test/support/global-teardown.ts',
  testTimeout: 30000,
  // A fresh worker process for every test file (a worker is recycled once it holds more than this
  // after a file, which is always). On Node 20 every AsyncLocalStorage that was ever entered stays
  // on a process-wide list, and each new promise copies its store from all of them: jest-circus
  // makes one per test file and our correlation module one per file that loads the app, so a
  // single long-lived process slowed down as the run went on (measured: a CPU profile of the
  // 200-page PDF test late in a run spent more time in async_hooks' _propagate than in pdfjs;
  // the test took 45 s there and 3 s alone). About 0.35 s more per file.
  workerIdleMemoryLimit: '1MB',
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/test/unit/**/*.test.ts'] },
    { ...common, displayName: 'integration', testMatch: ['<rootDir>/test/integration/**/*.test.ts'] },
    { ...common, displayName: 'e2e', testMatch: ['<rootDir>/test/e2e/**/*.test.ts'] },
  ],
};
