import { describe, expectTypeOf, it } from 'vitest';
import {
  createChatDashClient,
  type APIError,
  type Attempt,
  type ChatDashClient,
  type ChatDashClientOptions,
  type Conversation,
  type GetConversationParams,
  type RequestOptions,
  type ResponseValidationError,
} from '../../src/index.js';

declare const chatdash: ChatDashClient;

describe('the public client types', () => {
  it('returns a ChatDashClient from createChatDashClient, with or without options', () => {
    expectTypeOf(createChatDashClient).returns.toEqualTypeOf<ChatDashClient>();
    expectTypeOf(createChatDashClient)
      .parameter(0)
      .toEqualTypeOf<ChatDashClientOptions | undefined>();
  });

  it('resolves getConversation to Conversation', () => {
    expectTypeOf(
      chatdash.getConversation({ agentId: 'a', conversationId: 'c' }),
    ).resolves.toEqualTypeOf<Conversation>();
  });

  it('resolves getConversationWithResponse to data, response, requestId and attempts', () => {
    expectTypeOf(
      chatdash.getConversationWithResponse({ agentId: 'a', conversationId: 'c' }),
    ).resolves.toEqualTypeOf<{
      data: Conversation;
      response: Response;
      requestId: string | undefined;
      attempts: Attempt[];
    }>();
  });

  it('makes agentId and conversationId required and isPlatformId an optional boolean', () => {
    // @ts-expect-error agentId is required
    void chatdash.getConversation({ conversationId: 'c' });
    // @ts-expect-error conversationId is required
    void chatdash.getConversation({ agentId: 'a' });
    // @ts-expect-error isPlatformId is a boolean, not a string
    void chatdash.getConversation({ agentId: 'a', conversationId: 'c', isPlatformId: 'true' });
    expectTypeOf<GetConversationParams['isPlatformId']>().toEqualTypeOf<boolean | undefined>();
  });

  it('accepts per-call signal, timeoutMs, maxRetries, maxResponseBytes and deadlineMs', () => {
    expectTypeOf<RequestOptions>().toEqualTypeOf<{
      signal?: AbortSignal | undefined;
      timeoutMs?: number | undefined;
      maxRetries?: number | undefined;
      maxResponseBytes?: number | undefined;
      deadlineMs?: number | undefined;
    }>();
  });

  it('accepts process.env values for apiKey and baseUrl under exactOptionalPropertyTypes', () => {
    expectTypeOf<{
      apiKey: string | undefined;
      baseUrl: string | undefined;
    }>().toExtend<ChatDashClientOptions>();
  });

  it('types error fields', () => {
    expectTypeOf<APIError['status']>().toEqualTypeOf<number>();
    expectTypeOf<APIError['requestId']>().toEqualTypeOf<string | undefined>();
    expectTypeOf<ResponseValidationError['issues']>().toEqualTypeOf<
      { path: string; message: string }[]
    >();
  });
});
