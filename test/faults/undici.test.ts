/**
 * chatdash-client/undici: the client over createUndiciFetch against real
 * node:http servers (and a real forward proxy) on 127.0.0.1.
 */
import type { IncomingMessage } from 'node:http';
import { performance } from 'node:perf_hooks';
import { inspect } from 'node:util';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  APIConnectionError,
  APIConnectionTimeoutError,
  APIError,
  APIUserAbortError,
  ChatDashError,
  createChatDashClient,
  NotFoundError,
  ResponseValidationError,
} from '../../src/index.js';
import { createUndiciFetch, type UndiciFetch } from '../../src/transports/undici.js';
import { expectExitByItself } from '../helpers/child.js';
import { proxyServer } from '../helpers/proxy.js';
import { sleep } from '../helpers/settle.js';
import { httpServer, rawHttpServer, sendJson } from '../helpers/servers.js';
import { makeConversation } from '../../src/testing.js';

const apiKey = 'ck_undici_secret_key';
const params = { agentId: 'agent_1', conversationId: 'conv_1' };
const slots = [Symbol.for('undici.globalDispatcher.1'), Symbol.for('undici.globalDispatcher.2')];
const readSlots = () =>
  slots.map((slot) => (globalThis as unknown as Record<symbol, unknown>)[slot]);

const fetches: UndiciFetch[] = [];
afterEach(async () => {
  vi.unstubAllEnvs();
  await Promise.all(fetches.splice(0).map((fetch) => fetch.close()));
});

function undiciFetch(options?: Parameters<typeof createUndiciFetch>[0]): UndiciFetch {
  const fetch = createUndiciFetch(options);
  fetches.push(fetch);
  return fetch;
}

function client(baseUrl: string, fetch = undiciFetch(), more = {}) {
  return createChatDashClient({ apiKey, baseUrl, fetch, maxRetries: 0, ...more });
}

/** Resolves when the server side of the request's socket closes. */
const socketClosed = (req: IncomingMessage) =>
  new Promise<void>((done) => req.socket.once('close', () => done()));

/**
 * A server whose body never ends: it writes `fill` as fast as the client
 * reads, so only the client closing the socket ends it. `seen.closed`
 * resolves when the socket closed; `seen.written` counts the bytes written.
 */
async function endlessBody(contentType: string, fill: string) {
  const seen = { closed: undefined as Promise<void> | undefined, written: 0 };
  const server = await httpServer((req, res) => {
    seen.closed = socketClosed(req);
    res.writeHead(200, { 'content-type': contentType });
    const chunk = Buffer.alloc(16_384, fill);
    const pump = () => {
      while (res.write(chunk)) seen.written += chunk.length;
      seen.written += chunk.length;
    };
    res.on('drain', pump);
    pump();
  });
  return { server, seen };
}

describe('createUndiciFetch and global state', () => {
  // First in the file: nothing in this worker has loaded undici through createUndiciFetch yet.
  it('leaves the global fetch dispatcher exactly as the app had it, after import, creation and calls', async () => {
    const server = await httpServer((_, res) => sendJson(res, 200, makeConversation()));
    await (await fetch(server.baseUrl)).text(); // the app has used fetch: its dispatcher exists
    const before = readSlots();
    const module = await import('../../src/transports/undici.js');
    expect(readSlots()).toEqual(before);
    const chatdash = client(server.baseUrl, module.createUndiciFetch());
    await chatdash.getConversation(params);
    await (await fetch(server.baseUrl)).text();
    readSlots().forEach((value, i) => expect(value).toBe(before[i]));
  });

  it('in a fresh process, never puts npm undici into the global slots, and the process exits by itself', async () => {
    const server = await httpServer((_, res) => sendJson(res, 200, makeConversation()));
    // Idle keep-alive sockets do not hold the process (undici unrefs them).
    const { result } = await expectExitByItself(
      'test/fixtures/undici-fresh-process.ts',
      server.baseUrl,
      20_000,
    );
    expect(result).toEqual({
      emptyAtStart: true,
      unchangedByImport: true,
      resolved: 100,
      globalStatus: 200,
      // Creation starts Node's own fetch machinery, which fills the slot with Node's own
      // Agent, as the app's first fetch would; npm undici's Agent is never put there.
      afterCreate: 'node',
      afterCalls: 'node',
      afterGlobalFetch: 'node',
      npmAgentInAnySlot: false,
    });
  }, 30_000);
});

