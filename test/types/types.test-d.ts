import { describe, expectTypeOf, it } from 'vitest';
import type {
  Conversation,
  ConversationStatus,
  components,
  operations,
  paths,
} from '../../src/types.js';

describe('the generated types', () => {
  it('types Conversation.status as the spec enum, optional', () => {
    expectTypeOf<Conversation['status']>().toEqualTypeOf<'ai' | 'pending' | 'human' | undefined>();
    expectTypeOf<ConversationStatus>().toEqualTypeOf<'ai' | 'pending' | 'human'>();
  });

  it('keeps every spec field optional and typed as the spec says', () => {
    expectTypeOf<Conversation['_id']>().toEqualTypeOf<string | undefined>();
    expectTypeOf<Conversation['cost']>().toEqualTypeOf<number | undefined>();
    expectTypeOf<Conversation['read']>().toEqualTypeOf<boolean | undefined>();
    expectTypeOf<
      NonNullable<Conversation['mistunderstoodQueries']>[number]['question']
    >().toEqualTypeOf<string | undefined>();
    expectTypeOf<NonNullable<Conversation['evaluation']>['isSuccess']>().toEqualTypeOf<
      boolean | undefined
    >();
  });

  it('exposes the raw generated paths, components and operations', () => {
    expectTypeOf<components['schemas']['Conversation']>().toEqualTypeOf<Conversation>();
    type Get = paths['/agents/{agentId}/conversations/{conversationId}']['get'];
    expectTypeOf<Get['parameters']['path']>().toEqualTypeOf<{
      agentId: string;
      conversationId: string;
    }>();
    expectTypeOf<Get['parameters']['header']['Authorization']>().toEqualTypeOf<string>();
    expectTypeOf<operations>().toEqualTypeOf<Record<string, never>>();
  });
});
