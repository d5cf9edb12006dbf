import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // The JSON report lets .ci/run print a plain "N passed, N failed" closing line.
    reporters: ['default', ['json', { outputFile: 'coverage/vitest-report.json' }]],
    // Tests are sentences; each project runs against the real thing it names.
    projects: [
      {
        extends: true,
        test: { name: 'unit', include: ['test/unit/**/*.test.ts'] },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          globalSetup: ['test/setup/prism.ts'],
          testTimeout: 60_000,
        },
      },
      {
        extends: true,
        test: {
          name: 'faults',
          include: ['test/faults/**/*.test.ts'],
          testTimeout: 30_000,
        },
      },
      {
        extends: true,
        test: {
          // The same fault, hardening and reliability suites through chatdash-client/undici
          // (test/helpers/transport.ts reads the variable); undici.test.ts tests it directly.
          name: 'faults-undici',
          include: ['test/faults/**/*.test.ts'],
          // node-fetch.test.ts is about Node's own fetch, the default transport.
          exclude: ['test/faults/undici.test.ts', 'test/faults/node-fetch.test.ts'],
          env: { CHATDASH_TEST_TRANSPORT: 'undici' },
          testTimeout: 30_000,
        },
      },
      {
        extends: true,
        test: {
          // Needs `npm run build` first (npm test runs it): tests the built package.
          name: 'package',
          include: ['test/package/**/*.test.ts'],
          testTimeout: 60_000,
        },
      },
      {
        extends: true,
        test: {
          name: 'pipeline',
          include: ['test/pipeline/**/*.test.ts'],
          testTimeout: 60_000,
        },
      },
      {
        extends: true,
        test: {
          // Each file starts its own Verdaccio (test/release/registry.ts) and builds in a copy
          // of the checkout; a file's tests run in order on one registry.
          name: 'release',
          include: ['test/release/**/*.test.ts'],
          testTimeout: 120_000,
          hookTimeout: 60_000,
        },
      },
      {
        extends: true,
        test: {
          // Each file starts its own redis-server (test/helpers/redis.ts); a missing one fails.
          name: 'redis',
          include: ['test/redis/**/*.test.ts'],
          testTimeout: 60_000,
          hookTimeout: 30_000,
          // The fleet tests run 4 processes each and measure rates and delays: they run
          // after every other project, one file at a time, so a 2-core CI machine is theirs.
          sequence: { groupOrder: 1 },
          fileParallelism: false,
        },
      },
      {
        extends: true,
        test: {
          name: 'types',
          include: [],
          typecheck: { enabled: true, only: true, include: ['test/types/**/*.test-d.ts'] },
        },
      },
    ],
  },
});