describe('the client through createUndiciFetch', () => {
  it('resolves a conversation, sending the key and headers as they are and asking for no compression', async () => {
    const server = await httpServer((_, res) => sendJson(res, 200, makeConversation()));
    const chatdash = client(`${server.baseUrl}/v1/public`);
    await expect(chatdash.getConversation({ ...params, isPlatformId: true })).resolves.toEqual(
      makeConversation(),
    );
    const [request] = server.requests;
    expect(request?.url).toBe('/v1/public/agents/agent_1/conversations/conv_1?isPlatformId=true');
    expect(request?.headers['authorization']).toBe(apiKey);
    expect(request?.headers['accept']).toBe('application/json');
    expect(request?.headers['accept-encoding']).toBe('identity');
  });

  it('builds no Headers for a 2xx unless the debug line needs them', async () => {
    const server = await httpServer((_, res) =>
      sendJson(res, 200, makeConversation(), { 'x-request-id': 'req_ok' }),
    );
    const Real = globalThis.Headers;
    let built = 0;
    globalThis.Headers = class extends Real {
      constructor(init?: ConstructorParameters<typeof Real>[0]) {
        super(init);
        built++;
      }
    };
    try {
      const counted = async (logLevel: 'info' | 'debug') => {
        const chatdash = createChatDashClient({
          apiKey,
          baseUrl: server.baseUrl,
          fetch: undiciFetch(),
          logLevel,
          logger: { debug() {}, info() {}, warn() {}, error() {} },
        });
        built = 0; // createUndiciFetch itself makes one, to start Node's fetch machinery
        await chatdash.getConversation(params);
        return built;
      };
      expect(await counted('info')).toBe(0);
      // The same call with the debug line on logs the request id: the spy sees Headers built.
      expect(await counted('debug')).toBeGreaterThan(0);
    } finally {
      globalThis.Headers = Real;
    }
  });

  it('gives NotFoundError with status, parsed body, real Headers and the request id for a 404', async () => {
    const server = await httpServer((_, res) =>
      sendJson(res, 404, { message: 'no such conversation' }, { 'x-request-id': 'req_404' }),
    );
    const error = await client(server.baseUrl)
      .getConversation(params)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NotFoundError);
    expect(error).toMatchObject({
      status: 404,
      body: { message: 'no such conversation' },
      requestId: 'req_404',
    });
    expect((error as NotFoundError).headers).toBeInstanceOf(Headers);
    expect((error as Error).message).toMatch(
      /^404 Not Found: GET http:\/\/127\.0\.0\.1:\d+\/agents\/agent_1/,
    );
  });

  it('never follows a 3xx: a 302 to another origin is an APIError and the other origin sees nothing', async () => {
    const elsewhere = await httpServer((_, res) => sendJson(res, 200, makeConversation()));
    const server = await httpServer((_, res) =>
      res.writeHead(302, { location: `${elsewhere.baseUrl}/steal`, 'content-length': 0 }).end(),
    );
    const error = await client(server.baseUrl)
      .getConversation(params)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(APIError);
    expect((error as APIError).status).toBe(302);
    expect(elsewhere.requests).toHaveLength(0);
  });

  it('rejects with APIUserAbortError and sends nothing when the signal is already aborted', async () => {
    const server = await httpServer((_, res) => sendJson(res, 200, makeConversation()));
    const error = await client(server.baseUrl)
      .getConversation(params, { signal: AbortSignal.abort() })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(APIUserAbortError);
    expect(server.requests).toHaveLength(0);
  });

  it('rejects with APIUserAbortError and closes the socket when aborted while waiting for headers', async () => {
    const controller = new AbortController();
    let closed: Promise<void> | undefined;
    const server = await httpServer((req) => {
      closed = socketClosed(req);
      controller.abort(); // the request has arrived; its answer never will
    });
    const error = await client(server.baseUrl)
      .getConversation(params, { signal: controller.signal })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(APIUserAbortError);
    expect(server.requests).toHaveLength(1);
    await closed;
  });

  it('rejects with APIUserAbortError and closes the socket when aborted while the body is read', async () => {
    const controller = new AbortController();
    let closed: Promise<void> | undefined;
    const server = await httpServer((req, res) => {
      closed = socketClosed(req);
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': 1_000 });
      res.write('{"_id":', () => controller.abort()); // part of the body, then silence
    });
    const error = await client(server.baseUrl)
      .getConversation(params, { signal: controller.signal })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(APIUserAbortError);
    await closed;
  });

  it('times out with APIConnectionTimeoutError while the body is read, and closes the socket', async () => {
    let closed: Promise<void> | undefined;
    const server = await httpServer((req, res) => {
      closed = socketClosed(req);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"_id":'); // headers and part of the body, then silence
    });
    const started = performance.now();
    const error = await client(server.baseUrl, undiciFetch(), { timeoutMs: 300 })
      .getConversation(params)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(APIConnectionTimeoutError);
    await closed;
    expect(performance.now() - started).toBeLessThan(2_500);
  });

  it('cancels an endless body at maxResponseBytes: ResponseValidationError, and the server sees its socket closed', async () => {
    const { server, seen } = await endlessBody('application/json', ' ');
    const error = await client(server.baseUrl, undiciFetch(), { maxResponseBytes: 100_000 })
      .getConversation(params)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ResponseValidationError);
    expect((error as Error).message).toMatch(/maxResponseBytes/);
    // Not cancelled, the body would stay paused on a socket held open for good.
    const whenClosed = await Promise.race([seen.closed?.then(() => 'closed'), sleep(10_000)]);
    expect(whenClosed, 'the server socket closes once the limit is passed').toBe('closed');
    expect(seen.written).toBeLessThan(64 * 1024 * 1024);
  });

  it('cancels a body whose Content-Length is over maxResponseBytes without reading it, and the server sees its socket closed', async () => {
    let closed: Promise<void> | undefined;
    const server = await httpServer((req, res) => {
      closed = socketClosed(req);
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': 1_000_000 });
      res.write('{"_id":'); // then silence: only the client closing the socket ends it
    });
    const error = await client(server.baseUrl, undiciFetch(), { maxResponseBytes: 100_000 })
      .getConversation(params)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ResponseValidationError);
    const whenClosed = await Promise.race([closed?.then(() => 'closed'), sleep(10_000)]);
    expect(whenClosed, 'the server socket closes on the refusal').toBe('closed');
  });

  it('gives APIConnectionError with the code as the reason for a refused connection', async () => {
    const server = await httpServer(() => {});
    const baseUrl = server.baseUrl;
    await server.close();
    const error = await client(baseUrl)
      .getConversation(params)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(APIConnectionError);
    expect((error as Error).message).toMatch(/ECONNREFUSED/);
    expect((error as Error).message).not.toContain(apiKey);
  });
});

