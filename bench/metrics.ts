/**
 * The metrics rows for `npm run bench`: what recording OpenTelemetry metrics
 * costs a call. Like observability.ts, run.ts spreads `metricsRows` into its
 * clients and runs `duringMetrics(name)` around each measurement.
 *
 * - metrics: false: logging off, `tracing: false`, `metrics: false` (the baseline);
 * - API, no meter provider: the same with `metrics` on (the default), the API
 *   installed and no provider registered (a service that has not set up metrics);
 * - SDK meter provider: the same, with `@opentelemetry/sdk-metrics`' MeterProvider
 *   registered, its periodic reader exporting every second to an exporter that
 *   drops what it gets. Registration is process-wide, so it holds only while
 *   its own row runs.
 *
 * `node --import tsx bench/profile.ts` runs these rows alone (they are named there too).
 */
import { GCProfiler, getHeapStatistics } from 'node:v8';
import { metrics } from '@opentelemetry/api';
import { ExportResultCode } from '@opentelemetry/core';
import {
  AggregationTemporality,
  MeterProvider,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics';
import { monotonic } from '../src/coordination/clock.js';
import { OPEN_SCOPE } from '../src/coordination/coordinator.js';
import { MemoryCoordinator } from '../src/coordination/memory.js';
import { createChatDashClient } from '../src/index.js';
import { loadMetrics } from '../src/telemetry/metrics.js';

export const METRICS_OFF = 'chatdash-client, metrics: false';
export const METRICS_NO_PROVIDER = 'chatdash-client, metrics, API but no meter provider';
export const METRICS_SDK = 'chatdash-client, metrics into an SDK meter provider';

export function metricsRows(
  apiKey: string,
  baseUrl: string,
  params: { agentId: string; conversationId: string },
): Record<string, () => Promise<unknown>> {
  const base = { apiKey, baseUrl, logLevel: 'off', tracing: false } as const;
  const off = createChatDashClient({ ...base, metrics: false });
  const noProvider = createChatDashClient({ ...base, metrics: true });
  const sdk = createChatDashClient({ ...base, metrics: true });
  return {
    [METRICS_OFF]: () => off.getConversation(params),
    [METRICS_NO_PROVIDER]: () => noProvider.getConversation(params),
    [METRICS_SDK]: () => sdk.getConversation(params),
  };
}

const provider = new MeterProvider({
  readers: [
    new PeriodicExportingMetricReader({
      exporter: {
        export: (_metrics, done) => done({ code: ExportResultCode.SUCCESS }),
        forceFlush: () => Promise.resolve(),
        shutdown: () => Promise.resolve(),
        selectAggregationTemporality: () => AggregationTemporality.CUMULATIVE,
      },
      exportIntervalMillis: 1_000,
    }),
  ],
});

/** Registers the SDK provider for as long as its row runs; returns the undo. */
export function duringMetrics(name: string): () => void {
  if (name !== METRICS_SDK) return () => {};
  metrics.setGlobalMeterProvider(provider);
  return () => metrics.disable();
}

/**
 * The extra CPU per request of each metrics row over `metrics: false` (the
 * median of per-round ratios), then what the client itself does per call for
 * metrics, timed on its own (whole rounds on a shared machine differ by more).
 */
export async function metricsCost(
  runs: Record<string, { cpuUs: number }[]>,
  median: (values: number[]) => number,
  pair?: { sdk: number; rounds: number; calls: number },
): Promise<string> {
  const base = runs[METRICS_OFF] ?? [];
  const percent = (ratio: number) => `${ratio >= 1 ? '+' : ''}${((ratio - 1) * 100).toFixed(1)} %`;
  const lines = [METRICS_NO_PROVIDER, METRICS_SDK].map((name) => {
    const ratio = median((runs[name] ?? []).map((r, i) => r.cpuUs / base[i]!.cpuUs));
    return `- ${name}: ${percent(ratio)} CPU per request vs "${METRICS_OFF}" (in the table's rounds)`;
  });
  if (pair)
    lines.push(
      `- ${METRICS_SDK}, in ${pair.rounds} rounds of its own (A B B A, ${pair.calls} calls each) against "${METRICS_OFF}": ${percent(pair.sdk)} CPU per request (at most +10 %)`,
    );
  return [...lines, ...(await metricsPaths())].join('\n');
}

/**
 * The SDK row against the baseline alone: per round, each row twice in the
 * order A B B A (which way round alternates), `calls` calls each time, and the
 * ratio of their sums; the median over rounds. The bound is judged here, not
 * in the table's rounds: a row of 4,000 calls on Node 24 sees three or four
 * collections of the young generation, so the few percent more garbage the
 * SDK leaves moves a short row's figure by a whole collection either way, and
 * a drift of the machine within a round (another process, the CPU's clock)
 * falls on both rows alike in A B B A.
 */
export async function metricsPair(
  rows: Record<string, () => Promise<unknown>>,
  measure: (call: () => Promise<unknown>, calls: number) => Promise<{ cpuUs: number }>,
  median: (values: number[]) => number,
  rounds: number,
  calls: number,
): Promise<{ sdk: number; rounds: number; calls: number }> {
  const ratios: number[] = [];
  const run = async (name: string) => {
    const undo = duringMetrics(name);
    try {
      return (await measure(rows[name]!, calls)).cpuUs;
    } finally {
      undo();
    }
  };
  for (let round = 0; round < rounds; round++) {
    const [a, b] = round % 2 ? [METRICS_SDK, METRICS_OFF] : [METRICS_OFF, METRICS_SDK];
    const a1 = await run(a);
    const b1 = await run(b);
    const b2 = await run(b);
    const a2 = await run(a);
    const [off, sdk] = a === METRICS_OFF ? [a1 + a2, b1 + b2] : [b1 + b2, a1 + a2];
    ratios.push(sdk / off);
  }
  return { sdk: median(ratios), rounds, calls };
}

/**
 * CPU µs per call of the metrics path alone, without a provider and recording
 * into the SDK, and the bytes the SDK path allocates per call: in a full
 * request the allocation costs more than its own time here, as it brings the
 * next collection of the young generation closer, which copies whatever the
 * requests in flight hold.
 */
export async function metricsPaths(calls = 200_000): Promise<string[]> {
  const opened = new MemoryCoordinator(monotonic)[OPEN_SCOPE]('http://127.0.0.1:1', 'bench-key', {
    budget: false,
    rateLimit: false,
    circuitBreaker: false,
    log: { warn() {}, info() {} },
  });
  const client = await loadMetrics('http://127.0.0.1:1', opened, 'bench-key');
  if (!client) throw new Error('bench: the metrics need @opentelemetry/api');
  const first = { attempts: [], heldMs: 0, heldSource: undefined };
  const time = () => {
    const run = () => {
      for (let i = 0; i < calls; i++) {
        const call = client.forCall();
        call?.sending(first);
        call?.attempt(0.2, 200, undefined);
        call?.call(performance.now(), undefined);
      }
    };
    run(); // warm-up
    const gc = new GCProfiler();
    const heldBefore = getHeapStatistics().used_heap_size;
    gc.start();
    const cpu = process.cpuUsage();
    run();
    const used = process.cpuUsage(cpu);
    // Allocated: what the heap grew by, plus what each collection in between freed.
    let allocated = getHeapStatistics().used_heap_size - heldBefore;
    for (const { beforeGC, afterGC } of gc.stop()?.statistics ?? [])
      allocated += beforeGC.heapStatistics.usedHeapSize - afterGC.heapStatistics.usedHeapSize;
    return { us: (used.user + used.system) / calls, bytes: allocated / calls };
  };
  const none = time();
  const undo = duringMetrics(METRICS_SDK);
  const sdk = time();
  undo();
  return [
    `- the metrics path alone, API loaded, no meter provider: ${none.us.toFixed(3)} µs and ${none.bytes.toFixed(0)} bytes allocated per call`,
    `- the metrics path alone, recording one attempt and one call into the SDK: ${sdk.us.toFixed(2)} µs and ${sdk.bytes.toFixed(0)} bytes allocated per call`,
  ];
}
