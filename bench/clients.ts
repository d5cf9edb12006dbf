/**
 * What bench/run.ts and bench/profile.ts share: the benchmark's server in its
 * own process, the clients they measure against it, and the loop that runs one
 * client with 32 calls in flight.
 *
 * Note: npm undici (and the undici transport, which imports it) is loaded only
 * by openClients, after the first raw fetch. Imported before it, its
 * lib/global.js installs npm undici's Agent as the global dispatcher, and
 * "raw fetch" would measure fetch on that Agent, not Node's own. So nothing
 * here imports undici at the top.
 */
import { fork } from 'node:child_process';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import createClient from 'openapi-fetch';
import type { paths } from '../generated/chatdash.js';
import { createChatDashClient, type ChatDashClient } from '../src/index.js';

export const IN_FLIGHT = 32;
export const KEY = 'bench-key';
export const params = { agentId: 'agent_1', conversationId: 'conv_1' };

export type Call = () => Promise<unknown>;

/** Starts bench/server.mjs and waits for the URL and body size it prints. */
export async function startServer(options: { execArgv?: string[] } = {}) {
  const server = fork(join(import.meta.dirname, 'server.mjs'), [], {
    ...options,
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  });
  const [baseUrl, bodyBytes] = await new Promise<[string, string]>((resolve) =>
    server.stdout!.once('data', (chunk: Buffer) =>
      resolve(chunk.toString().trim().split(' ') as [string, string]),
    ),
  );
  return { baseUrl, bodyBytes, stop: () => server.kill('SIGTERM') };
}

/**
 * The clients, by the name each has in the tables, in two groups: bench/run.ts
 * puts its observability and flow rows between `first` and `last`, which keeps
 * its table in the order earlier tables were printed in.
 */
export async function openClients(baseUrl: string): Promise<{
  first: Record<string, Call>;
  last: Record<string, Call>;
  plain: ChatDashClient;
  close: () => Promise<void>;
}> {
  const url = `${baseUrl}/agents/agent_1/conversations/conv_1`;
  const chunkedUrl = `${baseUrl}/agents/chunked/conversations/conv_1`;
  const chunkedParams = { agentId: 'chunked', conversationId: 'conv_1' };
  const headers = { Authorization: KEY, Accept: 'application/json' };

  // Node's own fetch machinery first (see the note above), then npm undici.
  await (await fetch(url, { headers })).text();
  const { Agent, request: undiciRequest } = await import('undici');
  const { createUndiciFetch } = await import('../src/transports/undici.js');
  const agent = new Agent();
  const undiciFetch = createUndiciFetch();

  const bare = createClient<paths>({ baseUrl });
  const plain = createChatDashClient({ apiKey: KEY, baseUrl });
  const validating = createChatDashClient({ apiKey: KEY, baseUrl, validateResponses: true });
  const overUndici = createChatDashClient({ apiKey: KEY, baseUrl, fetch: undiciFetch });
  // Without middleware no Request object is built; with one, every attempt builds one.
  const withMiddleware = createChatDashClient({
    apiKey: KEY,
    baseUrl,
    middleware: [{ onRequest() {} }],
  });

  const first: Record<string, Call> = {
    'raw fetch': async () => (await fetch(url, { headers })).json(),
    // What the client gives fetch on every attempt: a signal, and a timer that can fire it.
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
    'chatdash-client + validateResponses': () => validating.getConversation(params),
    'chatdash-client + one no-op middleware': () => withMiddleware.getConversation(params),
  };
  const last: Record<string, Call> = {
    'chatdash-client + createUndiciFetch': () => overUndici.getConversation(params),
    // A body without Content-Length goes through the client's bounded streaming
    // reader (it counts bytes against maxResponseBytes as they arrive) instead
    // of response.text(): what bounding costs.
    'raw fetch, chunked body': async () => (await fetch(chunkedUrl, { headers })).json(),
    'chatdash-client, chunked body': () => plain.getConversation(chunkedParams),
  };
  const close = async () => {
    await Promise.all([agent.close(), undiciFetch.close()]);
  };
  return { first, last, plain, close };
}

/** `calls` calls of `call`, IN_FLIGHT at a time: requests/s and this process's CPU µs per request. */
export async function measureConcurrent(call: Call, calls: number) {
  let next = 0;
  const cpu = process.cpuUsage();
  const start = performance.now();
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (next++ < calls) await call();
    }),
  );
  const seconds = (performance.now() - start) / 1000;
  const used = process.cpuUsage(cpu);
  return { rps: calls / seconds, cpuUs: (used.user + used.system) / calls };
}

export const median = (values: number[]) => {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};
