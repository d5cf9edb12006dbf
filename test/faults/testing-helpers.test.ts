import { afterEach, describe, expect, it } from 'vitest';
import {
  APIConnectionError,
  APIConnectionTimeoutError,
  AuthenticationError,
  createChatDashClient,
  InternalServerError,
  NotFoundError,
  ResponseValidationError,
} from '../helpers/transport.js';
import { makeConversation, startMockChatDash, type MockChatDash } from '../../src/testing.js';
import { validateConversation } from '../../src/validate.js';

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

  it('fails the next N calls with a status, then answers again, and the default client retries through it without backing off', async () => {
    mock = await startMockChatDash({ conversations: [makeConversation()] });
    mock.failNext(2, { status: 503 });
    const chatdash = createChatDashClient({ apiKey: 'k_mock_1', baseUrl: mock.baseUrl });
    const started = performance.now();
    await expect(
      chatdash.getConversation({ agentId: 'agent_0001', conversationId: 'conv_0001' }),
    ).resolves.toMatchObject({ _id: 'conv_0001' });
    expect(mock.requests).toHaveLength(3);
    // The default backoff before retries 1 and 2 is at least 0.375 s + 0.75 s, so
    // finishing under 1 s means both retries honoured retry-after-ms: 0.
    expect(performance.now() - started).toBeLessThan(1_000);
  });

  it('sends retry-after-ms: 0 with a status failure, retryAfterMs when given, and leaves the header to your own retry-after', async () => {
    mock = await startMockChatDash();
    mock.failNext(1, { status: 503 });
    mock.failNext(1, { status: 429, retryAfterMs: 250 });
    mock.failNext(1, { status: 503, headers: { 'Retry-After': '1' } });
    const url = `${mock.baseUrl}/agents/agent_0001/conversations/conv_0001`;
    const seen = [];
    for (let i = 0; i < 3; i++) {
      const response = await fetch(url, { headers: { authorization: 'k' } });
      await response.body?.cancel();
      seen.push([
        response.status,
        response.headers.get('retry-after-ms'),
        response.headers.get('retry-after'),
      ]);
    }
    expect(seen).toEqual([
      [503, '0', null],
      [429, '250', null],
      [503, null, '1'],
    ]);
    expect(() => mock?.failNext(1, { status: 503, retryAfterMs: -1 })).toThrow(
      'failNext: retryAfterMs must be an integer >= 0, got -1',
    );
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

  it('serves any JSON object given to set(), so a test can break the spec without a cast', async () => {
    mock = await startMockChatDash();
    // No cast: set() takes Conversation | Record<string, unknown> (tsc checks this file).
    const broken = { _id: 'conv_0001', agentId: 'agent_0001', status: 'closed', cost: 'free' };
    mock.set(broken);
    const params = { agentId: 'agent_0001', conversationId: 'conv_0001' };
    const plain = createChatDashClient({ apiKey: 'k_mock_4', baseUrl: mock.baseUrl });
    await expect(plain.getConversation(params)).resolves.toEqual(broken);
    const validating = createChatDashClient({
      apiKey: 'k_mock_4',
      baseUrl: mock.baseUrl,
      validateResponses: true,
    });
    const error = await validating.getConversation(params).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ResponseValidationError);
    expect((error as ResponseValidationError).issues.map((i) => i.path).sort()).toEqual([
      '/cost',
      '/status',
    ]);
  });

  it('forgets queued failures and recorded requests on reset(), and serves the initial conversations again', async () => {
    mock = await startMockChatDash({ conversations: [makeConversation({ status: 'ai' })] });
    const chatdash = createChatDashClient({
      apiKey: 'k_mock_5',
      baseUrl: mock.baseUrl,
      maxRetries: 0,
    });
    const requests = mock.requests;
    mock.set(makeConversation({ status: 'human' }));
    mock.set(makeConversation({ _id: 'conv_0002' }));
    await chatdash.getConversation({ agentId: 'agent_0001', conversationId: 'conv_0001' });
    mock.failNext(3, { status: 500 });
    await expect(
      chatdash.getConversation({ agentId: 'agent_0001', conversationId: 'conv_0001' }),
    ).rejects.toThrow(InternalServerError);

    mock.reset();
    // Emptied in place, so a reference taken before reset() sees it too.
    expect(requests).toHaveLength(0);
    expect(mock.requests).toBe(requests);
    await expect(
      chatdash.getConversation({ agentId: 'agent_0001', conversationId: 'conv_0001' }),
    ).resolves.toMatchObject({ status: 'ai' });
    await expect(
      chatdash.getConversation({ agentId: 'agent_0001', conversationId: 'conv_0002' }),
    ).rejects.toThrow(NotFoundError);
    expect(mock.requests.map((r) => r.conversationId)).toEqual(['conv_0001', 'conv_0002']);
  });

  it('closes itself at the end of an `await using` block', async () => {
    let baseUrl: string;
    {
      await using scoped = await startMockChatDash({ conversations: [makeConversation()] });
      baseUrl = scoped.baseUrl;
      const chatdash = createChatDashClient({ apiKey: 'k_mock_6', baseUrl, maxRetries: 0 });
      await expect(
        chatdash.getConversation({ agentId: 'agent_0001', conversationId: 'conv_0001' }),
      ).resolves.toMatchObject({ _id: 'conv_0001' });
    }
    const afterwards = createChatDashClient({ apiKey: 'k_mock_6', baseUrl, maxRetries: 0 });
    const error = await afterwards
      .getConversation({ agentId: 'agent_0001', conversationId: 'conv_0001' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(APIConnectionError);
    expect(String((error as Error).cause)).toMatch(/ECONNREFUSED|fetch failed/);
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
