/**
 * What the flow-control fault files share: a client whose log lines are kept,
 * servers that time what reaches them, a load of calls in flight, and a port
 * that refuses connections.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { makeConversation } from '../../src/testing.js';
import { loggedClient } from './logs.js';
import { httpServer, sendJson } from './servers.js';
import { sleep } from './settle.js';
import {
  createChatDashClient,
  type ChatDashClientOptions,
  type ConversationWithResponse,
} from './transport.js';

export const apiKey = 'ck_flow_test_key';
export const params = { agentId: 'agent_1', conversationId: 'conv_1' };
export const noWait = { 'retry-after-ms': '0' };

/** A client on `baseUrl` whose log lines are kept in `lines`, with when they were written. */
export function client(baseUrl: string, options: ChatDashClientOptions = {}) {
  return loggedClient(createChatDashClient, { apiKey, baseUrl, logLevel: 'info', ...options });
}

/** A server that records when each request arrived and answers with `answer`. */
export async function timedServer(answer: (req: IncomingMessage, res: ServerResponse) => void) {
  const arrivals: number[] = [];
  const server = await httpServer((req, res) => {
    arrivals.push(performance.now());
    answer(req, res);
  });
  return Object.assign(server, { arrivals });
}

export const ok = (_: IncomingMessage, res: ServerResponse) =>
  sendJson(res, 200, makeConversation());

/**
 * `inFlight` loops of calls for `ms`; every settled call's result or error.
 * A loop whose call failed yields for 5 ms, as a caller would: a call refused
 * at once settles in microtasks, and a loop of those would starve the sockets.
 */
export async function load(
  call: () => Promise<ConversationWithResponse>,
  inFlight: number,
  ms: number,
): Promise<Array<ConversationWithResponse | Error>> {
  const results: Array<ConversationWithResponse | Error> = [];
  const end = performance.now() + ms;
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (performance.now() < end) {
        const result = await call().catch((error: unknown) => error as Error);
        results.push(result);
        if (result instanceof Error) await sleep(5);
      }
    }),
  );
  return results;
}

/** A port on 127.0.0.1 that refuses connections (a server was there a moment ago). */
export async function refusedPort(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return `http://127.0.0.1:${port}`;
}