describe('the fetch createUndiciFetch returns', () => {
  it('resolves at the headers and reads the body only as it is asked for (the server has not finished)', async () => {
    let finish: (() => void) | undefined;
    const server = await httpServer((_, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('first');
      finish = () => res.end('last');
    });
    const response = await undiciFetch()(server.baseUrl, {});
    expect(response.status).toBe(200);
    expect(response.bodyUsed).toBe(false);
    const reader = response.body!.getReader();
    expect(new TextDecoder().decode((await reader.read()).value)).toBe('first');
    finish?.();
    expect(new TextDecoder().decode((await reader.read()).value)).toBe('last');
    expect((await reader.read()).done).toBe(true);
    expect(response.bodyUsed).toBe(true);
  });

  it('closes the socket when a reader stops early (break out of for await over the body)', async () => {
    const { server, seen } = await endlessBody('application/octet-stream', 'x');
    const response = await undiciFetch()(server.baseUrl, {});
    let read = 0;
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      read += chunk.byteLength;
      if (read > 65_536) break;
    }
    await seen.closed;
    expect(read).toBeGreaterThan(65_536);
    expect(seen.written).toBeLessThan(64 * 1024 * 1024);
  });

  it('returns a 3xx as it is with redirect: manual, and its body', async () => {
    const elsewhere = await httpServer((_, res) => res.end('followed'));
    const server = await httpServer((_, res) =>
      res
        .writeHead(301, { location: elsewhere.baseUrl, 'content-type': 'text/plain' })
        .end('moved'),
    );
    const response = await undiciFetch()(server.baseUrl, { redirect: 'manual' });
    expect(response.status).toBe(301);
    expect(response.ok).toBe(false);
    expect(response.headers.get('location')).toBe(elsewhere.baseUrl);
    expect(await response.text()).toBe('moved');
    expect(elsewhere.requests).toHaveLength(0);
  });

  it('rejects like fetch: a TypeError with the connection error as cause', async () => {
    const server = await httpServer(() => {});
    const baseUrl = server.baseUrl;
    await server.close();
    const error = await undiciFetch()(baseUrl, {}).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TypeError);
    expect((error as Error).message).toBe('fetch failed');
    expect((error as { cause?: { code?: string } }).cause?.code).toBe('ECONNREFUSED');
  });

  it('opens at most `connections` sockets to one origin and queues the rest', async () => {
    const sockets = new Set<unknown>();
    const server = await httpServer((req, res) => {
      sockets.add(req.socket);
      setTimeout(() => sendJson(res, 200, makeConversation()), 50); // keep them concurrent
    });
    const chatdash = client(server.baseUrl, undiciFetch({ connections: 2 }));
    await Promise.all(Array.from({ length: 6 }, () => chatdash.getConversation(params)));
    expect(server.requests).toHaveLength(6);
    expect(sockets.size).toBe(2);
  });

  it('rejects calls after close()', async () => {
    const server = await httpServer((_, res) => sendJson(res, 200, makeConversation()));
    const fetch = createUndiciFetch();
    await expect((await fetch(server.baseUrl, {})).json()).resolves.toEqual(makeConversation());
    await fetch.close();
    await expect(fetch(server.baseUrl, {})).rejects.toThrow('fetch failed');
    expect(server.requests).toHaveLength(1);
  });
});

