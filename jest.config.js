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
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/test/unit/**/*.test.ts'] },
    { ...common, displayName: 'integration', testMatch: ['<rootDir>/test/integration/**/*.test.ts'] },
    { ...common, displayName: 'e2e', testMatch: ['<rootDir>/test/e2e/**/*.test.ts'] },
  ],
};
