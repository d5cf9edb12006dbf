/**
 * Fault tests: real misbehaving servers on 127.0.0.1, each counting the attempts it saw.
 * Nothing here injects a fetch; the client talks to the sockets through Node's fetch.
 */
import { describe, expect, it } from 'vitest';
import {
  APIConnectionError,
  APIConnectionTimeoutError,
  APIError,
  APIUserAbortError,
  createChatDashClient,
  InternalServerError,
  NotFoundError,
  RateLimitError,
  ResponseValidationError,
  type ChatDashClientOptions,
} from '../helpers/transport.js';
import { failingOnce, httpServer, sendJson, tcpServer } from '../helpers/servers.js';
import { makeConversation } from '../../src/testing.js';
import { failure, timed } from '../helpers/settle.js';

const apiKey = 'ck_fault_test_key';
const params = { agentId: 'agent_1', conversationId: 'conv_1' };
const okBody = JSON.stringify(makeConversation());
const okResponse = `HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(okBody)}\r\nconnection: close\r\n\r\n${okBody}`;

function client(baseUrl: string, options: ChatDashClientOptions = {}) {
  return createChatDashClient({ apiKey, baseUrl, ...options });
}

/** Resolves once the server has seen `n` requests. */
function whenRequests(server: { requests: unknown[] }, n: number): Promise<void> {
  return new Promise((resolve) => {
    const poll = () => (server.requests.length >= n ? resolve() : setTimeout(poll, 5));
    poll();
  });
}

describe('connection faults', () => {
  it('retries a connection reset before the response, then succeeds', async () => {
    const server = await tcpServer((socket, attempt) => {
      if (attempt === 0) socket.resetAndDestroy();
      else socket.end(okResponse);
    });
    await expect(client(server.baseUrl).getConversation(params)).resolves.toEqual(
      makeConversation(),
    );
    expect(server.requests).toHaveLength(2);
  });

  it('gives APIConnectionError with the cause kept after 3 attempts when every attempt is reset', async () => {
    const server = await tcpServer((socket) => socket.resetAndDestroy());
    const error = await failure(client(server.baseUrl).getConversation(params));
    expect(error).toBeInstanceOf(APIConnectionError);
    expect(error).not.toBeInstanceOf(APIConnectionTimeoutError);
    expect(error.cause).toBeInstanceOf(Error);
    expect(error.message).toMatch(
      /^Connection error: GET http:\/\/127\.0\.0\.1:\d+\/agents\/agent_1\/conversations\/conv_1: /,
    );
    expect(server.requests).toHaveLength(3);
  });

  it('gives APIConnectionError for a body shorter than its Content-Length', async () => {
    const server = await tcpServer((socket) => {
      socket.end(
        `HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 500\r\n\r\n${okBody.slice(0, 40)}`,
      );
    });
    const error = await failure(client(server.baseUrl, { maxRetries: 0 }).getConversation(params));
    expect(error).toBeInstanceOf(APIConnectionError);
    expect(error.cause).toBeInstanceOf(Error);
    expect(server.requests).toHaveLength(1);
  });

  it('gives APIConnectionError for a refused connection, after retrying', async () => {
    const server = await tcpServer(() => {});
    const { baseUrl } = server;
    await server.close();
    const error = await failure(client(baseUrl, { maxRetries: 1 }).getConversation(params));
    expect(error).toBeInstanceOf(APIConnectionError);
    expect(error.message).toContain('ECONNREFUSED');
  });
});

