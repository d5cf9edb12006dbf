/**
 * Middleware that would escape the client's bounds, on real sockets: a
 * `Response` whose `Content-Length` understates its body, a rebuilt `Request`
 * whose own signal the attempt's timeout cannot reach; and a body that carries
 * the key as a JSON property name.
 */
import { createServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { inspect } from 'node:util';
import type { Middleware } from 'openapi-fetch';
import { afterEach, describe, expect, it } from 'vitest';
import { makeConversation } from '../../src/testing.js';
import {
  APIConnectionTimeoutError,
  APIUserAbortError,
  createChatDashClient,
  InternalServerError,
  NotFoundError,
  ResponseValidationError,
  transport,
  type ChatDashClientOptions,
} from '../helpers/transport.js';
import { expectExitByItself } from '../helpers/child.js';
import { recordLogs } from '../helpers/logs.js';
import { httpServer, sendJson } from '../helpers/servers.js';
import { failure, sleep } from '../helpers/settle.js';

const apiKey = 'ck_hardening_fault_key_7Qz';
const params = { agentId: 'agent_1', conversationId: 'conv_1' };
const LIMIT = 10_000;
const tooLarge = [{ path: '', message: `is larger than maxResponseBytes (${LIMIT} bytes)` }];

function client(baseUrl: string, options: ChatDashClientOptions = {}) {
  return createChatDashClient({ apiKey, baseUrl, tracing: false, logLevel: 'off', ...options });
}

/**
 * A body of `total` bytes, made 64 KiB at a time as it is pulled: `pulled`
 * says how much was asked for, `cancelled` whether the reader gave up.
 */
function countedStream(total: number) {
  const chunk = new Uint8Array(65_536).fill(0x20); // JSON whitespace
  const state = { pulled: 0, cancelled: false };
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (state.pulled >= total) return controller.close();
      state.pulled += chunk.byteLength;
      controller.enqueue(chunk.slice());
    },
    cancel() {
      state.cancelled = true;
    },
  });
  return { stream, state };
}

/** Claims 100 bytes, whatever the body holds. */
const understated = { 'content-type': 'application/json', 'content-length': '100' };

describe(`a middleware's Response is held to maxResponseBytes (${transport})`, () => {
  it('rejects a 2 MB replacement body declaring Content-Length 100 under a 10,000-byte limit', async () => {
    const server = await httpServer((_req, res) => sendJson(res, 200, makeConversation()));
    const big = JSON.stringify({ ...makeConversation(), note: 'x'.repeat(2_000_000) });
    const middleware: Middleware = {
      onResponse: () => new Response(big, { status: 200, headers: understated }),
    };
    const error = await failure(
      client(server.baseUrl, { middleware: [middleware], maxResponseBytes: LIMIT }).getConversation(
        params,
      ),
    );
    expect(error).toBeInstanceOf(ResponseValidationError);
    expect((error as ResponseValidationError).issues).toEqual(tooLarge);
    expect(server.requests).toHaveLength(1); // not retried
  });

  it('stops reading a 30 MB onRequest body at the limit and cancels its stream', async () => {
    const server = await httpServer((_req, res) => sendJson(res, 200, makeConversation()));
    const { stream, state } = countedStream(30 * 1024 * 1024);
    const middleware: Middleware = {
      onRequest: () => new Response(stream, { status: 200, headers: understated }),
    };
    const error = await failure(
      client(server.baseUrl, { middleware: [middleware], maxResponseBytes: LIMIT }).getConversation(
        params,
      ),
    );
    expect(error).toBeInstanceOf(ResponseValidationError);
    expect((error as ResponseValidationError).issues).toEqual(tooLarge);
    // A chunk or two beyond the limit may be pulled ahead; 30 MB must not be.
    expect(state.pulled).toBeLessThan(1_000_000);
    await sleep(10); // the cancel runs as the reader is let go
    expect(state.cancelled).toBe(true);
    expect(server.requests).toHaveLength(0); // an onRequest Response sends nothing
  });

  it('reads at most 64 KiB of a 30 MB error body an onError supplies, and cancels it', async () => {
    const refused = await httpServer(() => {});
    await refused.close();
    const { stream, state } = countedStream(30 * 1024 * 1024);
    const middleware: Middleware = {
      onError: () => new Response(stream, { status: 500, headers: understated }),
    };
    const error = await failure(
      client(refused.baseUrl, { middleware: [middleware], maxRetries: 0 }).getConversation(params),
    );
    expect(error).toBeInstanceOf(InternalServerError);
    expect(state.pulled).toBeLessThan(1_000_000);
    await sleep(10);
    expect(state.cancelled).toBe(true);
  });
});

