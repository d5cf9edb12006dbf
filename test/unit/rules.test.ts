/**
 * DESIGN.md section 8's rules that need no server: number rules that state
 * themselves, bound methods, duck-typed signals, class names and brands,
 * the URL on every error. An injected fetch stands in for the network.
 */
import { describe, expect, it } from 'vitest';
import * as chatdash from '../../src/index.js';
import {
  APIConnectionError,
  APIConnectionTimeoutError,
  APIError,
  APIUserAbortError,
  ChatDashError,
  createChatDashClient,
  InternalServerError,
  NotFoundError,
} from '../../src/index.js';
import { fakeFetch, json } from '../helpers/fake-fetch.js';

const apiKey = 'ck_rules_test_key';
const params = { agentId: 'a 1', conversationId: 'c/1' };
const realPath = 'https://api.chat-dash.com/v1/public/agents/a%201/conversations/c%2F1';

function thrown(run: () => unknown): Error {
  try {
    run();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a throw');
}

describe('number rules', () => {
  it.each([
    [
      'timeoutMs',
      1e12,
      'createChatDashClient: timeoutMs must be an integer from 1 to 2147483647, got number 1000000000000',
    ],
    [
      'timeoutMs',
      '5000',
      'createChatDashClient: timeoutMs must be an integer from 1 to 2147483647, got string "5000"',
    ],
    [
      'timeoutMs',
      2 ** 31,
      'createChatDashClient: timeoutMs must be an integer from 1 to 2147483647, got number 2147483648',
    ],
    [
      'timeoutMs',
      1.5,
      'createChatDashClient: timeoutMs must be an integer from 1 to 2147483647, got number 1.5',
    ],
    [
      'maxRetries',
      1e9,
      'createChatDashClient: maxRetries must be an integer from 0 to 10, got number 1000000000',
    ],
    [
      'maxRetries',
      11,
      'createChatDashClient: maxRetries must be an integer from 0 to 10, got number 11',
    ],
    [
      'maxRetries',
      null,
      'createChatDashClient: maxRetries must be an integer from 0 to 10, got null',
    ],
    [
      'maxResponseBytes',
      0,
      'createChatDashClient: maxResponseBytes must be an integer from 1 to 2147483647, got number 0',
    ],
    [
      'maxResponseBytes',
      2 ** 31,
      'createChatDashClient: maxResponseBytes must be an integer from 1 to 2147483647, got number 2147483648',
    ],
    [
      'deadlineMs',
      -1,
      'createChatDashClient: deadlineMs must be an integer from 1 to 2147483647, got number -1',
    ],
  ])('createChatDashClient states the rule for %s = %j and what it got', (name, value, message) => {
    const error = thrown(() => createChatDashClient({ apiKey, [name]: value }));
    expect(error).toBeInstanceOf(ChatDashError);
    expect(error.message).toBe(message);
  });

  it('accepts the bounds themselves', () => {
    const client = createChatDashClient({
      apiKey,
      timeoutMs: 2 ** 31 - 1,
      maxRetries: 10,
      maxResponseBytes: 1,
    });
    expect(client.timeoutMs).toBe(2 ** 31 - 1);
    expect(client.maxRetries).toBe(10);
    expect(createChatDashClient({ apiKey, timeoutMs: 1, maxRetries: 0 }).maxRetries).toBe(0);
  });

  it.each([
    [
      'timeoutMs',
      '5000',
      'getConversation: timeoutMs must be an integer from 1 to 2147483647, got string "5000"',
    ],
    [
      'maxRetries',
      1e9,
      'getConversation: maxRetries must be an integer from 0 to 10, got number 1000000000',
    ],
    [
      'maxResponseBytes',
      1.5,
      'getConversation: maxResponseBytes must be an integer from 1 to 2147483647, got number 1.5',
    ],
    [
      'deadlineMs',
      0,
      'getConversation: deadlineMs must be an integer from 1 to 2147483647, got number 0',
    ],
  ])(
    'getConversation states the rule for a per-call %s = %j, and sends nothing',
    async (name, value, message) => {
      const { fetch, calls } = fakeFetch();
      const client = createChatDashClient({ apiKey, fetch });
      await expect(client.getConversation(params, { [name]: value })).rejects.toThrow(message);
      expect(calls).toHaveLength(0);
    },
  );

  it('checks validateResponses, logLevel and retryBudget by name', () => {
    expect(
      thrown(() => createChatDashClient({ apiKey, validateResponses: 'yes' as never })).message,
    ).toBe(
      'createChatDashClient: validateResponses must be true, false or \'report\', got string "yes"',
    );
    expect(
      thrown(() => createChatDashClient({ apiKey, logLevel: 'verbose' as never })).message,
    ).toBe(
      "createChatDashClient: logLevel (CHATDASH_LOG) must be one of 'off', 'error', 'warn', 'info', 'debug', got string \"verbose\"",
    );
    expect(
      thrown(() => createChatDashClient({ apiKey, retryBudget: { capacity: 0 } })).message,
    ).toBe(
      'createChatDashClient: retryBudget.capacity must be an integer from 1 to 1000000, got number 0',
    );
    expect(
      thrown(() => createChatDashClient({ apiKey, retryBudget: { size: 1 } as never })).message,
    ).toBe('createChatDashClient: retryBudget: unknown option `size`');
  });
});

describe('methods and signals', () => {
  it('binds its methods, so they work taken off the client', async () => {
    const { fetch } = fakeFetch(() => json(200, { _id: 'c1' }));
    const { getConversation, getConversationWithResponse } = createChatDashClient({
      apiKey,
      fetch,
    });
    await expect(getConversation(params)).resolves.toEqual({ _id: 'c1' });
    await expect(getConversationWithResponse(params)).resolves.toMatchObject({
      data: { _id: 'c1' },
    });
  });

  it.each([
    ['no removeEventListener', { aborted: false, addEventListener: () => {} }],
    ['no addEventListener', { aborted: false, removeEventListener: () => {} }],
    ['no aborted flag', { addEventListener: () => {}, removeEventListener: () => {} }],
    ['a string', 'abort'],
    ['null', null],
  ])('rejects a signal with %s, naming signal, and sends nothing', async (_, signal) => {
    const { fetch, calls } = fakeFetch();
    const error = await createChatDashClient({ apiKey, fetch })
      .getConversation(params, { signal: signal as never })
      .catch((e: unknown) => e as Error);
    expect(error).toBeInstanceOf(ChatDashError);
    expect((error as Error).message).toMatch(/^getConversation: signal must be an AbortSignal/);
    expect(calls).toHaveLength(0);
  });

  it('accepts a signal from another realm or a polyfill (duck-typed)', async () => {
    const { fetch } = fakeFetch(() => json(200, { _id: 'c1' }));
    const listeners = new Set<() => void>();
    const signal = {
      aborted: false,
      reason: undefined,
      addEventListener: (_: string, listener: () => void) => listeners.add(listener),
      removeEventListener: (_: string, listener: () => void) => listeners.delete(listener),
    };
    await createChatDashClient({ apiKey, fetch }).getConversation(params, {
      signal: signal as never,
    });
    expect(listeners.size).toBe(0); // and leaves no listener behind
  });
});

describe('the URL on errors', () => {
  it('names the full URL, with the base path, in an APIError and carries it as url', async () => {
    const { fetch } = fakeFetch(() => json(404, { error: 'no' }));
    const error = (await createChatDashClient({ apiKey, fetch, maxRetries: 0 })
      .getConversation(params)
      .catch((e: unknown) => e)) as NotFoundError;
    expect(error.message).toBe(`404 Not Found: GET ${realPath}`);
    expect(error.url).toBe(realPath);
  });

  it('tells a wrong baseUrl path apart from a missing conversation: the host and path are in the message', async () => {
    const { fetch } = fakeFetch(() => json(404, { error: 'no route' }));
    const error = (await createChatDashClient({
      apiKey,
      fetch,
      baseUrl: 'https://api.chat-dash.com/v2/publik',
    })
      .getConversation(params)
      .catch((e: unknown) => e)) as Error;
    expect(error.message).toContain('https://api.chat-dash.com/v2/publik/agents/');
  });

  it('names the real path, not the template, when the signal was aborted before anything was sent', async () => {
    const { fetch, calls } = fakeFetch();
    const error = (await createChatDashClient({ apiKey, fetch })
      .getConversation({ ...params, isPlatformId: true }, { signal: AbortSignal.abort() })
      .catch((e: unknown) => e)) as APIUserAbortError;
    expect(error).toBeInstanceOf(APIUserAbortError);
    expect(error.message).toBe(`Request was aborted: GET ${realPath}?isPlatformId=true`);
    expect(error.url).toBe(`${realPath}?isPlatformId=true`);
    expect(error.attempts).toEqual([]);
    expect(calls).toHaveLength(0);
  });

  it('carries url on connection errors too', async () => {
    const error = (await createChatDashClient({
      apiKey,
      fetch: () => Promise.reject(new TypeError('fetch failed')),
      maxRetries: 0,
    })
      .getConversation(params)
      .catch((e: unknown) => e)) as APIConnectionError;
    expect(error.url).toBe(realPath);
    expect(error.message).toBe(`Connection error: GET ${realPath}: fetch failed`);
  });
});

describe('error classes', () => {
  const exported = Object.entries(chatdash).filter(
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
      expect(new C(...args).name).toBe(name);
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
    expect({}).not.toBeInstanceOf(ChatDashError);
    expect(null).not.toBeInstanceOf(ChatDashError);
    class Mine extends NotFoundError {}
    const mine = new Mine(404, new Headers(), null, 'm');
    expect(mine).toBeInstanceOf(Mine);
    expect(mine).toBeInstanceOf(NotFoundError);
    expect(new NotFoundError(404, new Headers(), null, 'n')).not.toBeInstanceOf(Mine);
  });
});
