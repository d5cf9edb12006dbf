import { describe, expect, it } from 'vitest';
import { ChatDashError, createChatDashClient } from '../../src/index.js';
import { VERSION } from '../../src/version.js';
import pkg from '../../package.json' with { type: 'json' };
import { fakeFetch, json } from '../helpers/fake-fetch.js';

const KEY = 'ck_test_key';

function client() {
  const fake = fakeFetch(() => json(200, { _id: 'c1' }));
  return {
    ...fake,
    chatdash: createChatDashClient({
      apiKey: KEY,
      baseUrl: 'https://api.example.com/v1',
      fetch: fake.fetch,
    }),
  };
}

describe('the request the client sends', () => {
  it('is a GET to /agents/{agentId}/conversations/{conversationId} with no query by default', async () => {
    const { chatdash, calls } = client();
    await expect(
      chatdash.getConversation({ agentId: 'agent_1', conversationId: 'conv_1' }),
    ).resolves.toEqual({ _id: 'c1' });
    expect(calls).toHaveLength(1);
    expect(calls[0]?.method).toBe('GET');
    expect(calls[0]?.url).toBe('https://api.example.com/v1/agents/agent_1/conversations/conv_1');
  });

  it.each([true, false])(
    'sends ?isPlatformId=%s when isPlatformId is given',
    async (isPlatformId) => {
      const { chatdash, calls } = client();
      await chatdash.getConversation({ agentId: 'a', conversationId: 'c', isPlatformId });
      expect(calls[0]?.url).toBe(
        `https://api.example.com/v1/agents/a/conversations/c?isPlatformId=${isPlatformId}`,
      );
    },
  );

  it('sends the key verbatim (no Bearer), Accept: application/json and a chatdash-client User-Agent', async () => {
    const { chatdash, calls } = client();
    await chatdash.getConversation({ agentId: 'a', conversationId: 'c' });
    const headers = calls[0]?.headers;
    expect(headers?.get('authorization')).toBe(KEY);
    expect(headers?.get('accept')).toBe('application/json');
    expect(headers?.get('user-agent')).toBe(
      `chatdash-client/${pkg.version} node/${process.versions.node}`,
    );
    expect(headers?.has('content-type')).toBe(false);
  });

  it('keeps VERSION equal to package.json', () => {
    expect(VERSION).toBe(pkg.version);
  });

  it.each([
    ['a/b', 'a%2Fb'],
    ['a?b#c', 'a%3Fb%23c'],
    ['a b', 'a%20b'],
    ['%2e%2e', '%252e%252e'],
    ['...', '...'],
    ['$&', '%24%26'],
    ['$`', '%24%60'],
    ["$'", "%24'"],
    ['ü', '%C3%BC'],
  ])('encodes the id %j as the single path segment %s', async (id, segment) => {
    const { chatdash, calls } = client();
    await chatdash.getConversation({ agentId: id, conversationId: id });
    expect(calls[0]?.url).toBe(
      `https://api.example.com/v1/agents/${segment}/conversations/${segment}`,
    );
  });

  it('resolves getConversationWithResponse to the data, the Response and the x-request-id', async () => {
    const fake = fakeFetch(() => json(200, { _id: 'c1' }, { 'x-request-id': 'req_42' }));
    const chatdash = createChatDashClient({ apiKey: KEY, fetch: fake.fetch });
    const result = await chatdash.getConversationWithResponse({
      agentId: 'a',
      conversationId: 'c',
    });
    expect(result.data).toEqual({ _id: 'c1' });
    expect(result.response.status).toBe(200);
    expect(result.requestId).toBe('req_42');
  });

  it('binds its methods, so they work taken off the client', async () => {
    const { getConversation, getConversationWithResponse } = client().chatdash;
    await expect(getConversation({ agentId: 'a', conversationId: 'c' })).resolves.toEqual({
      _id: 'c1',
    });
    await expect(
      getConversationWithResponse({ agentId: 'a', conversationId: 'c' }),
    ).resolves.toMatchObject({ data: { _id: 'c1' } });
  });
});

