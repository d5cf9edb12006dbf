/**
 * A bench variant for profiling and quick comparisons: runs only the clients
 * named on the command line, against the same server as bench/run.ts, at 32
 * in flight.
 *
 *   node --import tsx --cpu-prof --cpu-prof-dir=.cache/prof bench/profile.ts "chatdash-client"
 *   PROFILE_ROUNDS=9 node --import tsx bench/profile.ts "undici.request" "chatdash-client + createUndiciFetch"
 *
 * With one name it runs PROFILE_CALLS calls (default 30,000) after a warm-up;
 * with several, PROFILE_ROUNDS interleaved rounds (default 7) of PROFILE_CALLS
 * (default 4,000) each, and prints each client's CPU per request and
 * requests/s as the median of per-round ratios against the first name.
 * bench/top-frames.mjs reads the profile.
 */
import {
  KEY,
  median,
  measureConcurrent,
  openClients,
  params,
  startServer,
  type Call,
} from './clients.js';
import { duringMetrics, metricsRows } from './metrics.js';

const names = process.argv.slice(2);
if (names.length === 0) throw new Error('usage: bench/profile.ts <client name>...');
const single = names.length === 1;
const ROUNDS = single ? 1 : Number(process.env['PROFILE_ROUNDS'] ?? 7);
const CALLS = Number(process.env['PROFILE_CALLS'] ?? (single ? 30_000 : 4_000));

// execArgv: [] so that --cpu-prof profiles this process only.
const server = await startServer({ execArgv: [] });
const { first, last, close } = await openClients(server.baseUrl);
const clients: Record<string, Call> = {
  ...first,
  ...metricsRows(KEY, server.baseUrl, params),
  ...last,
};
for (const name of names) if (!clients[name]) throw new Error(`no client ${JSON.stringify(name)}`);

/** Measures a row with what it needs registered (the metrics rows' meter provider). */
async function measured(name: string, calls: number) {
  const undo = duringMetrics(name);
  try {
    return await measureConcurrent(clients[name]!, calls);
  } finally {
    undo();
  }
}

for (const name of names) await measured(name, 2_000); // warm-up
const runs: Record<string, { rps: number; cpuUs: number }[]> = {};
for (let round = 0; round < ROUNDS; round++) {
  const order = [...names].sort(() => Math.random() - 0.5);
  for (const name of order) (runs[name] ??= []).push(await measured(name, CALLS));
}
const base = runs[names[0]!]!;
for (const name of names) {
  const r = runs[name]!;
  const cpu = median(r.map((x, i) => x.cpuUs / base[i]!.cpuUs));
  const rps = median(r.map((x, i) => x.rps / base[i]!.rps));
  console.log(
    `${name}: ${median(r.map((x) => x.cpuUs)).toFixed(1)} CPU µs/req, ${median(r.map((x) => x.rps)).toFixed(0)} req/s` +
      (single || name === names[0]
        ? ''
        : `; vs ${names[0]}: CPU x ${cpu.toFixed(3)}, req/s x ${rps.toFixed(3)}`),
  );
}
server.stop();
await close();
