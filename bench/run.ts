/**
 * One Node version's table for `npm run bench` (bench/versions.mjs runs this
 * file under each pinned version): the client's cost per request against raw
 * fetch, undici and bare openapi-fetch, on a local keep-alive server in
 * another process.
 *
 * Interleaved rounds: each round runs every client once, in a shuffled order;
 * each run measures sequential latency (p50, p99), then requests/s and client
 * CPU microseconds per request with 32 in flight. Every figure is also given as
 * the median over rounds of the per-round ratio against raw fetch, which is
 * what to read on a noisy machine. Writes bench/results-node<major>.json.
 *
 * Note: npm undici is imported only after the first raw fetch, by openClients
 * (bench/clients.ts says why); nothing imported here may load it earlier.
 */
import { writeFile } from 'node:fs/promises';
import { availableParallelism, cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { bulkLine, measureBulk, type BulkRound } from './bulk.js';
import {
  IN_FLIGHT,
  KEY,
  median,
  measureConcurrent,
  openClients,
  params,
  startServer,
  type Call,
} from './clients.js';
import { flowCost, flowRows } from './flow.js';
import { duringMetrics, metricsCost, metricsPair, metricsRows } from './metrics.js';
import { during as duringTracing, observabilityCost, observabilityRows } from './observability.js';

const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 7);
const SEQUENTIAL = Number(process.env['BENCH_SEQUENTIAL'] ?? 400);
const CONCURRENT = Number(process.env['BENCH_CONCURRENT'] ?? 4_000);

const server = await startServer();
const { baseUrl, bodyBytes } = server;
const { first, last, plain, close } = await openClients(baseUrl);
const clients: Record<string, Call> = {
  ...first,
  ...observabilityRows(KEY, baseUrl, params),
  ...flowRows(KEY, baseUrl, params),
  ...metricsRows(KEY, baseUrl, params),
  ...last,
};
const names = Object.keys(clients);
/** What a row needs registered (a tracer or a meter provider) while it runs; returns the undo. */
function during(name: string): () => void {
  const undo = [duringTracing(name), duringMetrics(name)];
  return () => undo.forEach((u) => u());
}

interface Run {
  p50: number;
  p99: number;
  rps: number;
  cpuUs: number;
}

async function measure(call: Call): Promise<Run> {
  const latencies: number[] = [];
  for (let i = 0; i < SEQUENTIAL; i++) {
    const start = performance.now();
    await call();
    latencies.push(performance.now() - start);
  }
  latencies.sort((a, b) => a - b);
  return {
    p50: quantile(latencies, 0.5),
    p99: quantile(latencies, 0.99),
    ...(await measureConcurrent(call, CONCURRENT)),
  };
}

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
}

// Warm-up: JIT, connection pools, the lazily loaded validator.
for (const name of names) {
  const undo = during(name);
  for (let i = 0; i < 300; i++) await clients[name]!();
  undo();
}

const runs: Record<string, Run[]> = Object.fromEntries(names.map((n) => [n, []]));
for (let round = 0; round < ROUNDS; round++) {
  const order = [...names].sort(() => Math.random() - 0.5);
  for (const name of order) {
    const undo = during(name);
    runs[name]!.push(await measure(clients[name]!));
    undo();
  }
  process.stderr.write(`bench: round ${round + 1}/${ROUNDS} done\n`);
}
// The metrics bound in rounds of its own, 12,000 calls per row and round (metricsPair says why).
const metricsAlone = await metricsPair(
  clients,
  measureConcurrent,
  median,
  Math.max(ROUNDS, 15),
  1.5 * CONCURRENT,
);
const bulkRuns: BulkRound[] = [];
for (let round = 0; round < ROUNDS; round++) bulkRuns.push(await measureBulk(plain));
server.stop();
await close();

const metrics = ['p50', 'p99', 'rps', 'cpuUs'] as const;
const results = names.map((name) => {
  const row: Record<string, number | string> = { client: name };
  for (const m of metrics) {
    row[m] = median(runs[name]!.map((r) => r[m]));
    row[`${m}Ratio`] = median(runs[name]!.map((r, i) => r[m] / runs['raw fetch']![i]![m]));
  }
  return row;
});

