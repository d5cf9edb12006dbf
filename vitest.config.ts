import { defineConfig } from 'vitest/config';
import { LongestFirst } from './test/setup/sequencer.js';

// Most files wait on sockets, child processes and timers, not on the CPU, so
// the first group runs several files at once even on a 2-core machine; the
// longest start first (test/setup/sequencer.ts) so that none is left running
// alone at the end. The files that measure real rates and delays run after it,
// four at a time with nothing else running: the faults/flow files of both
// transports and the timed Redis files, each one process sending a few hundred
// requests a second at most. Last the Redis fleet files (4 processes each), one
// at a time, so the machine is theirs. Projects of one group share one maxWorkers.
const WAITING = { maxWorkers: 4, sequence: { groupOrder: 0 } };
const TIMED = { maxWorkers: 4, sequence: { groupOrder: 1 } };
const ALONE = { maxWorkers: 1, sequence: { groupOrder: 2 } };
// The unit and fault files share their worker's modules instead of importing src/ and the
// helpers again per file (a third of those projects' CPU): each file restores what it changes
// (fake timers, stubbed globals, the OpenTelemetry globals) in its own hooks.
const SHARED_MODULES = { isolate: false };

// The fault suites but the flow files (rates, the adaptive limit, the breaker), which run
// after them (their own projects below).
const FLOW = 'test/faults/flow*.test.ts';

// The Redis files that measure rates and delays in one process (a pause reaching another
// coordinator within 150 ms, 20 sends a second while writes fail, an outage costing no call
// more than timeoutMs): they run with the flow files. The other Redis files only wait on
// servers, failovers and pauses, with bounds of 400 ms and more.
const REDIS_TIMED = [
  'test/redis/coordinator.test.ts',
  'test/redis/outage.test.ts',
  'test/redis/refused-writes.test.ts',
  'test/redis/guards.test.ts',
];
// The fleet tests: 4 processes each against one Redis, measuring rates; one file at a time.
const REDIS_FLEET = ['test/redis/flow.test.ts', 'test/redis/fleet.test.ts'];

export default defineConfig({
  test: {
    sequence: { sequencer: LongestFirst },
    // The JSON report lets .ci/run print a plain "N passed, N failed" closing line.
    reporters: ['default', ['json', { outputFile: 'coverage/vitest-report.json' }]],
    // Tests are sentences; each project runs against the real thing it names.
    projects: [
      {
        extends: true,
        test: { name: 'unit', include: ['test/unit/**/*.test.ts'], ...SHARED_MODULES, ...WAITING },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          globalSetup: ['test/setup/prism.ts'],
          testTimeout: 60_000,
          ...WAITING,
        },
      },
      {
        extends: true,
        test: {
          name: 'faults',
          include: ['test/faults/**/*.test.ts'],
          exclude: [FLOW],
          testTimeout: 30_000,
          ...SHARED_MODULES,
          ...WAITING,
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
          exclude: [FLOW, 'test/faults/undici.test.ts', 'test/faults/node-fetch.test.ts'],
          env: { CHATDASH_TEST_TRANSPORT: 'undici' },
          testTimeout: 30_000,
          ...SHARED_MODULES,
          ...WAITING,
        },
      },
      {
        extends: true,
        test: {
          // Needs `npm run build` first (npm test runs it): tests the built package.
          name: 'package',
          include: ['test/package/**/*.test.ts'],
          testTimeout: 60_000,
          ...WAITING,
        },
      },
      {
        extends: true,
        test: {
          // The spec tooling and the scripts (scripts/), not src/pipeline.ts.
          name: 'tooling',
          include: ['test/tooling/**/*.test.ts'],
          testTimeout: 60_000,
          ...WAITING,
        },
      },
      {
        extends: true,
        test: {
          // rateLimit and circuitBreaker measured on real sockets: sends per second and
          // refusals within milliseconds, on each transport.
          name: 'faults-flow',
          include: [FLOW],
          testTimeout: 30_000,
          ...TIMED,
        },
      },
      {
        extends: true,
        test: {
          name: 'faults-undici-flow',
          include: [FLOW],
          env: { CHATDASH_TEST_TRANSPORT: 'undici' },
          testTimeout: 30_000,
          ...TIMED,
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
          ...WAITING,
        },
      },
      {
        extends: true,
        test: {
          // Each file starts its own redis-server (test/helpers/redis.ts); a missing one fails.
          name: 'redis',
          include: ['test/redis/**/*.test.ts'],
          exclude: [...REDIS_TIMED, ...REDIS_FLEET],
          testTimeout: 60_000,
          hookTimeout: 30_000,
          ...WAITING,
        },
      },
      {
        extends: true,
        test: {
          name: 'redis-timed',
          include: REDIS_TIMED,
          testTimeout: 60_000,
          hookTimeout: 30_000,
          ...TIMED,
        },
      },
      {
        extends: true,
        test: {
          name: 'redis-fleet',
          include: REDIS_FLEET,
          testTimeout: 60_000,
          hookTimeout: 30_000,
          ...ALONE,
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
