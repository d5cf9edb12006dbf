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
import { fork } from 'node:child_process';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import createClient from 'openapi-fetch';
import type { paths } from '../generated/chatdash.js';
import { createChatDashClient } from '../src/index.js';

const IN_FLIGHT = 32;
const KEY = 'bench-key';
const names = process.argv.slice(2);
if (names.length === 0) throw new Error('usage: bench/profile.ts <client name>...');
const single = names.length === 1;
const ROUNDS = single ? 1 : Number(process.env['PROFILE_ROUNDS'] ?? 7);
const CALLS = Number(process.env['PROFILE_CALLS'] ?? (single ? 30_000 : 4_000));

// execArgv: [] so that --cpu-prof profiles this process only.
const server = fork(join(import.meta.dirname, 'server.mjs'), [], {
  execArgv: [],
  stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
});
const [baseUrl] = await new Promise<[string, string]>((resolve) =>
  server.stdout!.once('data', (chunk: Buffer) =>
    resolve(chunk.toString().trim().split(' ') as [string, string]),
  ),
);
const url = `${baseUrl}/agents/agent_1/conversations/conv_1`;
const headers = { Authorization: KEY, Accept: 'application/json' };
const params = { agentId: 'agent_1', conversationId: 'conv_1' };

// Node's own fetch machinery before npm undici (as in bench/run.ts).
await (await fetch(url, { headers })).text();
const { Agent, request: undiciRequest } = await import('undici');
const { createUndiciFetch } = await import('../src/transports/undici.js');
const agent = new Agent();
const undiciFetch = createUndiciFetch();
const bare = createClient<paths>({ baseUrl });
const plain = createChatDashClient({ apiKey: KEY, baseUrl });
const overUndici = createChatDashClient({ apiKey: KEY, baseUrl, fetch: undiciFetch });
const withMiddleware = createChatDashClient({
  apiKey: KEY,
  baseUrl,
  middleware: [{ onRequest() {} }],
});

const clients: Record<string, () => Promise<unknown>> = {
  'raw fetch': async () => (await fetch(url, { headers })).json(),
  'raw fetch + AbortSignal': async () => {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), 30_000);
    try {
      return await (await fetch(url, { headers, signal: controller.signal })).json();
    } finally {
      clearTimeout(timer);
    }
  },
  'undici.request': async () =>
    (await undiciRequest(url, { dispatcher: agent, headers })).body.json(),
  createUndiciFetch: async () => (await undiciFetch(url, { headers })).json(),
  'openapi-fetch (bare)': async () => {
    const { data } = await bare.GET('/agents/{agentId}/conversations/{conversationId}', {
      params: { path: params, header: { Authorization: KEY } },
    });
    return data;
  },
  'chatdash-client': () => plain.getConversation(params),
  'chatdash-client + createUndiciFetch': () => overUndici.getConversation(params),
  'chatdash-client + one no-op middleware': () => withMiddleware.getConversation(params),
};
for (const name of names) if (!clients[name]) throw new Error(`no client ${JSON.stringify(name)}`);

async function measure(call: () => Promise<unknown>, calls: number) {
  let next = 0;
  const cpu = process.cpuUsage();
  const start = performance.now();
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (next++ < calls) await call();
    }),
  );
  const used = process.cpuUsage(cpu);
  return {
    rps: calls / ((performance.now() - start) / 1000),
    cpuUs: (used.user + used.system) / calls,
  };
}

const median = (values: number[]) => {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

for (const name of names) await measure(clients[name]!, 2_000); // warm-up
const runs: Record<string, { rps: number; cpuUs: number }[]> = {};
for (let round = 0; round < ROUNDS; round++) {
  const order = [...names].sort(() => Math.random() - 0.5);
  for (const name of order) (runs[name] ??= []).push(await measure(clients[name]!, CALLS));
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
server.kill('SIGTERM');
await Promise.all([agent.close(), undiciFetch.close()]);
