import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ChatDashError, createChatDashClient } from '../../src/index.js';
import { fakeFetch, json } from '../helpers/fake-fetch.js';

// Made up for this test; no real key appears in this repository.
const KEY = 'ck_secret_9f8e7d6c5b4a';
const params = { agentId: 'a', conversationId: 'c' };

/** Everything a log line or error report could show of a value. */
function everythingShown(value: unknown): string {
  const parts = [inspect(value, { depth: 10, showHidden: true }), JSON.stringify(value) ?? ''];
  let error: unknown = value;
  while (error instanceof Error) {
    parts.push(error.message, error.stack ?? '', String(error));
    error = error.cause;
  }
  return parts.join('\n');
}

describe('the API key', () => {
  it('does not show in util.inspect(client) or JSON.stringify(client)', () => {
    const client = createChatDashClient({ apiKey: KEY, headers: { 'X-Team': 'billing' } });
    expect(inspect(client, { depth: 10, showHidden: true })).not.toContain(KEY);
    expect(JSON.stringify(client)).not.toContain(KEY);
    expect(Object.values(client).join(' ')).not.toContain(KEY);
  });

  it.each([401, 404, 422, 500, 302])(
    'does not show in a %i error that echoes it, nor in its stack, cause, headers or JSON',
    async (status) => {
      // A server that echoes the key back in its body and headers is the worst case.
      const fake = fakeFetch((call) => {
        const key = call.headers.get('authorization') ?? '';
        return json(
          status,
          { error: `invalid key ${key}`, details: [{ [key]: key }] },
          { 'x-request-id': 'r1', 'x-echo': key },
        );
      });
      const client = createChatDashClient({ apiKey: KEY, fetch: fake.fetch, maxRetries: 0 });
      const error = await client.getConversation(params).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ChatDashError);
      expect(everythingShown(error)).not.toContain(KEY);
      expect(JSON.stringify((error as { body: unknown }).body)).toContain('[redacted]');
      expect((error as { headers: Headers }).headers.get('x-echo')).toBe('[redacted]');
    },
  );

  it('does not show in a ResponseValidationError for a 2xx body that echoes it', async () => {
    const fake = fakeFetch((call) =>
      json(200, { _id: 1, note: call.headers.get('authorization') }),
    );
    const client = createChatDashClient({
      apiKey: KEY,
      fetch: fake.fetch,
      validateResponses: true,
    });
    const error = await client.getConversation(params).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'ResponseValidationError', issues: [{ path: '/_id' }] });
    expect(everythingShown(error)).not.toContain(KEY);
  });

  it('is redacted by value from a connection error that quotes it', async () => {
    const fake = fakeFetch((call) =>
      Promise.reject(new TypeError(`proxy refused header ${call.headers.get('authorization')}`)),
    );
    const client = createChatDashClient({ apiKey: KEY, fetch: fake.fetch, maxRetries: 0 });
    const error = (await client.getConversation(params).catch((e: unknown) => e)) as Error;
    expect(error.message).toContain('[redacted]');
    expect(error.message).not.toContain(KEY);
    expect(error.stack).not.toContain(KEY);
  });

  it('does not show in input or option errors', async () => {
    const client = createChatDashClient({ apiKey: KEY });
    const error = await client
      .getConversation({ agentId: '..', conversationId: 'c' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ChatDashError);
    expect(everythingShown(error)).not.toContain(KEY);
    expect(() => createChatDashClient({ apiKey: `${KEY}\n` })).toThrow(ChatDashError);
    try {
      createChatDashClient({ apiKey: `${KEY}\n` });
    } catch (e) {
      expect(everythingShown(e)).not.toContain(KEY);
    }
  });

  // A custom fetch (an axios adapter, a proxy wrapper) may quote the request anywhere.
  it.each([
    ['its message', () => new Error(`request failed with Authorization: ${KEY}`)],
    [
      'a property (config.headers.authorization)',
      () =>
        Object.assign(new Error('Request failed'), {
          config: { url: 'https://x', headers: { authorization: KEY, accept: 'application/json' } },
          [KEY]: 'a key named after the key',
        }),
    ],
    [
      'a nested cause',
      () =>
        new Error('outer', {
          cause: new TypeError('middle', {
            cause: Object.assign(new Error(`inner ${KEY}`), { code: 'ECONNRESET', header: KEY }),
          }),
        }),
    ],
    ['a thrown plain object', () => ({ message: 'not an Error', headers: { authorization: KEY } })],
    ['a thrown string', () => `failed: ${KEY}`],
  ])('is in no view of an error whose custom fetch threw the key in %s', async (_, thrown) => {
    const client = createChatDashClient({
      apiKey: KEY,
      fetch: () => Promise.reject(thrown()),
      maxRetries: 0,
    });
    const error = await client.getConversation(params).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'APIConnectionError' });
    expect((error as Error).cause).toBeDefined();
    expect(everythingShown(error)).not.toContain(KEY);
    expect(everythingShown(error)).not.toContain(KEY.slice(0, 12));
  });

  it('keeps what a sanitized cause says besides the key (name, code, nested causes)', async () => {
    const thrown = new TypeError(`fetch failed for ${KEY}`, {
      cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }),
    });
    const client = createChatDashClient({
      apiKey: KEY,
      fetch: () => Promise.reject(thrown),
      maxRetries: 0,
    });
    const error = (await client.getConversation(params).catch((e: unknown) => e)) as Error;
    expect(error.cause).toMatchObject({
      name: 'TypeError',
      message: 'fetch failed for [redacted]',
      cause: { code: 'ECONNREFUSED', message: 'connect ECONNREFUSED' },
    });
  });

  it('survives a custom fetch error with a cycle and a throwing getter', async () => {
    const thrown = new Error(`cyclic ${KEY}`) as Error & { self?: unknown };
    thrown.self = thrown;
    Object.defineProperty(thrown, 'boom', {
      enumerable: true,
      get() {
        throw new Error(KEY);
      },
    });
    const client = createChatDashClient({
      apiKey: KEY,
      fetch: () => Promise.reject(thrown),
      maxRetries: 0,
    });
    const error = await client.getConversation(params).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'APIConnectionError' });
    expect(everythingShown(error)).not.toContain(KEY);
  });

  it('is in no view of the abort error when the abort reason quotes it', async () => {
    const client = createChatDashClient({ apiKey: KEY, fetch: () => new Promise(() => {}) });
    const error = await client
      .getConversation(params, { signal: AbortSignal.abort(new Error(`aborted ${KEY}`)) })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'APIUserAbortError' });
    expect(everythingShown(error)).not.toContain(KEY);
  });
});
