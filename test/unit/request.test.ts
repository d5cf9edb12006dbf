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

  it.each([
    ['timeoutMs', { timeoutMs: -1 }],
    ['maxRetries', { maxRetries: Number.POSITIVE_INFINITY }],
    ['signal', { signal: 'stop' }],
    ['`retries`', { retries: 1 }],
  ])('rejects a bad request option (%s) and sends nothing', async (name, options) => {
    const { chatdash, fetch } = client();
    await expect(
      chatdash.getConversation({ agentId: 'a', conversationId: 'c' }, options as never),
    ).rejects.toThrow(name);
    expect(fetch).not.toHaveBeenCalled();
  });
});
