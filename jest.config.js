// Two projects: unit tests need nothing running; integration tests need the real
// Kafka broker and MongoDB-wire store and refuse to run without them (see test/integration/global-setup.js).
const transform = { '^.+\\.(t|j)s$': ['@swc/jest'] };

/** @type {import('jest').Config} */
module.exports = {
  projects: [
    {
      displayName: 'unit',
      testMatch: ['<rootDir>/test/unit/**/*.spec.ts'],
      transform,
      globalSetup: '<rootDir>/test/unit/global-setup.mjs',
      testEnvironment: 'node',
    },
    {
      displayName: 'integration',
      testMatch: ['<rootDir>/test/integration/**/*.test.ts'],
      transform,
      testEnvironment: 'node',
      globalSetup: '<rootDir>/test/integration/global-setup.js',
      slowTestThreshold: 30,
    },
  ],
};