describe('every status gives the same outcome through fetch and createUndiciFetch', () => {
  const conversation = JSON.stringify(makeConversation());
  const head = (status: string, ...headers: string[]) =>
    `HTTP/1.1 ${status}\r\n${headers.map((h) => `${h}\r\n`).join('')}\r\n`;
  const json = 'content-type: application/json';
  const length = `content-length: ${Buffer.byteLength(conversation)}`;
  const invalid = (status: number) => ({ error: 'ResponseValidationError', status, requests: 1 });
  // A body after a 204 or 304 head is not one (those statuses have none), so a client cannot
  // tell where it ends; a server that sends one leaves the connection unusable, so these
  // servers close it (`close`), as the next request on it would read those bytes as its answer.
  const statuses: { name: string; answer: string; close?: boolean; outcome: object }[] = [
    {
      name: '200 with a conversation',
      answer: head('200 OK', json, length) + conversation,
      outcome: { value: makeConversation(), requests: 1 },
    },
    {
      name: '200 with an empty body',
      answer: head('200 OK', 'content-length: 0'),
      outcome: invalid(200),
    },
    { name: '204 without a body', answer: head('204 No Content'), outcome: invalid(204) },
    {
      name: '204 with Content-Length and a conversation after it',
      answer: head('204 No Content', json, length) + conversation,
      close: true,
      outcome: invalid(204),
    },
    {
      name: '204 with a conversation after it and no Content-Length',
      answer: head('204 No Content', json) + conversation,
      close: true,
      outcome: invalid(204),
    },
    {
      name: '205 with Content-Length and a conversation',
      answer: head('205 Reset Content', json, length) + conversation,
      outcome: invalid(205),
    },
    {
      name: '205 with Content-Length 0',
      answer: head('205 Reset Content', 'content-length: 0'),
      outcome: invalid(205),
    },
    {
      name: '304 without a body',
      answer: head('304 Not Modified', 'etag: "v1"'),
      outcome: { error: 'APIError', status: 304, requests: 1 },
    },
    {
      // As a real 304 carries it: the length of the representation it stands for.
      name: '304 with Content-Length and no body',
      answer: head('304 Not Modified', 'etag: "v1"', length),
      outcome: { error: 'APIError', status: 304, requests: 1 },
    },
    {
      name: '304 with Content-Length and a conversation after it',
      answer: head('304 Not Modified', json, length) + conversation,
      close: true,
      outcome: { error: 'APIError', status: 304, requests: 1 },
    },
    {
      name: '302 to elsewhere',
      answer: head('302 Found', 'location: http://127.0.0.1:9/', 'content-length: 0'),
      outcome: { error: 'APIError', status: 302, requests: 1 },
    },
    {
      name: '404 with a JSON error',
      answer: head('404 Not Found', json, 'content-length: 2') + '{}',
      outcome: { error: 'NotFoundError', status: 404, requests: 1 },
    },
    {
      name: '503, retried',
      answer: head('503 Service Unavailable', 'retry-after-ms: 0', 'content-length: 4') + 'busy',
      outcome: { error: 'InternalServerError', status: 503, requests: 3 },
    },
  ];

  /**
   * What two calls in a row give (the second on the connection the first left, if any): the
   * value or the error's class and status, and the requests the server saw for each.
   */
  async function outcomes(answer: string, close: boolean, fetch: UndiciFetch | undefined) {
    const server = await rawHttpServer(answer, { close });
    const chatdash = createChatDashClient({
      apiKey,
      baseUrl: server.baseUrl,
      maxRetries: 2,
      fetch,
    });
    const calls: object[] = [];
    for (let call = 0; call < 2; call++) {
      const before = server.requests.length;
      const result = await chatdash.getConversation(params).then(
        (value) => ({ value }),
        (error: APIError) => {
          expect(error.attempts, error.message).toHaveLength(server.requests.length - before);
          return { error: error.name, status: error.status };
        },
      );
      calls.push({ ...result, requests: server.requests.length - before });
    }
    return calls;
  }

  it.each(statuses)('$name', async ({ answer, close = false, outcome }) => {
    const throughFetch = await outcomes(answer, close, undefined);
    const throughUndici = await outcomes(answer, close, undiciFetch());
    expect(throughUndici).toEqual(throughFetch);
    expect(throughFetch).toEqual([outcome, outcome]);
  });
});

