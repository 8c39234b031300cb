// `npm run test:browser`: the consent flow in headless Chromium (playwright-core driving Debian's
// /usr/bin/chromium). Kept out of `npm test` because it needs that system package; .ci/run installs
// it and adds these results to the count. Same transform and Azurite globalSetup as jest.config.js.
/** @type {import('jest').Config} */
module.exports = {
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  globalTeardown: '<rootDir>/test/support/global-teardown.ts',
  testTimeout: 60000,
  transform: {
    '^.+\\.(t|j|mj)s$': [
      '@swc/jest',
      { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'commonjs' } },
    ],
  },
  transformIgnorePatterns: ['/node_modules/(?!(p-retry|is-network-error|jose)/)'],
  testEnvironment: 'node',
  moduleFileExtensions: ['ts', 'js', 'mjs', 'json'],
  setupFiles: ['<rootDir>/test/support/quiet.ts'],
  displayName: 'browser',
  testMatch: ['<rootDir>/test/browser/**/*.test.ts'],
};
