import { describe, expectTypeOf, it } from 'vitest';
import type {
  BulkOptions,
  BulkResult,
  ChatDashClient,
  ChatDashClientOptions,
  Conversation,
  GetConversationParams,
} from '../../src/index.js';

declare const chatdash: ChatDashClient;
declare const ids: GetConversationParams[];

describe('the traffic-control types', () => {
  it('returns an AsyncIterable of BulkResult from getConversations, for an Iterable or an AsyncIterable', () => {
    expectTypeOf(chatdash.getConversations(ids)).toEqualTypeOf<AsyncIterable<BulkResult>>();
    async function* lazy(): AsyncGenerator<GetConversationParams> {}
    expectTypeOf(chatdash.getConversations(lazy(), { concurrency: 4 })).toEqualTypeOf<
      AsyncIterable<BulkResult>
    >();
    // @ts-expect-error a single params object is not an iterable of them
    void chatdash.getConversations({ agentId: 'a', conversationId: 'c' });
  });

  it('narrows a result to its data once the error is ruled out', () => {
    const check = (result: BulkResult) => {
      expectTypeOf(result.params).toEqualTypeOf<GetConversationParams>();
      if (result.error) expectTypeOf(result.error).toEqualTypeOf<Error>();
      else expectTypeOf(result.data).toEqualTypeOf<Conversation>();
    };
    void check;
  });

  it('takes concurrency beside every per-call option', () => {
    expectTypeOf<BulkOptions>().toExtend<{ concurrency?: number | undefined }>();
    expectTypeOf<{
      concurrency: 8;
      signal: AbortSignal;
      deadlineMs: 100;
    }>().toExtend<BulkOptions>();
    // @ts-expect-error concurrency is a number
    void chatdash.getConversations(ids, { concurrency: '8' });
  });

  it('accepts retryBudget as false or a partial bucket, dedupe as a boolean, deadlineMs as a number', () => {
    expectTypeOf<{ retryBudget: false }>().toExtend<ChatDashClientOptions>();
    expectTypeOf<{ retryBudget: { capacity: 100 } }>().toExtend<ChatDashClientOptions>();
    expectTypeOf<{ retryBudget: true }>().not.toExtend<ChatDashClientOptions>();
    expectTypeOf<{ dedupe: true; deadlineMs: 5_000 }>().toExtend<ChatDashClientOptions>();
  });
});
