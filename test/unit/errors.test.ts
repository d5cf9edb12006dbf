import { describe, expect, it } from 'vitest';
import * as api from '../../src/index.js';
import {
  APIConnectionError,
  APIConnectionTimeoutError,
  APIError,
  APIUserAbortError,
  ChatDashError,
  CircuitOpenError,
  createChatDashClient,
  InternalServerError,
  NotFoundError,
  ResponseValidationError,
} from '../../src/index.js';
import { fakeFetch, json } from '../helpers/fake-fetch.js';
import { STATUS_CLASSES } from '../helpers/statuses.js';

function clientAnswering(response: () => Response | Promise<Response>) {
  const fake = fakeFetch(response);
  const chatdash = createChatDashClient({ apiKey: 'k', fetch: fake.fetch, maxRetries: 0 });
  return { ...fake, chatdash };
}

const params = { agentId: 'a1', conversationId: 'c1' };
const url = 'https://api.chat-dash.com/v1/public/agents/a1/conversations/c1';

describe('the status -> error class mapping', () => {
  it.each(STATUS_CLASSES)('rejects %i with %o', async (status, Class, reason) => {
    const { chatdash } = clientAnswering(() =>
      json(
        status,
        { error: 'nope' },
        { 'x-request-id': 'req_1', location: 'https://elsewhere.example/' },
      ),
    );
    const error = (await chatdash.getConversation(params).catch((e: unknown) => e)) as APIError;
    expect(error).toBeInstanceOf(Class);
    expect(error).toBeInstanceOf(APIError);
    expect(error).toBeInstanceOf(ChatDashError);
    expect(error.constructor).toBe(Class);
    expect(error.name).toBe(Class.name);
    expect(error.status).toBe(status);
    expect(error.headers).toBeInstanceOf(Headers);
    expect(error.body).toEqual({ error: 'nope' });
    expect(error.requestId).toBe('req_1');
    expect(error.message).toBe(`${status} ${reason}: GET ${url}`);
    expect(error.url).toBe(url);
  });

  it('uses the server’s reason phrase when there is one', async () => {
    const { chatdash } = clientAnswering(
      () => new Response('{}', { status: 404, statusText: 'No Such Conversation' }),
    );
    await expect(chatdash.getConversation(params)).rejects.toThrow(
      '404 No Such Conversation: GET https://api.chat-dash.com/v1/public/agents/a1/conversations/c1',
    );
  });

  it('keeps a non-JSON error body as text cut to 1,000 characters', async () => {
    const html = `<html>${'x'.repeat(5_000)}</html>`;
    const { chatdash } = clientAnswering(
      () => new Response(html, { status: 500, headers: { 'content-type': 'text/html' } }),
    );
    const error = (await chatdash.getConversation(params).catch((e: unknown) => e)) as APIError;
    expect(error.body).toBe(html.slice(0, 1_000));
    expect(error.requestId).toBeUndefined();
  });

  it('names the real path, ids encoded and query included, in the message and as url', async () => {
    const { chatdash } = clientAnswering(() => json(404, {}));
    const real =
      'https://api.chat-dash.com/v1/public/agents/a%201/conversations/c%2F1?isPlatformId=true';
    const error = (await chatdash
      .getConversation({ agentId: 'a 1', conversationId: 'c/1', isPlatformId: true })
      .catch((e: unknown) => e)) as NotFoundError;
    expect(error.message).toBe(`404 Not Found: GET ${real}`);
    expect(error.url).toBe(real);
  });

  it('tells a wrong baseUrl path apart from a missing conversation: the host and path are in the message', async () => {
    const { fetch } = fakeFetch(() => json(404, { error: 'no route' }));
    const error = (await createChatDashClient({
      apiKey: 'k',
      fetch,
      baseUrl: 'https://api.chat-dash.com/v2/publik',
    })
      .getConversation(params)
      .catch((e: unknown) => e)) as Error;
    expect(error.message).toContain('https://api.chat-dash.com/v2/publik/agents/');
  });
});

describe('2xx bodies that are not a conversation', () => {
  it.each([
    ['invalid JSON', '{"_id": ', 'is not valid JSON'],
    ['an empty body', '', 'is empty'],
    ['a JSON array', '[1,2]', 'must be a JSON object, got array'],
    ['JSON null', 'null', 'got null'],
    ['a JSON string', '"conv"', 'got string'],
  ])('rejects %s with ResponseValidationError', async (_, text, message) => {
    const { chatdash } = clientAnswering(
      () =>
        new Response(text, {
          status: 200,
          headers: { 'content-type': 'application/json', 'x-request-id': 'r9' },
        }),
    );
    const error = (await chatdash
      .getConversation(params)
      .catch((e: unknown) => e)) as ResponseValidationError;
    expect(error).toBeInstanceOf(ResponseValidationError);
    expect(error.name).toBe('ResponseValidationError');
    expect(error.status).toBe(200);
    expect(error.requestId).toBe('r9');
    expect(error.issues).toEqual([{ path: '', message: expect.stringContaining(message) }]);
  });
});

