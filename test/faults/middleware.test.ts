/**
 * openapi-fetch middleware on a real server: run on every attempt, able to
 * answer instead of the server or to replace its answer, and held to the same
 * bounds, validation, typed errors and secrecy as the server itself.
 */
import { makeConversation } from '../../src/testing.js';
import { inspect } from 'node:util';
import type { Middleware } from 'openapi-fetch';
import { describe, expect, it, vi } from 'vitest';
import {
  APIConnectionError,
  ChatDashError,
  createChatDashClient,
  NotFoundError,
  ResponseValidationError,
  transport,
  type ChatDashClientOptions,
} from '../helpers/transport.js';
import { failingOnce, httpServer, sendJson } from '../helpers/servers.js';
import { failure } from '../helpers/settle.js';

const apiKey = 'ck_middleware_fault_key';
const params = { agentId: 'agent_1', conversationId: 'conv_1' };
// A 500 retried at once: `retry-after-ms: 0` asks for no wait and pauses nothing.
const retryNow = { 'retry-after-ms': '0' };

function client(baseUrl: string, options: ChatDashClientOptions = {}) {
  return createChatDashClient({ apiKey, baseUrl, ...options });
}

function jsonResponse(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json' },
  });
}

/** A base URL where nothing listens: connections are refused. */
async function refusedUrl(): Promise<string> {
  const server = await httpServer(() => {});
  await server.close();
  return server.baseUrl;
}

