// Each run bundles into .cache/fleet-sim.<pid>.mjs and renames it into place: runs at once
// (tests start several) never read a bundle another run is still writing.
/**
 * `npm run fleet:sim`: how a fleet behaves past what one machine can run.
 * N processes share one upstream limit (a token bucket of `--limit`
 * requests/s; beyond it, 429 with `Retry-After: 1`); each process keeps
 * `--in-flight` calls going, with `rateLimit: { perSecond: limit }` (or
 * `--per-second`, with `--adaptive` to learn the limit), the
 * default retry budget and a circuit breaker. Each scenario runs twice:
 * without coordination (each process its own in-process scope, the default)
 * and with it (one shared scope, reached through a simulated round trip of
 * `--rtt-ms`, see fleet-sim/shared-scope.ts).
 *
 * What runs is the client's own code: its attempt steps (`steps()` from
 * src/client.ts: retry, deadline, breaker, pause, rateLimit, observe; all but
 * the per-attempt timeout) on the in-process engine's state machines, on a
 * simulated clock (fleet-sim/events.ts); only the network is simulated.
 *
 *   npm run fleet:sim -- [--processes 10,100,1000] [--seconds 10] [--rtt-ms 1]
 *     [--limit 200] [--per-second <limit>] [--adaptive] [--retry-after 1 (0: none)]
 *     [--in-flight 8] [--latency-ms 20] [--seed 1] [--count-from 0 (s)]
 */
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { steps } from '../../src/client.js';
import { clientContext } from '../../src/client-context.js';
import { MemoryScope } from '../../src/coordination/memory.js';
import { APIError } from '../../src/errors.js';
import { checkRequestOptions, resolveOptions } from '../../src/options.js';
import {
  newCall,
  run,
  type Call,
  type ClientContext,
  type Outcome,
  type Step,
} from '../../src/pipeline.js';
import { EventQueue } from '../fleet-sim/events.js';
import { SharedStore } from '../fleet-sim/shared-scope.js';

const { values } = parseArgs({
  options: {
    processes: { type: 'string', default: '10,100,1000' },
    seconds: { type: 'string', default: '10' },
    'rtt-ms': { type: 'string', default: '1' },
    limit: { type: 'string', default: '200' },
    'per-second': { type: 'string' },
    'retry-after': { type: 'string', default: '1' },
    'in-flight': { type: 'string', default: '8' },
    'latency-ms': { type: 'string', default: '20' },
    adaptive: { type: 'boolean', default: false },
    seed: { type: 'string', default: '1' },
    'count-from': { type: 'string', default: '0' },
  },
});

function positive(name: string, text: string, integer = false): number {
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n)))
    throw new Error(
      `fleet:sim: --${name} must be a positive ${integer ? 'integer' : 'number'}, got ${JSON.stringify(text)}`,
    );
  return n;
}

const fleets = values.processes.split(',').map((p) => positive('processes', p.trim(), true));
const seconds = positive('seconds', values.seconds);
const rttMs = Number(values['rtt-ms']);
if (!(rttMs >= 0))
  throw new Error(`fleet:sim: --rtt-ms must be 0 or more, got ${JSON.stringify(values['rtt-ms'])}`);
const limit = positive('limit', values.limit);
const perSecond = positive('per-second', values['per-second'] ?? values.limit);
const retryAfter = Number(values['retry-after']);
if (!(retryAfter >= 0))
  throw new Error(
    `fleet:sim: --retry-after must be 0 (a plain 429) or more seconds, got ${JSON.stringify(values['retry-after'])}`,
  );
const inFlight = positive('in-flight', values['in-flight'], true);
const latencyMs = positive('latency-ms', values['latency-ms']);
const seed = positive('seed', values.seed, true);
const countFrom = Number(values['count-from']);
if (!(countFrom >= 0 && countFrom < seconds))
  throw new Error(
    `fleet:sim: --count-from must be 0 or more and under --seconds, got ${JSON.stringify(values['count-from'])}`,
  );
const counted = seconds - countFrom;

const API_KEY = 'ck_fleet_sim_key';
const resolved = resolveOptions({
  apiKey: API_KEY,
  baseUrl: 'https://upstream.sim.invalid',
  rateLimit: { perSecond, adaptive: values.adaptive },
  circuitBreaker: {},
  logLevel: 'off',
  tracing: false,
});
const settings = checkRequestOptions({}, resolved, 'fleet:sim');
const url = 'https://upstream.sim.invalid/agents/agent_1/conversations/conv_1';
const RETRY_AFTER = new Headers(retryAfter > 0 ? { 'retry-after': String(retryAfter) } : {});
const OK = { response: { status: 200 } } as unknown as Outcome;