const fmt = (n: number, d = 2) => n.toFixed(d);
console.log(
  `\n${ROUNDS} rounds; ${SEQUENTIAL} sequential + ${CONCURRENT} at ${IN_FLIGHT} in flight per client per round; ` +
    `body ${bodyBytes} bytes; ratios are medians of per-round ratios vs raw fetch\n`,
);
console.log('| client | p50 ms | p99 ms | req/s | CPU µs/req | p50 x | p99 x | req/s x | CPU x |');
console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|');
for (const r of results) {
  const n = (k: string) => r[k] as number;
  console.log(
    `| ${r['client']} | ${fmt(n('p50'), 3)} | ${fmt(n('p99'), 3)} | ${fmt(n('rps'), 0)} | ${fmt(n('cpuUs'), 1)} | ` +
      `${fmt(n('p50Ratio'))} | ${fmt(n('p99Ratio'))} | ${fmt(n('rpsRatio'))} | ${fmt(n('cpuUsRatio'))} |`,
  );
}
// The bounded reader's own cost: the client's CPU over raw fetch on a chunked body,
// against the same on a body with Content-Length (within the limit it is read by
// text(), as it was before bodies were bounded).
const perRound = (a: string, b: string) => runs[a]!.map((r, i) => r.cpuUs / runs[b]![i]!.cpuUs);
const boundedCost = median(
  perRound('chatdash-client, chunked body', 'raw fetch, chunked body').map(
    (chunked, i) => chunked / perRound('chatdash-client', 'raw fetch')[i]!,
  ),
);
// The targets (issue 18): each the median of the per-round ratios between two rows.
const pair = (a: string, b: string, m: 'cpuUs' | 'rps') =>
  fmt(median(runs[a]!.map((r, i) => r[m] / runs[b]![i]![m])), 3);
console.log(
  [
    '\ntargets, medians of per-round ratios:',
    `- chatdash-client / openapi-fetch (bare), CPU per request: ${pair('chatdash-client', 'openapi-fetch (bare)', 'cpuUs')}x (at most 1.05x)`,
    `- chatdash-client + createUndiciFetch / undici.request, CPU per request: ${pair('chatdash-client + createUndiciFetch', 'undici.request', 'cpuUs')}x (at most 1.2x; stretch 1.1x)`,
    `- chatdash-client + createUndiciFetch / undici.request, requests/s: ${pair('chatdash-client + createUndiciFetch', 'undici.request', 'rps')}x (at least 0.85x; stretch 0.9x)`,
    `- createUndiciFetch / undici.request, CPU per request: ${pair('createUndiciFetch', 'undici.request', 'cpuUs')}x`,
    `- chatdash-client + one no-op middleware / chatdash-client, CPU per request: ${pair('chatdash-client + one no-op middleware', 'chatdash-client', 'cpuUs')}x`,
  ].join('\n'),
);
console.log(
  `\nbounded body reading (chunked body, streaming reader) vs text() (Content-Length), client CPU over raw fetch: ${fmt(boundedCost, 3)}x`,
);
console.log(`\n${bulkLine(bulkRuns)}`);
console.log(`\n${await observabilityCost(runs, median)}`);
console.log(`\n${await flowCost(runs, median)}`);
console.log(`\n${await metricsCost(runs, median, metricsAlone)}`);
const machine = {
  date: new Date().toISOString(),
  node: process.version,
  cpu: cpus()[0]?.model,
  cores: availableParallelism(),
  memoryGiB: Math.round(totalmem() / 2 ** 30),
};
const resultsFile = `results-node${process.versions.node.split('.')[0]}.json`;
await writeFile(
  join(import.meta.dirname, resultsFile),
  `${JSON.stringify({ machine, rounds: ROUNDS, sequential: SEQUENTIAL, concurrent: CONCURRENT, inFlight: IN_FLIGHT, results, runs }, null, 2)}\n`,
);
console.log(
  `\n${machine.date} · Node ${machine.node} · ${machine.cpu} · ${machine.cores} cores · wrote bench/${resultsFile}`,
);
