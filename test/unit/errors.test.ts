import { inspect } from 'node:util';
import { describe, expect, it, vi } from 'vitest';
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

type ErrorClass = new (...args: never[]) => Error;

describe('the error classes', () => {
  const exported = Object.entries(api as Record<string, unknown>).filter(
    (entry): entry is [string, ErrorClass] =>
      typeof entry[1] === 'function' && entry[1].prototype instanceof Error,
  );

  /**
   * An instance of `Class`, the class exported as `name` (or one extending it),
   * made with arguments its constructor takes: chosen by name, so that a class
   * from another copy of the package gets the same arguments.
   */
  function make(name: string, Class: ErrorClass): Error {
    const C = Class as new (...args: unknown[]) => Error;
    if (isAPIError(name)) return new C(404, new Headers(), null, 'm');
    if (name === 'ResponseValidationError')
      return new C([], null, 200, new Headers(), { url: 'https://x/', attempts: [] });
    if (name === 'CircuitOpenError') return new C('m', { retryAfterMs: 5 });
    return new C('m');
  }

  function isAPIError(name: string): boolean {
    const Class = Object.fromEntries(exported)[name];
    return Class === APIError || Class?.prototype instanceof APIError;
  }

  /** The own enumerable fields after `name`, as util.inspect prints them. */
  function fieldsOf(name: string): string[] {
    const headers = `headers: ${inspect(new Headers())}`;
    if (isAPIError(name))
      return [
        'url: undefined',
        'attempts: []',
        'status: 404',
        headers,
        'body: null',
        'requestId: undefined',
      ];
    if (name === 'ResponseValidationError')
      return [
        "url: 'https://x/'",
        'attempts: []',
        'issues: []',
        'body: null',
        'status: 200',
        headers,
        'requestId: undefined',
      ];
    if (name === 'CircuitOpenError') return ['url: undefined', 'attempts: []', 'retryAfterMs: 5'];
    return ['url: undefined', 'attempts: []'];
  }

  /** util.inspect's text without the stack frames, which name this file's lines. */
  const inspected = (error: Error) => inspect(error).replace(/\n {4}at .*?(?=( \{)?$)/gm, '');

  it('exports every error class with name equal to its export name, on the class and its instances', () => {
    expect(exported.length).toBe(15);
    for (const [name, Class] of exported) {
      expect(Class.name).toBe(name);
      const error = make(name, Class);
      expect(error.name).toBe(name);
      expect(error).toBeInstanceOf(ChatDashError);
      expect(error).toBeInstanceOf(Error);
    }
  });

  it.each(exported)(
    'gives a %s its name as its first own enumerable key, in its stack and in util.inspect',
    (name, Class) => {
      const error = make(name, Class);
      const fields = fieldsOf(name);
      expect(Object.getOwnPropertyDescriptor(error, 'name')).toEqual({
        value: name,
        writable: true,
        enumerable: true,
        configurable: true,
      });
      expect(Object.keys(error)).toEqual([
        'name',
        ...fields.map((f) => f.slice(0, f.indexOf(':'))),
      ]);
      expect({ ...error }.name).toBe(name);
      expect(error.stack?.split('\n')[0]).toBe(`${name}: ${error.message}`);
      // util.inspect leaves out a name the stack already shows.
      expect(inspected(error)).toBe(`${name}: ${error.message} {\n  ${fields.join(',\n  ')}\n}`);
    },
  );

  it.each(exported)(
    'gives a user’s subclass of %s its parent’s name, or the name it declares',
    (name, Class) => {
      class Mine extends Class {}
      class Declared extends Class {
        override name = 'Declared';
      }
      class Assigned extends Class {
        constructor(...args: never[]) {
          super(...args);
          this.name = 'Assigned';
        }
      }
      const mine = make(name, Mine);
      expect(Mine.name).toBe('Mine');
      expect(mine.name).toBe(name);
      expect(mine.stack?.split('\n')[0]).toBe(`${name}: ${mine.message}`);
      expect(mine).toBeInstanceOf(Class);
      expect(mine).toBeInstanceOf(Mine);
      expect(make(name, Class)).not.toBeInstanceOf(Mine);
      for (const [Sub, own] of [
        [Declared, 'Declared'],
        [Assigned, 'Assigned'],
      ] as const) {
        const error = make(name, Sub);
        expect(error.name).toBe(own);
        expect(error.stack?.split('\n')[0]).toBe(`${own}: ${error.message}`);
        expect(Object.keys(error)).toEqual(Object.keys(mine));
        expect(error).toBeInstanceOf(Class);
      }
    },
  );

  it('recognises every class’s errors from a second loaded copy of the package, both ways', async () => {
    vi.resetModules();
    const copy = (await import('../../src/index.js')) as unknown as Record<string, ErrorClass>;
    const own = Object.fromEntries(exported);
    expect(copy['NotFoundError']).not.toBe(NotFoundError);
    const mismatches: string[] = [];
    for (const [name] of exported) {
      const [ours, theirs] = [make(name, own[name]!), make(name, copy[name]!)];
      expect(theirs.name).toBe(name);
      for (const [other] of exported) {
        const expected = ours instanceof own[other]!;
        if (theirs instanceof own[other]! !== expected)
          mismatches.push(`their ${name}, our ${other}`);
        if (ours instanceof copy[other]! !== expected)
          mismatches.push(`our ${name}, their ${other}`);
      }
    }
    expect(mismatches).toEqual([]);
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