describe('createUndiciFetch options', () => {
  it.each([0, 1.5, 1025, '5', Number.NaN, null])(
    'refuses connections: %s, naming connections and the rule',
    (connections) => {
      expect(() => createUndiciFetch({ connections: connections as number })).toThrow(
        /^createUndiciFetch: connections must be an integer from 1 to 1024, got /,
      );
      expect(() => createUndiciFetch({ connections: connections as number })).toThrow(
        ChatDashError,
      );
    },
  );

  it.each([
    'socks5://user:hunter2@127.0.0.1:1080',
    'user:hunter2@proxy.internal:3128', // no scheme: parses as protocol "user:"
    'http//user:hunter2@proxy',
  ])('refuses proxy %s without quoting it (its password stays out)', (proxy) => {
    const attempt = () => createUndiciFetch({ proxy });
    expect(attempt).toThrow(ChatDashError);
    expect(attempt).toThrow(
      /^createUndiciFetch: proxy must be 'env', false or an http: or https: proxy URL, got a string that is not one/,
    );
    expect(attempt).not.toThrow(/hunter2|user/);
  });

  it('refuses a proxy that is not a string, saying what it got', () => {
    expect(() => createUndiciFetch({ proxy: true as never })).toThrow(/, got boolean true$/);
  });

  it('refuses an unknown option by name', () => {
    expect(() => createUndiciFetch({ proxyUrl: 'x' } as never)).toThrow(
      'createUndiciFetch: unknown option `proxyUrl`',
    );
  });
});