describe('the error classes', () => {
  const exported = Object.entries(api).filter(
    ([, value]) => typeof value === 'function' && value.prototype instanceof Error,
  );

  it('exports every error class with name equal to its export name, on the class and its instances', () => {
    expect(exported.length).toBe(15);
    for (const [name, Class] of exported) {
      expect((Class as { name: string }).name).toBe(name);
      const C = Class as new (...args: unknown[]) => Error;
      const args =
        C.prototype instanceof APIError || C === APIError
          ? [404, new Headers(), null, 'm']
          : name === 'ResponseValidationError'
            ? [[], null, 200, new Headers(), { url: 'https://x/', attempts: [] }]
            : name === 'CircuitOpenError'
              ? ['m', { retryAfterMs: 5 }]
              : ['m'];
      const error = new C(...args);
      expect(error.name).toBe(name);
      expect(error).toBeInstanceOf(ChatDashError);
      expect(error).toBeInstanceOf(Error);
    }
  });

  it('recognises an error by its brand, even when it comes from another copy of the package', () => {
    // A stand-in for the CJS copy's NotFoundError: another class, the same brand.
    const other = Object.create(null) as Record<symbol, unknown>;
    other[Symbol.for('chatdash-client.error.kinds')] = [
      'ChatDashError',
      'APIError',
      'NotFoundError',
    ];
    expect(other).toBeInstanceOf(NotFoundError);
    expect(other).toBeInstanceOf(APIError);
    expect(other).toBeInstanceOf(ChatDashError);
    expect(other).not.toBeInstanceOf(InternalServerError);
    expect(other).not.toBeInstanceOf(APIConnectionError);
  });

  it('keeps the class hierarchy for instanceof', () => {
    const timeout = new APIConnectionTimeoutError('t');
    expect(timeout).toBeInstanceOf(APIConnectionTimeoutError);
    expect(timeout).toBeInstanceOf(APIConnectionError);
    expect(timeout).toBeInstanceOf(ChatDashError);
    expect(timeout).toBeInstanceOf(Error);
    expect(timeout).not.toBeInstanceOf(APIError);
    expect(new APIUserAbortError('a')).not.toBeInstanceOf(APIConnectionError);
    expect({}).not.toBeInstanceOf(ChatDashError);
    expect(null).not.toBeInstanceOf(ChatDashError);
    class Mine extends NotFoundError {}
    const mine = new Mine(404, new Headers(), null, 'm');
    expect(mine).toBeInstanceOf(Mine);
    expect(mine).toBeInstanceOf(NotFoundError);
    expect(new NotFoundError(404, new Headers(), null, 'n')).not.toBeInstanceOf(Mine);
  });

  it('names the real path, not the template, when the signal was aborted before anything was sent', async () => {
    const { fetch, calls } = fakeFetch();
    const error = (await createChatDashClient({ apiKey: 'k', fetch })
      .getConversation(
        { agentId: 'a 1', conversationId: 'c/1', isPlatformId: true },
        { signal: AbortSignal.abort() },
      )
      .catch((e: unknown) => e)) as APIUserAbortError;
    const real =
      'https://api.chat-dash.com/v1/public/agents/a%201/conversations/c%2F1?isPlatformId=true';
    expect(error).toBeInstanceOf(APIUserAbortError);
    expect(error.message).toBe(`Request was aborted: GET ${real}`);
    expect(error.url).toBe(real);
    expect(error.attempts).toEqual([]);
    expect(calls).toHaveLength(0);
  });

  it('gives CircuitOpenError its name, its retryAfterMs in JSON, and no APIError or connection-error kind', () => {
    const error = new CircuitOpenError('open', { url: 'https://x/', retryAfterMs: 1_234 });
    expect(error).toBeInstanceOf(ChatDashError);
    expect(error).toBeInstanceOf(Error);
    expect(error).not.toBeInstanceOf(APIError);
    expect(error).not.toBeInstanceOf(APIConnectionError);
    expect(error.name).toBe('CircuitOpenError');
    expect(CircuitOpenError.name).toBe('CircuitOpenError');
    expect(error.retryAfterMs).toBe(1_234);
    expect(JSON.parse(JSON.stringify(error))).toMatchObject({
      name: 'CircuitOpenError',
      url: 'https://x/',
      retryAfterMs: 1_234,
      attempts: [],
    });
  });

  it('turns a failing fetch into APIConnectionError with a sanitized copy of the original as cause', async () => {
    const boom = new TypeError('fetch failed', {
      cause: Object.assign(new Error('connect'), { code: 'ECONNREFUSED' }),
    });
    const fake = fakeFetch(() => Promise.reject(boom));
    const chatdash = createChatDashClient({ apiKey: 'k', fetch: fake.fetch, maxRetries: 0 });
    const error = (await chatdash
      .getConversation(params)
      .catch((e: unknown) => e)) as APIConnectionError;
    expect(error).toBeInstanceOf(APIConnectionError);
    expect(error).not.toBeInstanceOf(TypeError);
    // A copy, not the original: a custom fetch's error may quote the key, and
    // the original's properties and causes cannot be redacted in place.
    expect(error.cause).not.toBe(boom);
    expect(error.cause).toMatchObject({
      name: 'TypeError',
      message: 'fetch failed',
      cause: { message: 'connect', code: 'ECONNREFUSED' },
    });
    expect(error.message).toBe(`Connection error: GET ${url}: ECONNREFUSED`);
    expect(error.url).toBe(url);
  });

  it('quotes what fetch said in a connection error when it gives no error code', async () => {
    const { chatdash } = clientAnswering(() => Promise.reject(new TypeError('fetch failed')));
    const error = (await chatdash
      .getConversation(params)
      .catch((e: unknown) => e)) as APIConnectionError;
    expect(error.message).toBe(`Connection error: GET ${url}: fetch failed`);
    expect(error.url).toBe(url);
  });
});
