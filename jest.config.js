/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json', diagnostics: { warnOnly: false, ignoreCodes: [151002] } }] },
  testTimeout: 120_000,
  // Integration tests share one Temporal server, MariaDB and FerretDB: run serially.
  maxWorkers: 1,
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  verbose: true,
};
