/**
 * The client's own CPU per call, over a transport that costs nothing: a fetch
 * that answers at once with a ready body of the bench's size. No socket, no
 * server, so none of a loaded machine's network noise; what is left is the
 * client's work (checks, URL, steps, timer, record, body, parse, settle).
 *
 *   node --import tsx bench/overhead.ts              # every row, interleaved rounds
 *   node --import tsx --cpu-prof bench/overhead.ts "light abort"   # one row, to profile
 *
 * Rows: "JSON.parse" (parsing the body, which any client does), "light abort"
 * (a transport that takes the client's light abort, as createUndiciFetch
 * does) and "AbortSignal" (any other fetch: a real AbortSignal per attempt).
 */
import { createChatDashClient } from '../src/index.js';

const body = JSON.stringify({
  _id: 'string',
  agentId: 'string',
  platformId: 'string',
  name: 'string',
  read: false,
  endedAt: '2019-08-24T14:15:22Z',
  status: 'ai',
  evaluation: { isSuccess: true, reason: 'string' },
  mistunderstoodQueries: [{ question: 'string' }],
  customAnalysis: {},
  metadata: {},
  summary: 'string'.repeat(80),
  createdAt: '2019-08-24T14:15:22Z',
});
const headers = new Headers({
  'content-type': 'application/json',
  'content-length': String(Buffer.byteLength(body)),
  'x-request-id': 'bench',
});
function respond(): Promise<Response> {
  const response = { status: 200, statusText: 'OK', ok: true, headers, body: null, text };
  return Promise.resolve(response as unknown as Response);
}
function text(): Promise<string> {
  return Promise.resolve(body);
}
const light = Object.assign((_url: string, _init?: RequestInit) => respond(), {
  [Symbol.for('chatdash-client.attempt-abort')]: true,
});
const signal = (_url: string, _init?: RequestInit) => respond();

const params = { agentId: 'agent_1', conversationId: 'conv_1' };
const apiKey = 'bench-key';
const baseUrl = 'http://127.0.0.1:1';
const overLight = createChatDashClient({ apiKey, baseUrl, fetch: light });
const overSignal = createChatDashClient({ apiKey, baseUrl, fetch: signal });
const rows: Record<string, () => Promise<unknown>> = {
  'JSON.parse': async () => JSON.parse(await (await respond()).text()),
  'light abort': () => overLight.getConversation(params),
  AbortSignal: () => overSignal.getConversation(params),
};

const names = process.argv.length > 2 ? process.argv.slice(2) : Object.keys(rows);
const CALLS = Number(process.env['OVERHEAD_CALLS'] ?? (names.length === 1 ? 300_000 : 30_000));
const ROUNDS = names.length === 1 ? 1 : Number(process.env['OVERHEAD_ROUNDS'] ?? 15);

async function measure(call: () => Promise<unknown>): Promise<number> {
  let next = 0;
  const cpu = process.cpuUsage();
  await Promise.all(
    Array.from({ length: 32 }, async () => {
      while (next++ < CALLS) await call();
    }),
  );
  const used = process.cpuUsage(cpu);
  return (used.user + used.system) / CALLS;
}

for (const name of names) await measure(rows[name]!); // warm-up
const runs: Record<string, number[]> = {};
for (let round = 0; round < ROUNDS; round++)
  for (const name of [...names].sort(() => Math.random() - 0.5))
    (runs[name] ??= []).push(await measure(rows[name]!));
const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1]!;
console.log(`${process.version}, ${ROUNDS} rounds of ${CALLS} calls at 32 in flight (median):`);
for (const name of names)
  console.log(`- ${name}: ${median(runs[name]!).toFixed(2)} CPU µs per call`);
