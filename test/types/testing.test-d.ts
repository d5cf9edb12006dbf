import { describe, expectTypeOf, it } from 'vitest';
import type { MockChatDash } from '../../src/testing.js';
import type { Conversation } from '../../src/types.js';

describe('chatdash-client/testing', () => {
  it('lets set() take a Conversation or any JSON object, so a body that breaks the spec needs no cast', () => {
    expectTypeOf<MockChatDash['set']>()
      .parameter(0)
      .toEqualTypeOf<Conversation | Record<string, unknown>>();
    expectTypeOf<MockChatDash['set']>().toBeCallableWith({ status: 'closed', cost: 'free' });
  });

  it('is AsyncDisposable, for `await using`', () => {
    expectTypeOf<MockChatDash>().toExtend<AsyncDisposable>();
    expectTypeOf<MockChatDash[typeof Symbol.asyncDispose]>().returns.toEqualTypeOf<Promise<void>>();
  });
});