describe('error statuses', () => {
  it('gives InternalServerError with the HTML text (cut to 1,000 chars) for a 502 page, after 3 attempts', async () => {
    const html = `<!doctype html><html><body><h1>502 Bad Gateway</h1>${'<p>upstream</p>'.repeat(200)}</body></html>`;
    const server = await httpServer((_, res) => {
      res.writeHead(502, { 'content-type': 'text/html' });
      res.end(html);
    });
    const error = await failure(client(server.baseUrl).getConversation(params));
    expect(error).toBeInstanceOf(InternalServerError);
    expect(error).toMatchObject({ status: 502, body: html.slice(0, 1_000) });
    expect(server.requests).toHaveLength(3);
  });

  it('resolves after a 503 then a 200, in 2 attempts', async () => {
    const server = await failingOnce(503, {}, { error: 'busy' });
    await expect(client(server.baseUrl).getConversation(params)).resolves.toEqual(
      makeConversation(),
    );
    expect(server.requests).toHaveLength(2);
  });

  it('throws the last error when retries run out', async () => {
    const statuses = [500, 502, 503];
    const server = await httpServer((_, res, attempt) =>
      sendJson(res, statuses[attempt] ?? 500, { attempt }),
    );
    const error = await failure(client(server.baseUrl).getConversation(params));
    expect(error).toMatchObject({ status: 503, body: { attempt: 2 } });
  });

  it.each([408, 409, 429])('retries %i', async (status) => {
    const server = await failingOnce(status, { 'retry-after-ms': '10' });
    await expect(client(server.baseUrl).getConversation(params)).resolves.toEqual(
      makeConversation(),
    );
    expect(server.requests).toHaveLength(2);
  });

  it.each([400, 401, 403, 404, 422])('does not retry %i', async (status) => {
    const server = await httpServer((_, res) => sendJson(res, status, { error: 'no' }));
    const error = await failure(client(server.baseUrl).getConversation(params));
    expect(error).toBeInstanceOf(APIError);
    expect(error).toMatchObject({ status });
    expect(server.requests).toHaveLength(1);
  });

  it('makes one attempt for a 404 and names the path', async () => {
    const server = await httpServer((_, res) =>
      sendJson(res, 404, { error: 'not found' }, { 'x-request-id': 'req_404' }),
    );
    const error = await failure(client(server.baseUrl).getConversation(params));
    expect(error).toBeInstanceOf(NotFoundError);
    expect(error).toMatchObject({ requestId: 'req_404', body: { error: 'not found' } });
    expect(error.message).toBe(
      `404 Not Found: GET ${server.baseUrl}/agents/agent_1/conversations/conv_1`,
    );
    expect(server.requests).toHaveLength(1);
  });

  it('makes one attempt for invalid JSON with a 200 and rejects with ResponseValidationError', async () => {
    const server = await httpServer((_, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"_id": "conv_1", ');
    });
    const error = await failure(client(server.baseUrl).getConversation(params));
    expect(error).toBeInstanceOf(ResponseValidationError);
    expect(error).toMatchObject({ status: 200, body: '{"_id": "conv_1", ' });
    expect(server.requests).toHaveLength(1);
  });

  it('honours the per-call maxRetries over the client’s', async () => {
    const server = await httpServer((_, res) => sendJson(res, 500, {}, { 'retry-after-ms': '1' }));
    await failure(
      client(server.baseUrl, { maxRetries: 5 }).getConversation(params, { maxRetries: 1 }),
    );
    expect(server.requests).toHaveLength(2);
  });
});

describe('Retry-After', () => {
  it('waits about 1 s for a 429 with Retry-After: 1, then resolves', async () => {
    const server = await failingOnce(429, { 'retry-after': '1' });
    const { value, seconds } = await timed(client(server.baseUrl).getConversation(params));
    expect(value).toEqual(makeConversation());
    expect(seconds).toBeGreaterThanOrEqual(0.9);
    expect(seconds).toBeLessThan(2.5);
    expect(server.requests).toHaveLength(2);
  });

  it('honours Retry-After as an HTTP date', async () => {
    const server = await httpServer((_, res, attempt) =>
      attempt === 0
        ? sendJson(res, 503, {}, { 'retry-after': new Date(Date.now() + 2_000).toUTCString() })
        : sendJson(res, 200, makeConversation()),
    );
    // An HTTP date has 1 s resolution, so the wait is between 1 and 2 s.
    const { seconds } = await timed(client(server.baseUrl).getConversation(params));
    expect(seconds).toBeGreaterThanOrEqual(0.9);
    expect(seconds).toBeLessThan(2.5);
  });

  it('does not wait 2 minutes for Retry-After: 120 but backs off instead', async () => {
    const server = await failingOnce(429, { 'retry-after': '120' });
    const { value, seconds } = await timed(client(server.baseUrl).getConversation(params));
    expect(value).toEqual(makeConversation());
    // First backoff: 0.5 s less up to 25 % jitter.
    expect(seconds).toBeGreaterThanOrEqual(0.35);
    expect(seconds).toBeLessThan(2.5);
  });

  it('gives RateLimitError when every attempt is rate limited', async () => {
    const server = await httpServer((_, res) =>
      sendJson(res, 429, { error: 'slow down' }, { 'retry-after-ms': '5' }),
    );
    const error = await failure(client(server.baseUrl).getConversation(params));
    expect(error).toBeInstanceOf(RateLimitError);
    expect(server.requests).toHaveLength(3);
  });
});

