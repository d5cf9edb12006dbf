import { describe, expect, it } from 'vitest';
import {
  APIConnectionError,
  APIConnectionTimeoutError,
  AuthenticationError,
  createChatDashClient,
  NotFoundError,
} from '../../src/index.js';
import { makeConversation, startMockChatDash, type MockChatDash } from '../../src/testing.js';
import { validateConversation } from '../../src/validate.js';
import { afterEach } from 'vitest';

let mock: MockChatDash | undefined;
afterEach(async () => {
  await mock?.close();
  mock = undefined;
});

describe('makeConversation', () => {
  it('returns a conversation with every spec field that passes the spec validator', () => {
    const conversation = makeConversation();
    expect(validateConversation(conversation)).toEqual([]);
    expect(Object.keys(conversation)).toHaveLength(39);
  });

  it('is deterministic and applies overrides', () => {
    expect(makeConversation()).toEqual(makeConversation());
    const human = makeConversation({ _id: 'c9', status: 'human' });
    expect(human).toMatchObject({ _id: 'c9', status: 'human', agentId: 'agent_0001' });
    expect(validateConversation(human)).toEqual([]);
  });
});

describe('startMockChatDash', () => {
  it('serves a conversation by agentId and _id, and by platformId with isPlatformId', async () => {
    mock = await startMockChatDash({
      conversations: [makeConversation({ _id: 'c1', platformId: 'p1' })],
    });
    const chatdash = createChatDashClient({ apiKey: 'ck_mock', baseUrl: mock.baseUrl });
    await expect(
      chatdash.getConversation({ agentId: 'agent_0001', conversationId: 'c1' }),
    ).resolves.toMatchObject({ _id: 'c1' });
    await expect(
      chatdash.getConversation({ agentId: 'agent_0001', conversationId: 'p1', isPlatformId: true }),
    ).resolves.toMatchObject({ _id: 'c1' });
    await expect(
      chatdash.getConversation({ agentId: 'agent_0001', conversationId: 'p1' }),
    ).rejects.toThrow(NotFoundError);
    expect(mock.requests.map((r) => [r.conversationId, r.isPlatformId, r.authorized])).toEqual([
      ['c1', undefined, true],
      ['p1', true, true],
      ['p1', undefined, true],
    ]);
    expect(JSON.stringify(mock.requests)).not.toContain('ck_mock');
  });

  it('answers 401 without an Authorization header, or with a key other than the one it was given', async () => {
    mock = await startMockChatDash({ apiKey: 'ck_right', conversations: [makeConversation()] });
    const params = { agentId: 'agent_0001', conversationId: 'conv_0001' };
    await expect(
      createChatDashClient({ apiKey: 'ck_wrong', baseUrl: mock.baseUrl }).getConversation(params),
    ).rejects.toThrow(AuthenticationError);
    const response = await fetch(`${mock.baseUrl}/agents/agent_0001/conversations/conv_0001`);
    expect(response.status).toBe(401);
    await expect(
      createChatDashClient({ apiKey: 'ck_right', baseUrl: mock.baseUrl }).getConversation(params),
    ).resolves.toBeTruthy();
  });

  it('fails the next N calls with a status, then answers again (the client retries through it)', async () => {
    mock = await startMockChatDash({ conversations: [makeConversation()] });
    mock.failNext(2, { status: 503, headers: { 'retry-after-ms': '1' } });
    const chatdash = createChatDashClient({ apiKey: 'k_mock_1', baseUrl: mock.baseUrl });
    await expect(
      chatdash.getConversation({ agentId: 'agent_0001', conversationId: 'conv_0001' }),
    ).resolves.toMatchObject({ _id: 'conv_0001' });
    expect(mock.requests).toHaveLength(3);
  });

  it('can delay or reset the next calls', async () => {
    mock = await startMockChatDash({ conversations: [makeConversation()] });
    const chatdash = createChatDashClient({
      apiKey: 'k_mock_2',
      baseUrl: mock.baseUrl,
      maxRetries: 0,
    });
    const params = { agentId: 'agent_0001', conversationId: 'conv_0001' };
    mock.failNext(1, { delayMs: 5_000 });
    await expect(chatdash.getConversation(params, { timeoutMs: 200 })).rejects.toThrow(
      APIConnectionTimeoutError,
    );
    mock.failNext(1, { reset: true });
    await expect(chatdash.getConversation(params)).rejects.toThrow(APIConnectionError);
    await expect(chatdash.getConversation(params)).resolves.toMatchObject({ _id: 'conv_0001' });
  });

  it('adds or replaces conversations with set()', async () => {
    mock = await startMockChatDash();
    const chatdash = createChatDashClient({ apiKey: 'k_mock_3', baseUrl: mock.baseUrl });
    const params = { agentId: 'agent_0001', conversationId: 'conv_0001' };
    await expect(chatdash.getConversation(params)).rejects.toThrow(NotFoundError);
    mock.set(makeConversation({ status: 'pending' }));
    mock.set(makeConversation({ status: 'human' }));
    await expect(chatdash.getConversation(params)).resolves.toMatchObject({ status: 'human' });
  });
});
