/*
 * Three projects, all run once by `npm test`:
 * - unit: pure code (domain, policies, properties, benchmark figures, UI logic). No network, no
 *   server, no child process: test/support/unit-environment.ts makes them throw. `npm run test:unit`.
 * - integration: embedded servers, the HTTP API, adapters, CDK synth. Every test folder that is not
 *   unit or e2e lands here. `npm run test:integration`.
 * - e2e: the journeys in Chromium. `npm run test:e2e`.
 */
const UNIT = ['unit', 'domain', 'policies', 'property', 'bench', 'web'];

const shared = {
  rootDir: __dirname,
  roots: ['<rootDir>/test'],
  testEnvironment: 'node',
  transform: {
    '^.+\\.tsx?$': [
      '@swc/jest',
      {
        jsc: {
          parser: { syntax: 'typescript', tsx: true },
          target: 'es2022',
          transform: { react: { runtime: 'automatic', importSource: 'preact' } },
        },
        module: { type: 'commonjs' },
      },
    ],
  },
};

/** @type {import('jest').Config} */
module.exports = {
  testTimeout: 30000,
  projects: [
    {
      ...shared,
      displayName: 'unit',
      testMatch: [`<rootDir>/test/{${UNIT.join(',')}}/**/*.test.{ts,tsx}`],
      testEnvironment: '<rootDir>/test/support/unit-environment.ts',
    },
    {
      ...shared,
      displayName: 'integration',
      testMatch: ['<rootDir>/test/**/*.test.{ts,tsx}'],
      testPathIgnorePatterns: ['/node_modules/', `<rootDir>/test/(${[...UNIT, 'e2e'].join('|')})/`],
    },
    {
      ...shared,
      displayName: 'e2e',
      testMatch: ['<rootDir>/test/e2e/**/*.test.{ts,tsx}'],
    },
  ],
};