describe('timeouts', () => {
  it('gives APIConnectionTimeoutError when the server stalls before headers (timeoutMs: 200)', async () => {
    const server = await tcpServer(() => {});
    const { value: error, seconds } = await timed(
      failure(client(server.baseUrl, { timeoutMs: 200, maxRetries: 0 }).getConversation(params)),
    );
    expect(error).toBeInstanceOf(APIConnectionTimeoutError);
    expect(error.message).toBe(
      `Request timed out after 200 ms: GET ${server.baseUrl}/agents/agent_1/conversations/conv_1`,
    );
    expect(seconds).toBeGreaterThanOrEqual(0.15);
    expect(seconds).toBeLessThan(2.5);
  });

  it('gives APIConnectionTimeoutError when the server stalls mid-body (timeoutMs: 200)', async () => {
    const server = await tcpServer((socket) => {
      socket.write(
        `HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 500\r\n\r\n${okBody.slice(0, 40)}`,
      );
    });
    const { value: error, seconds } = await timed(
      failure(
        client(server.baseUrl, { maxRetries: 0 }).getConversation(params, { timeoutMs: 200 }),
      ),
    );
    expect(error).toBeInstanceOf(APIConnectionTimeoutError);
    expect(seconds).toBeLessThan(2.5);
  });

  it('retries a timeout like any connection error, each attempt with its own timeout', async () => {
    const server = await tcpServer((socket, attempt) => {
      if (attempt > 0) socket.end(okResponse);
    });
    await expect(
      client(server.baseUrl, { timeoutMs: 200 }).getConversation(params),
    ).resolves.toEqual(makeConversation());
    expect(server.requests).toHaveLength(2);
  });
});

describe('aborts', () => {
  it('rejects at once and sends nothing when the signal is already aborted', async () => {
    const server = await httpServer((_, res) => sendJson(res, 200, makeConversation()));
    const error = await failure(
      client(server.baseUrl).getConversation(params, { signal: AbortSignal.abort() }),
    );
    expect(error).toBeInstanceOf(APIUserAbortError);
    expect(server.requests).toHaveLength(0);
  });

  it('rejects at once when aborted while waiting for headers, and does not retry', async () => {
    const server = await tcpServer(() => {});
    const controller = new AbortController();
    const call = client(server.baseUrl).getConversation(params, { signal: controller.signal });
    await whenRequests(server, 1);
    const { value: error, seconds } = await timed(failure((controller.abort(), call)));
    expect(error).toBeInstanceOf(APIUserAbortError);
    expect(seconds).toBeLessThan(2); // "at once": the alternative is a 30 s wait or none at all
    expect(server.requests).toHaveLength(1);
  });

  it('rejects at once when aborted while the body is being read', async () => {
    const server = await tcpServer((socket) => {
      socket.write(
        `HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 500\r\n\r\n${okBody.slice(0, 40)}`,
      );
    });
    const controller = new AbortController();
    const call = client(server.baseUrl).getConversation(params, { signal: controller.signal });
    await whenRequests(server, 1);
    await new Promise((r) => setTimeout(r, 100)); // the headers and the first bytes are in
    const { value: error, seconds } = await timed(failure((controller.abort(), call)));
    expect(error).toBeInstanceOf(APIUserAbortError);
    expect(seconds).toBeLessThan(2); // "at once": the alternative is a 30 s wait or none at all
    expect(server.requests).toHaveLength(1);
  });

  it('rejects at once when aborted during the backoff wait, and starts no further attempt', async () => {
    const server = await httpServer((_, res) => sendJson(res, 503, {}, { 'retry-after': '30' }));
    const controller = new AbortController();
    const call = client(server.baseUrl).getConversation(params, { signal: controller.signal });
    await whenRequests(server, 1);
    await new Promise((r) => setTimeout(r, 50)); // now in the 30 s wait
    const { value: error, seconds } = await timed(failure((controller.abort(), call)));
    expect(error).toBeInstanceOf(APIUserAbortError);
    expect(seconds).toBeLessThan(2); // "at once": the alternative is a 30 s wait or none at all
    await new Promise((r) => setTimeout(r, 100));
    expect(server.requests).toHaveLength(1);
  });
});

describe('redirects', () => {
  it('does not follow a 302 to another origin: the other origin never sees a request or the key', async () => {
    const other = await httpServer((_, res) => sendJson(res, 200, makeConversation()));
    const server = await httpServer((_, res) => {
      res.writeHead(302, { location: `${other.baseUrl}/steal` });
      res.end();
    });
    const error = await failure(client(server.baseUrl).getConversation(params));
    expect(error).toBeInstanceOf(APIError);
    expect(error.constructor).toBe(APIError);
    expect(error).toMatchObject({ status: 302 });
    expect(server.requests).toHaveLength(1);
    expect(server.requests[0]?.headers.authorization).toBe(apiKey);
    expect(other.requests).toHaveLength(0);
  });
});
