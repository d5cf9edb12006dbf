import { describe, expect, inject, it } from 'vitest';
import {
  createChatDashClient,
  InternalServerError,
  UnprocessableEntityError,
  type Conversation,
} from '../../src/index.js';

const baseUrl = inject('prismUrl');
const apiKey = 'ck_prism_test_key';
const params = { agentId: 'agent_1', conversationId: 'conv_1' };

describe('against the Prism mock of the spec', () => {
  it('resolves the static example to a Conversation with _id', async () => {
    const chatdash = createChatDashClient({ apiKey, baseUrl });
    const conversation: Conversation = await chatdash.getConversation(params);
    expect(typeof conversation._id).toBe('string');
    expect(conversation.status).toBe('ai');
    expect(conversation.mistunderstoodQueries?.[0]).toHaveProperty('question');
  });

  // Prism answers the same static body whatever the query says, so the test reads
  // the URL the client handed to fetch; Prism's 200 says it accepted that query
  // (it answers 422 to an isPlatformId that is not a boolean).
  it.each([
    [true, '?isPlatformId=true'],
    [false, '?isPlatformId=false'],
    [undefined, ''],
  ])(
    'sends isPlatformId %s as the query "%s", which Prism accepts',
    async (isPlatformId, query) => {
      const sent: string[] = [];
      const recording = (url: string, init: RequestInit) => {
        sent.push(url);
        return fetch(url, init);
      };
      const chatdash = createChatDashClient({ apiKey, baseUrl, fetch: recording });
      const { response } = await chatdash.getConversationWithResponse({
        ...params,
        ...(isPlatformId === undefined ? {} : { isPlatformId }),
      });
      expect(response.status).toBe(200);
      expect(sent).toEqual([`${baseUrl}/agents/agent_1/conversations/conv_1${query}`]);
    },
  );

  it('rejects Prefer: code=500 with InternalServerError carrying the spec’s example body', async () => {
    const chatdash = createChatDashClient({
      apiKey,
      baseUrl,
      maxRetries: 0,
      headers: { Prefer: 'code=500' },
    });
    const error = await chatdash.getConversation(params).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InternalServerError);
    expect(error).toMatchObject({ status: 500, body: { error: 'An unexpected error occurred' } });
    expect((error as Error).message).toBe(
      `500 Internal Server Error: GET ${baseUrl}/agents/agent_1/conversations/conv_1`,
    );
  });

  it('rejects a request without the Authorization header with UnprocessableEntityError (Prism validates it)', async () => {
    // The client always sends the key, so strip it on the way out, as a misconfigured proxy would.
    const withoutAuthorization = (url: string, init: RequestInit) => {
      const headers = new Headers(init.headers);
      headers.delete('authorization');
      return fetch(url, { ...init, headers });
    };
    const chatdash = createChatDashClient({ apiKey, baseUrl, fetch: withoutAuthorization });
    const error = await chatdash.getConversation(params).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnprocessableEntityError);
    expect(error).toMatchObject({ status: 422 });
  });

  it('resolves every body Prism generates with Prefer: dynamic=true, over 200 seeds, with validation on', async () => {
    const bodies = new Set<string>();
    for (let seed = 1; seed <= 200; seed++) {
      const chatdash = createChatDashClient({
        apiKey,
        baseUrl,
        validateResponses: true,
        maxRetries: 0,
        headers: { Prefer: `dynamic=true, seed=${seed}` },
      });
      const conversation = await chatdash.getConversation(params);
      expect(conversation).toBeTypeOf('object');
      bodies.add(JSON.stringify(conversation));
    }
    // Seeds really vary the bodies, so this is not one body 200 times.
    expect(bodies.size).toBeGreaterThan(150);
  });
});