describe(`middleware (${transport})`, () => {
  it('runs on every attempt: a retry is seen by onRequest and onResponse twice', async () => {
    const server = await failingOnce(500, retryNow);
    const onRequest = vi.fn<NonNullable<Middleware['onRequest']>>();
    const statuses: number[] = [];
    const middleware: Middleware = {
      onRequest,
      onResponse: ({ response }) => void statuses.push(response.status),
    };
    const value = await client(server.baseUrl, { middleware: [middleware] }).getConversation(
      params,
    );
    expect(value).toEqual(makeConversation());
    expect(server.requests).toHaveLength(2);
    expect(onRequest).toHaveBeenCalledTimes(2);
    expect(statuses).toEqual([500, 200]);
  });

  it('sends the Request an onRequest returns: the server sees its header, and the key as before', async () => {
    const server = await httpServer((_req, res) => sendJson(res, 200, makeConversation()));
    const middleware: Middleware = {
      onRequest: ({ request }) => {
        const headers = new Headers(request.headers);
        headers.set('x-tenant', 'tenant_7');
        return new Request(request, { headers });
      },
    };
    await client(server.baseUrl, { middleware: [middleware] }).getConversation(params);
    expect(server.requests).toHaveLength(1);
    expect(server.requests[0]?.headers['x-tenant']).toBe('tenant_7');
    expect(server.requests[0]?.headers['authorization']).toBe(apiKey);
    expect(server.requests[0]?.url).toBe('/agents/agent_1/conversations/conv_1');
  });

  it('uses a Response an onRequest returns as the answer: nothing is sent', async () => {
    const server = await httpServer((_req, res) => sendJson(res, 500, {}));
    const cached = { ...makeConversation(), name: 'from cache' };
    const middleware: Middleware = { onRequest: () => jsonResponse(200, cached) };
    const value = await client(server.baseUrl, { middleware: [middleware] }).getConversation(
      params,
    );
    expect(value).toEqual(cached);
    expect(server.requests).toHaveLength(0);
  });

  it('uses a Response an onResponse returns: a 500 replaced by a 200 is the value, not retried', async () => {
    const server = await httpServer((_req, res) => sendJson(res, 500, {}, retryNow));
    const middleware: Middleware = {
      onResponse: ({ response }) =>
        response.status === 500 ? jsonResponse(200, makeConversation()) : undefined,
    };
    const value = await client(server.baseUrl, { middleware: [middleware] }).getConversation(
      params,
    );
    expect(value).toEqual(makeConversation());
    expect(server.requests).toHaveLength(1);
  });

  it('changes nothing when an onResponse returns the response it was given', async () => {
    const server = await httpServer((_req, res) => sendJson(res, 200, makeConversation()));
    const middleware: Middleware = { onResponse: ({ response }) => response };
    const value = await client(server.baseUrl, { middleware: [middleware] }).getConversation(
      params,
    );
    expect(value).toEqual(makeConversation());
  });

  it('holds a replacement body to maxResponseBytes', async () => {
    const server = await httpServer((_req, res) => sendJson(res, 200, makeConversation()));
    const middleware: Middleware = {
      onResponse: () => jsonResponse(200, { ...makeConversation(), note: 'x'.repeat(5_000) }),
    };
    const error = await failure(
      client(server.baseUrl, { middleware: [middleware], maxResponseBytes: 1_000 }).getConversation(
        params,
      ),
    );
    expect(error).toBeInstanceOf(ResponseValidationError);
    expect((error as ResponseValidationError).issues).toEqual([
      { path: '', message: 'is larger than maxResponseBytes (1000 bytes)' },
    ]);
  });

  it('refuses a replacement body that is not JSON', async () => {
    const server = await httpServer((_req, res) => sendJson(res, 200, makeConversation()));
    const middleware: Middleware = {
      onResponse: () => new Response('{"_id": "conv_1",', { status: 200 }),
    };
    const error = await failure(
      client(server.baseUrl, { middleware: [middleware] }).getConversation(params),
    );
    expect(error).toBeInstanceOf(ResponseValidationError);
    expect((error as ResponseValidationError).issues[0]?.message).toBe('is not valid JSON');
  });

  it('gives the typed error for a replacement status: a 200 replaced by a 404 is NotFoundError', async () => {
    const server = await httpServer((_req, res) => sendJson(res, 200, makeConversation()));
    const middleware: Middleware = {
      onResponse: () => jsonResponse(404, { error: 'hidden by middleware' }),
    };
    const error = await failure(
      client(server.baseUrl, { middleware: [middleware] }).getConversation(params),
    );
    expect(error).toBeInstanceOf(NotFoundError);
    expect((error as NotFoundError).body).toEqual({ error: 'hidden by middleware' });
    expect(server.requests).toHaveLength(1);
  });

  it('validates a body a middleware supplies when validateResponses is true', async () => {
    const server = await httpServer((_req, res) => sendJson(res, 200, makeConversation()));
    const middleware: Middleware = {
      onRequest: () => jsonResponse(200, { ...makeConversation(), status: 'closed' }),
    };
    const error = await failure(
      client(server.baseUrl, { middleware: [middleware], validateResponses: true }).getConversation(
        params,
      ),
    );
    expect(error).toBeInstanceOf(ResponseValidationError);
    expect((error as ResponseValidationError).issues.map((i) => i.path)).toEqual(['/status']);
    expect(server.requests).toHaveLength(0);
  });

  it('shows onError the transport error of each attempt (a refused connection)', async () => {
    const seen: unknown[] = [];
    const middleware: Middleware = { onError: ({ error }) => void seen.push(error) };
    const error = await failure(
      client(await refusedUrl(), { middleware: [middleware], maxRetries: 1 }).getConversation(
        params,
      ),
    );
    expect(error).toBeInstanceOf(APIConnectionError);
    expect(error.message).toContain('ECONNREFUSED');
    expect(seen).toHaveLength(2);
    for (const e of seen) {
      expect(e).toBeInstanceOf(Error);
      expect((e as { cause?: { code?: string } }).cause?.code).toBe('ECONNREFUSED');
    }
  });

  it('uses a Response onError returns as the answer', async () => {
    const middleware: Middleware = { onError: () => jsonResponse(200, makeConversation()) };
    const value = await client(await refusedUrl(), { middleware: [middleware] }).getConversation(
      params,
    );
    expect(value).toEqual(makeConversation());
  });

  it('replaces the error with an Error onError returns: still APIConnectionError, its cause a sanitized copy', async () => {
    const replacement = Object.assign(new Error(`upstream down (key ${apiKey})`), {
      key: apiKey,
    });
    const middleware: Middleware = { onError: () => replacement };
    const error = await failure(
      client(await refusedUrl(), { middleware: [middleware], maxRetries: 0 }).getConversation(
        params,
      ),
    );
    expect(error).toBeInstanceOf(APIConnectionError);
    expect(error.message).toContain('upstream down (key [redacted])');
    expect(error.cause).not.toBe(replacement);
    expect((error.cause as Error).message).toBe('upstream down (key [redacted])');
    expect(everythingShown(error)).not.toContain(apiKey);
  });

  it('rejects at once with APIConnectionError for what a middleware throws, not retried, the key in no view', async () => {
    const server = await httpServer((_req, res) => sendJson(res, 500, {}, retryNow));
    const thrown = Object.assign(new Error(`middleware broke with ${apiKey}`), {
      config: { headers: { authorization: apiKey } },
    });
    const middleware: Middleware = {
      onResponse: () => {
        throw thrown;
      },
    };
    const error = await failure(
      client(server.baseUrl, { middleware: [middleware] }).getConversation(params),
    );
    expect(error).toBeInstanceOf(APIConnectionError);
    expect(error.message).toMatch(/^Middleware onResponse failed: GET http:\/\/127\.0\.0\.1:\d+\//);
    expect(server.requests).toHaveLength(1);
    expect(error.cause).not.toBe(thrown);
    const shown = everythingShown(error);
    expect(shown).toContain('middleware broke with [redacted]');
    expect(shown).not.toContain(apiKey);
  });

  it('refuses bad middleware at creation, naming middleware[i] and sending nothing', async () => {
    const server = await httpServer((_req, res) => sendJson(res, 200, makeConversation()));
    const bad: [unknown, RegExp][] = [
      [{ onRequest: () => undefined }, /must be an array, got/],
      [
        [{ onRequest: () => undefined }, { onRequest: 'nope' }],
        /middleware\[1\] must be an object/,
      ],
      [[{}], /middleware\[0\] must be an object with onRequest, onResponse or onError/],
      [[null], /middleware\[0\] must be an object/],
    ];
    for (const [middleware, message] of bad) {
      expect(() => client(server.baseUrl, { middleware: middleware as Middleware[] })).toThrowError(
        message,
      );
      expect(() => client(server.baseUrl, { middleware: middleware as Middleware[] })).toThrow(
        ChatDashError,
      );
    }
    expect(server.requests).toHaveLength(0);
  });
});

/** Every view of an error and its cause chain, as a caller might log it. */
function everythingShown(error: Error): string {
  const parts = [inspect(error, { showHidden: true, depth: 10 }), JSON.stringify(error)];
  for (let e: unknown = error; e instanceof Error; e = e.cause)
    parts.push(String(e), e.message, e.stack ?? '', JSON.stringify(e));
  return parts.join('\n');
}