interface Result {
  requests: number;
  limited: number;
  successes: number;
  commands: number;
  realSeconds: number;
}

async function scenario(processes: number, coordinated: boolean): Promise<Result> {
  const started = performance.now();
  const events = new EventQueue();
  const end = seconds * 1_000;
  const counts = { requests: 0, limited: 0, successes: 0 };
  // The upstream: a token bucket of `limit` a second, as full as it can be at the start.
  let tokens = limit;
  let refilled = 0;
  const admitted = () => {
    tokens = Math.min(limit, tokens + ((events.now - refilled) * limit) / 1_000);
    refilled = events.now;
    if (tokens < 1) return false;
    tokens--;
    return true;
  };
  const exchange = (call: Call) =>
    new Promise<Outcome>((resolve, reject) =>
      events.at(latencyMs / 2, () => {
        const ok = admitted();
        if (events.now >= countFrom * 1_000) {
          counts.requests++;
          if (ok) counts.successes++;
          else counts.limited++;
        }
        events.at(latencyMs / 2, () =>
          ok
            ? resolve(OK)
            : reject(
                APIError.from(429, 'Too Many Requests', RETRY_AFTER, null, {
                  url: call.url,
                  attempts: call.attempts,
                }),
              ),
        );
      }),
    );

  const store = new SharedStore(events, rttMs);
  const random = seeded(seed * 7_919 + processes);
  for (let p = 0; p < processes; p++) {
    // The retry jitter draws from the seeded generator too, so a run can be repeated.
    const client = clientContext(resolved, {
      clock: events.clock,
      random,
      openScope: (config) =>
        coordinated ? store.join(config) : new MemoryScope(events.clock).handle(config),
    });
    // Each process's steps, made once for it as a client makes its own; without `timeout`:
    // the simulated upstream answers well within timeoutMs, and the AbortController each
    // attempt's timer needs was half of the simulation's time.
    const attemptSteps = steps(resolved, client).filter((step) => step.name !== 'timeout');
    // Processes start within the first 100 ms, not in lockstep.
    events.at(random() * 100, () => {
      for (let w = 0; w < inFlight; w++) void worker(client, attemptSteps, events, end, exchange);
    });
  }
  await events.run(end);
  return {
    ...counts,
    commands: store.commands,
    realSeconds: (performance.now() - started) / 1_000,
  };
}

/** One of a process's calls in flight: call after call until the simulated time is up. */
async function worker(
  client: ClientContext,
  attemptSteps: readonly Step[],
  events: EventQueue,
  end: number,
  exchange: (call: Call) => Promise<Outcome>,
): Promise<void> {
  while (events.now < end) {
    const began = events.now;
    await run(
      attemptSteps,
      newCall(url, { agentId: 'agent_1', conversationId: 'conv_1' }, settings, client.headers),
      exchange,
    ).catch(() => undefined);
    // A call refused at once (nothing in this simulation does that) must not spin in place.
    if (events.now === began) await new Promise((resolve) => events.at(1, () => resolve(0)));
  }
}

/** mulberry32: a small seeded generator, so a run can be repeated. */
function seeded(start: number): () => number {
  let a = start >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const number = (n: number, digits = 0) =>
  n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

console.log(
  `fleet:sim: upstream ${number(limit)} requests/s (beyond it 429, ${retryAfter > 0 ? `Retry-After: ${retryAfter}` : 'no Retry-After'}), ${number(latencyMs)} ms a request; ` +
    `each process ${inFlight} calls in flight, rateLimit { perSecond: ${number(perSecond)}${values.adaptive ? ', adaptive: true' : ''} }; ` +
    `${number(seconds)} simulated s${countFrom > 0 ? ` (requests counted from ${number(countFrom)} s on)` : ''}; coordinator round trip ${number(rttMs, rttMs % 1 ? 1 : 0)} ms; seed ${seed}\n`,
);
console.log(
  '| processes | coordination | requests | 429 rate | successes/s | coordinator commands/s |',
);
console.log('|---:|---|---:|---:|---:|---:|');
let realSeconds = 0;
for (const processes of fleets) {
  for (const coordinated of [false, true]) {
    const r = await scenario(processes, coordinated);
    realSeconds += r.realSeconds;
    const rate = r.requests === 0 ? 0 : (r.limited / r.requests) * 100;
    console.log(
      `| ${number(processes)} | ${coordinated ? 'one shared scope' : 'none (a scope per process)'} | ${number(r.requests)} | ` +
        `${number(rate, 1)} % | ${number(r.successes / counted, 1)} | ${number(r.commands / seconds, 1)} |`,
    );
  }
}
console.log(`\n${number(realSeconds, 1)} s of real time`);