/**
 * A TCP server that reads requests and never answers: it records each socket
 * a request came on, and when the client closed it. (After an aborted request
 * undici may open a spare connection that carries nothing; it is not counted.)
 */
async function silentServer() {
  const sockets: { socket: Socket; closedAt: number | undefined }[] = [];
  const all = new Set<Socket>();
  const server = createServer((socket) => {
    all.add(socket);
    const entry = { socket, closedAt: undefined as number | undefined };
    socket.on('error', () => {});
    socket.once('data', () => sockets.push(entry)); // read the request, say nothing
    socket.on('close', () => (entry.closedAt = performance.now()));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  silent.push(() => {
    for (const socket of all) socket.destroy();
    server.close();
  });
  return { baseUrl: `http://127.0.0.1:${port}`, sockets };
}
const silent: (() => void)[] = [];
afterEach(() => silent.splice(0).forEach((close) => close()));

/** Resolves with when every socket is closed, or undefined after `ms`. */
async function allClosedWithin(
  sockets: { closedAt: number | undefined }[],
  ms: number,
): Promise<number | undefined> {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    if (sockets.length > 0 && sockets.every((s) => s.closedAt !== undefined))
      return Math.max(...sockets.map((s) => s.closedAt!));
    await sleep(10);
  }
  return undefined;
}

// The forms a middleware rebuilds a Request in; each Request has a signal of its own.
const rebuilds: [string, Middleware][] = [
  [
    'new Request(request, { headers })',
    {
      onRequest: ({ request }) => {
        const headers = new Headers(request.headers);
        headers.set('x-tenant', 'tenant_7');
        return new Request(request, { headers });
      },
    },
  ],
  [
    'new Request(request.url, { method, headers })',
    {
      onRequest: ({ request }) =>
        new Request(request.url, { method: request.method, headers: request.headers }),
    },
  ],
];

describe(`a rebuilt Request closes its socket on timeout and abort (${transport})`, () => {
  // The bound is generous for a loaded 2-core machine; without the attempt's abort the
  // socket stays open as long as the server is silent (here, until the test ends).
  const CLOSE_BOUND_MS = 3_000;

  it.each(rebuilds)('on timeoutMs, with %s', async (_, middleware) => {
    const server = await silentServer();
    const call = client(server.baseUrl, { middleware: [middleware], maxRetries: 0 });
    const error = await failure(call.getConversation(params, { timeoutMs: 200 }));
    const rejectedAt = performance.now();
    expect(error).toBeInstanceOf(APIConnectionTimeoutError);
    expect(server.sockets).toHaveLength(1);
    const closedAt = await allClosedWithin(server.sockets, CLOSE_BOUND_MS);
    expect(closedAt, 'the server saw the socket closed').toBeDefined();
    expect(closedAt! - rejectedAt).toBeLessThan(CLOSE_BOUND_MS);
  });

  it.each(rebuilds)("on the caller's abort, with %s", async (_, middleware) => {
    const server = await silentServer();
    const call = client(server.baseUrl, { middleware: [middleware], maxRetries: 0 });
    const controller = new AbortController();
    const pending = failure(call.getConversation(params, { signal: controller.signal }));
    const start = performance.now();
    while (server.sockets.length === 0 && performance.now() - start < 5_000) await sleep(5);
    await sleep(50); // the request is on the socket
    controller.abort();
    const error = await pending;
    expect(error).toBeInstanceOf(APIUserAbortError);
    const closedAt = await allClosedWithin(server.sockets, CLOSE_BOUND_MS);
    expect(closedAt, 'the server saw the socket closed').toBeDefined();
  });

  it('lets a process whose calls a rebuilt Request carried to a silent server exit by itself', async () => {
    const server = await silentServer();
    const { result } = await expectExitByItself(
      'test/fixtures/rebuilt-request-exit.ts',
      server.baseUrl,
      25_000, // a backstop only: the calls end in 150 ms; without the fix it never exits
    );
    expect(result).toEqual({ APIConnectionTimeoutError: 10, APIUserAbortError: 10 });
    expect(server.sockets.length).toBeGreaterThan(0);
  }, 30_000);

  it("still honours the rebuilt Request's own signal", async () => {
    const server = await silentServer();
    const own = new AbortController();
    const middleware: Middleware = {
      onRequest: ({ request }) => new Request(request.url, { signal: own.signal }),
    };
    const call = client(server.baseUrl, { middleware: [middleware], maxRetries: 0 });
    const pending = failure(call.getConversation(params, { timeoutMs: 20_000 }));
    const start = performance.now();
    while (server.sockets.length === 0 && performance.now() - start < 5_000) await sleep(5);
    own.abort();
    expect((await pending).name).toBe('APIConnectionError');
    expect(await allClosedWithin(server.sockets, CLOSE_BOUND_MS)).toBeDefined();
  });
});

describe(`the key as a JSON property name (${transport})`, () => {
  // A 2xx body that fails validation (`_id` a number) and names a property after the key.
  const body = { ...makeConversation(), _id: 42, [apiKey]: { [apiKey]: 'x' } };

  it('is in no view of the ResponseValidationError nor in any log line', async () => {
    const server = await httpServer((_req, res) => sendJson(res, 200, body));
    const { lines, logger } = recordLogs();
    const error = await failure(
      client(server.baseUrl, {
        validateResponses: true,
        logger,
        logLevel: 'debug',
      }).getConversation(params),
    );
    expect(error).toBeInstanceOf(ResponseValidationError);
    expect(lines.length).toBeGreaterThan(0);
    const views = [
      inspect(error, { showHidden: true, depth: 10 }),
      String(error),
      error.stack ?? '',
      JSON.stringify(error),
      JSON.stringify(lines),
    ];
    for (const view of views) expect(view).not.toContain(apiKey);
    // The property is there, renamed: the body was kept, the key was not.
    expect((error as ResponseValidationError).body).toHaveProperty('[redacted]');
  });

  it('is in no view of the APIError of a 404 whose JSON body names a property after it', async () => {
    const server = await httpServer((_req, res) =>
      sendJson(res, 404, { error: 'not found', [apiKey]: { [apiKey]: 1 } }),
    );
    const { lines, logger } = recordLogs();
    const error = await failure(
      client(server.baseUrl, { logger, logLevel: 'debug' }).getConversation(params),
    );
    expect(error).toBeInstanceOf(NotFoundError);
    expect(inspect(error, { showHidden: true, depth: 10 })).not.toContain(apiKey);
    expect(JSON.stringify(error)).not.toContain(apiKey);
    expect(JSON.stringify(lines)).not.toContain(apiKey);
    expect((error as NotFoundError).body).toHaveProperty('[redacted]');
  });

  it("is in no line validateResponses: 'report' logs", async () => {
    const server = await httpServer((_req, res) => sendJson(res, 200, body));
    const { lines, logger } = recordLogs();
    const reports: unknown[] = [];
    await client(server.baseUrl, {
      validateResponses: 'report',
      onValidationIssue: (report) => void reports.push(report),
      logger,
      logLevel: 'debug',
    }).getConversation(params);
    expect(lines.some((line) => line.level === 'warn')).toBe(true);
    expect(reports).toHaveLength(1);
    expect(JSON.stringify(lines)).not.toContain(apiKey);
    expect(inspect(reports, { depth: 10 })).not.toContain(apiKey);
  });
});
