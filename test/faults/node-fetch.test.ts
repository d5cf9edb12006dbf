/**
 * Node's own fetch (the default transport) aborted through a one-attempt
 * dispatcher instead of an AbortSignal, once the client's transport has seen
 * the fetch use it (on its first attempt): every way an attempt ends early
 * must still close its socket at once.
 */
import { createServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it, vi, type MockInstance } from 'vitest';
import {
  APIConnectionTimeoutError,
  APIUserAbortError,
  createChatDashClient,
} from '../../src/index.js';
import { makeConversation } from '../../src/testing.js';
import { AttemptAbort } from '../../src/transports/attempt-abort.js';
import { NodeFetchTransport } from '../../src/transports/node-fetch.js';

const body = JSON.stringify(makeConversation());
const answer = `HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
const params = { agentId: 'agent_0001', conversationId: 'conv_0001' };

type Behaviour = 'answer' | 'stall' | 'half-body';

/** A raw server: per request, answers, never answers, or sends headers and half the body. */
async function server(behaviour: () => Behaviour) {
  const sockets = new Set<Socket>();
  // Sockets left holding a request that will never be answered in full: only the client can close them.
  const stalled = new Set<Socket>();
  let requests = 0;
  const net = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    socket.on('close', () => {
      sockets.delete(socket);
      stalled.delete(socket);
    });
    socket.on('data', (chunk: Buffer) => {
      if (!chunk.toString('latin1').includes('\r\n\r\n')) return;
      requests++;
      const what = behaviour();
      if (what === 'answer') socket.write(answer);
      else stalled.add(socket);
      if (what === 'half-body') socket.write(answer.slice(0, answer.length - 100));
    });
  });
  await new Promise<void>((resolve) => net.listen(0, '127.0.0.1', resolve));
  const baseUrl = `http://127.0.0.1:${(net.address() as AddressInfo).port}`;
  const handle = {
    baseUrl,
    requests: () => requests,
    /** Sockets with a request still unanswered. */
    stalled: () => stalled.size,
    close: () =>
      new Promise<void>((resolve) => {
        sockets.forEach((s) => s.destroy());
        net.close(() => resolve());
      }),
  };
  servers.push(handle);
  return handle;
}
const servers: { close(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function until(check: () => boolean, ms = 5_000) {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Every send of Node's fetch transport: `this` and the abort it was given. */
let sends: MockInstance<NodeFetchTransport['send']>;
beforeEach(() => {
  sends = vi.spyOn(NodeFetchTransport.prototype, 'send');
});
afterEach(() => void vi.restoreAllMocks());

/** A client whose first call (answered) has taught its transport that fetch dispatches. */
async function lightClient(baseUrl: string, options: { timeoutMs?: number; maxRetries?: number }) {
  const client = createChatDashClient({ apiKey: 'key-node-fetch-test', baseUrl, ...options });
  await client.getConversation(params);
  const transport = sends.mock.contexts.at(-1) as NodeFetchTransport;
  expect(transport.mode).toBe('light');
  return client;
}

/** The attempt just sent went out with the light abort, no signal. */
function sentLight() {
  expect(sends.mock.calls.at(-1)?.[3]).toBeInstanceOf(AttemptAbort);
}

describe("Node's fetch, aborted through its dispatcher", () => {
  it("learns on a client's first call, which carries a signal too, that fetch dispatches", async () => {
    const s = await server(() => 'answer');
    const client = createChatDashClient({ apiKey: 'key-node-fetch-test', baseUrl: s.baseUrl });
    await client.getConversation(params);
    const transport = sends.mock.contexts[0] as NodeFetchTransport;
    expect(sends.mock.calls[0]?.[3]).toBeInstanceOf(AbortController);
    expect(transport.mode).toBe('light');
    await client.getConversation(params);
    expect(sends.mock.contexts[1]).toBe(transport);
    sentLight();
  });

  it('closes the socket of an attempt timed out while waiting for headers', async () => {
    let n = 0;
    const s = await server(() => (n++ === 0 ? 'answer' : 'stall'));
    // Its first call leaves a kept-alive socket, reused by the next call.
    const client = await lightClient(s.baseUrl, { timeoutMs: 200, maxRetries: 0 });
    await expect(client.getConversation(params)).rejects.toBeInstanceOf(APIConnectionTimeoutError);
    sentLight();
    expect(s.requests()).toBe(2);
    // Well under undici's 300 s headers timeout, the only other thing that would close it.
    await until(() => s.stalled() === 0);
  });

  it('closes the socket of an attempt timed out halfway through the body', async () => {
    let n = 0;
    const s = await server(() => (n++ === 0 ? 'answer' : 'half-body'));
    const client = await lightClient(s.baseUrl, { timeoutMs: 200, maxRetries: 0 });
    await expect(client.getConversation(params)).rejects.toBeInstanceOf(APIConnectionTimeoutError);
    sentLight();
    expect(s.requests()).toBe(2);
    await until(() => s.stalled() === 0);
  });

  it("closes the socket when the caller's signal aborts while waiting for headers", async () => {
    let n = 0;
    const s = await server(() => (n++ === 0 ? 'answer' : 'stall'));
    const client = await lightClient(s.baseUrl, {});
    const controller = new AbortController();
    const call = client.getConversation(params, { signal: controller.signal });
    await until(() => s.stalled() === 1);
    sentLight();
    controller.abort();
    await expect(call).rejects.toBeInstanceOf(APIUserAbortError);
    await until(() => s.stalled() === 0);
  });

  it('leaves no request unanswered on a socket, whenever in the attempt the caller aborts', async () => {
    let n = 0;
    const s = await server(() => (n++ === 0 ? 'answer' : 'stall'));
    const client = await lightClient(s.baseUrl, {});
    const light = sends.mock.calls.length;
    // From before the request is dispatched, through connecting, to waiting for headers.
    for (let ticks = 0; ticks < 40; ticks += 3) {
      const controller = new AbortController();
      const call = client.getConversation(params, { signal: controller.signal });
      for (let i = 0; i < ticks; i++) await new Promise((resolve) => setImmediate(resolve));
      controller.abort();
      await expect(call).rejects.toBeInstanceOf(APIUserAbortError);
    }
    // Every attempt that reached the transport went out with the light abort.
    for (const [, , , abort] of sends.mock.calls.slice(light))
      expect(abort).toBeInstanceOf(AttemptAbort);
    await until(() => s.stalled() === 0);
  });
});