describe('createUndiciFetch through a proxy', () => {
  it("proxy: 'http://...' sends every request through that proxy (a CONNECT tunnel), with its credentials", async () => {
    const server = await httpServer((_, res) => sendJson(res, 200, makeConversation()));
    const proxy = await proxyServer();
    const withCredentials = proxy.url.replace('http://', 'http://user:hunter2@');
    const chatdash = client(server.baseUrl, undiciFetch({ proxy: withCredentials }));
    await expect(chatdash.getConversation(params)).resolves.toEqual(makeConversation());
    expect(proxy.forwarded).toHaveLength(1);
    expect(proxy.forwarded[0]).toMatchObject({
      method: 'CONNECT',
      target: server.baseUrl.replace('http://', ''),
    });
    expect(proxy.forwarded[0]?.headers['proxy-authorization']).toBe(
      `Basic ${Buffer.from('user:hunter2').toString('base64')}`,
    );
    expect(server.requests).toHaveLength(1);
  });

  it("proxy: 'env' goes through HTTP_PROXY for an http: target", async () => {
    const server = await httpServer((_, res) => sendJson(res, 200, makeConversation()));
    const proxy = await proxyServer();
    vi.stubEnv('http_proxy', undefined);
    vi.stubEnv('no_proxy', undefined);
    vi.stubEnv('NO_PROXY', undefined);
    vi.stubEnv('HTTP_PROXY', proxy.url);
    const chatdash = client(server.baseUrl, undiciFetch({ proxy: 'env' }));
    await expect(chatdash.getConversation(params)).resolves.toEqual(makeConversation());
    expect(proxy.forwarded.map((f) => f.target)).toEqual([server.baseUrl.replace('http://', '')]);
    expect(server.requests).toHaveLength(1);
  });

  it("proxy: 'env' connects directly to a host NO_PROXY names", async () => {
    const server = await httpServer((_, res) => sendJson(res, 200, makeConversation()));
    const proxy = await proxyServer();
    vi.stubEnv('http_proxy', undefined);
    vi.stubEnv('no_proxy', undefined);
    vi.stubEnv('HTTP_PROXY', proxy.url);
    vi.stubEnv('NO_PROXY', '127.0.0.1');
    const chatdash = client(server.baseUrl, undiciFetch({ proxy: 'env' }));
    await expect(chatdash.getConversation(params)).resolves.toEqual(makeConversation());
    expect(proxy.forwarded).toHaveLength(0);
    expect(server.requests).toHaveLength(1);
  });

  it('does not follow a 302 from the proxy: a connection error, and neither the server nor the redirect target sees a request', async () => {
    const server = await httpServer((_, res) => sendJson(res, 200, makeConversation()));
    const elsewhere = await httpServer((_, res) => sendJson(res, 200, makeConversation()));
    const proxy = await proxyServer({ redirectTo: elsewhere.baseUrl });
    const error = await client(server.baseUrl, undiciFetch({ proxy: proxy.url }))
      .getConversation(params)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(APIConnectionError);
    expect((error as Error).message).toMatch(
      /: the proxy refused the tunnel to 127\.0\.0\.1:\d+: it answered 302 \(proxy http:\/\/127\.0\.0\.1:\d+\)$/,
    );
    expect(proxy.forwarded).toHaveLength(1);
    expect(server.requests).toHaveLength(0);
    expect(elsewhere.requests).toHaveLength(0);
  });

  it('gives up on a proxy that closes the connection on CONNECT: a few connections per call, an APIConnectionError saying the proxy refused, no credentials in it', async () => {
    const server = await httpServer((_, res) => sendJson(res, 200, makeConversation()));
    const proxy = await proxyServer({ closeOnConnect: true });
    const withCredentials = proxy.url.replace('http://', 'http://user:hunter2@');
    // The client's own retries (two) stay on; undici 7 alone reconnects without end.
    const chatdash = client(server.baseUrl, undiciFetch({ proxy: withCredentials }), {
      maxRetries: 2,
      timeoutMs: 3_000,
    });
    const error = await chatdash.getConversation(params).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(APIConnectionError);
    expect(error).not.toBeInstanceOf(APIConnectionTimeoutError);
    expect((error as Error).message).toMatch(
      /^Connection error: GET http:\/\/127\.0\.0\.1:\d+\/agents\/.*: the proxy refused the tunnel to 127\.0\.0\.1:\d+/,
    );
    expect((error as APIConnectionError).attempts).toHaveLength(3);
    const opened = proxy.connections();
    expect(opened).toBeGreaterThanOrEqual(3);
    expect(opened).toBeLessThanOrEqual(5);
    await sleep(300);
    expect(proxy.connections(), 'nothing reconnects after the call').toBe(opened);
    expect(server.requests).toHaveLength(0);
    const views = [
      String(error),
      (error as Error).stack,
      JSON.stringify(error),
      inspect(error, { showHidden: true, depth: 10 }),
    ].join('\n');
    for (const secret of ['hunter2', Buffer.from('user:hunter2').toString('base64'), apiKey]) {
      expect(views).not.toContain(secret);
    }
  });

  it("proxy: 'env' gives up on such a proxy too", async () => {
    const server = await httpServer((_, res) => sendJson(res, 200, makeConversation()));
    const proxy = await proxyServer({ closeOnConnect: true });
    vi.stubEnv('http_proxy', undefined);
    vi.stubEnv('no_proxy', undefined);
    vi.stubEnv('NO_PROXY', undefined);
    vi.stubEnv('HTTP_PROXY', proxy.url);
    const error = await client(server.baseUrl, undiciFetch({ proxy: 'env' }), { timeoutMs: 3_000 })
      .getConversation(params)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(APIConnectionError);
    expect((error as Error).message).toMatch(/: the proxy refused the tunnel to /);
    expect(proxy.connections()).toBeLessThanOrEqual(2);
  });

  it('does not follow a 302 from the server behind the proxy', async () => {
    const elsewhere = await httpServer((_, res) => sendJson(res, 200, makeConversation()));
    const server = await httpServer((_, res) =>
      res.writeHead(302, { location: elsewhere.baseUrl, 'content-length': 0 }).end(),
    );
    const proxy = await proxyServer();
    const error = await client(server.baseUrl, undiciFetch({ proxy: proxy.url }))
      .getConversation(params)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(APIError);
    expect((error as APIError).status).toBe(302);
    expect(proxy.forwarded).toHaveLength(1);
    expect(elsewhere.requests).toHaveLength(0);
  });
});