describe('input rules, checked before anything is sent', () => {
  const bad: [string, unknown, string][] = [
    ['an empty agentId', { agentId: '', conversationId: 'c' }, 'agentId'],
    ['a missing agentId', { conversationId: 'c' }, 'agentId'],
    ['a numeric agentId', { agentId: 42, conversationId: 'c' }, 'agentId'],
    ['agentId "."', { agentId: '.', conversationId: 'c' }, 'agentId'],
    ['agentId ".."', { agentId: '..', conversationId: 'c' }, 'agentId'],
    ['an empty conversationId', { agentId: 'a', conversationId: '' }, 'conversationId'],
    ['conversationId "."', { agentId: 'a', conversationId: '.' }, 'conversationId'],
    ['conversationId ".."', { agentId: 'a', conversationId: '..' }, 'conversationId'],
    ['a null conversationId', { agentId: 'a', conversationId: null }, 'conversationId'],
    ['a lone surrogate', { agentId: 'a\ud800', conversationId: 'c' }, 'agentId'],
    [
      'isPlatformId as a string',
      { agentId: 'a', conversationId: 'c', isPlatformId: 'true' },
      'isPlatformId',
    ],
    [
      'isPlatformId as null',
      { agentId: 'a', conversationId: 'c', isPlatformId: null },
      'isPlatformId',
    ],
    ['an unknown parameter', { agentId: 'a', conversationId: 'c', platformId: true }, 'platformId'],
    ['no params at all', undefined, 'params'],
  ];

  it.each(bad)(
    'rejects %s with a ChatDashError naming it, and sends nothing',
    async (_, params, name) => {
      const { chatdash, fetch } = client();
      const call = chatdash.getConversation(params as never);
      await expect(call).rejects.toThrow(ChatDashError);
      await expect(call).rejects.toThrow(name);
      await expect(call).rejects.toMatchObject({ name: 'ChatDashError' });
      expect(fetch).not.toHaveBeenCalled();
    },
  );

  it('rejects (never throws synchronously) from both methods', () => {
    const { chatdash } = client();
    let promise: Promise<unknown> | undefined;
    expect(() => {
      promise = chatdash.getConversationWithResponse({ agentId: '..', conversationId: 'c' });
    }).not.toThrow();
    return expect(promise).rejects.toThrow('agentId');
  });

  const integer = (name: string, min: number) =>
    `getConversation: ${name} must be an integer from ${min} to 2147483647, got`;
  const retries = 'getConversation: maxRetries must be an integer from 0 to 10, got';
  it.each([
    ['timeoutMs', -1, `${integer('timeoutMs', 1)} number -1`],
    ['timeoutMs', '5000', `${integer('timeoutMs', 1)} string "5000"`],
    ['maxRetries', Number.POSITIVE_INFINITY, `${retries} number Infinity`],
    ['maxRetries', 1e9, `${retries} number 1000000000`],
    ['maxResponseBytes', 1.5, `${integer('maxResponseBytes', 1)} number 1.5`],
    ['deadlineMs', 0, `${integer('deadlineMs', 1)} number 0`],
    ['retries', 1, 'getConversation: unknown option `retries`'],
  ])('states the rule for a per-call %s = %j, and sends nothing', async (name, value, message) => {
    const { chatdash, fetch } = client();
    const call = chatdash.getConversation({ agentId: 'a', conversationId: 'c' }, {
      [name]: value,
    } as never);
    await expect(call).rejects.toThrow(ChatDashError);
    await expect(call).rejects.toThrow(message);
    expect(fetch).not.toHaveBeenCalled();
  });

  it.each([
    ['no removeEventListener', { aborted: false, addEventListener: () => {} }],
    ['no addEventListener', { aborted: false, removeEventListener: () => {} }],
    ['no aborted flag', { addEventListener: () => {}, removeEventListener: () => {} }],
    ['a string', 'abort'],
    ['null', null],
  ])('rejects a signal with %s, naming signal, and sends nothing', async (_, signal) => {
    const { chatdash, fetch } = client();
    const call = chatdash.getConversation(
      { agentId: 'a', conversationId: 'c' },
      { signal: signal as never },
    );
    await expect(call).rejects.toThrow(ChatDashError);
    await expect(call).rejects.toThrow(/^getConversation: signal must be an AbortSignal/);
    expect(fetch).not.toHaveBeenCalled();
  });

  it('accepts a signal from another realm or a polyfill (duck-typed), and leaves no listener on it', async () => {
    const { chatdash, calls } = client();
    const listeners = new Set<() => void>();
    let added = 0;
    const signal = {
      aborted: false,
      reason: undefined,
      addEventListener: (_: string, listener: () => void) => {
        added += 1;
        listeners.add(listener);
      },
      removeEventListener: (_: string, listener: () => void) => listeners.delete(listener),
    };
    await expect(
      chatdash.getConversation({ agentId: 'a', conversationId: 'c' }, { signal: signal as never }),
    ).resolves.toEqual({ _id: 'c1' });
    expect(calls).toHaveLength(1);
    expect(added).toBeGreaterThan(0); // it did listen for an abort
    expect(listeners.size).toBe(0);
  });
});
