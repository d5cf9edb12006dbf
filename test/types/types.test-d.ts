import { describe, expectTypeOf, it } from 'vitest';
import type {
  Conversation,
  ConversationStatus,
  components,
  operations,
  paths,
} from '../../src/types.js';
import type * as Main from '../../src/index.js';
import type * as TypesOnly from '../../src/types.js';

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

describe('chatdash-client/types', () => {
  it('has every type the main entry exports, and no values', () => {
    expectTypeOf<keyof typeof TypesOnly>().toEqualTypeOf<never>();
    expectTypeOf<keyof typeof Main>().not.toEqualTypeOf<never>();
    expectTypeOf<TypesOnly.ChatDashClient>().toEqualTypeOf<Main.ChatDashClient>();
    expectTypeOf<TypesOnly.ChatDashClientOptions>().toEqualTypeOf<Main.ChatDashClientOptions>();
    expectTypeOf<TypesOnly.GetConversationParams>().toEqualTypeOf<Main.GetConversationParams>();
    expectTypeOf<TypesOnly.RequestOptions>().toEqualTypeOf<Main.RequestOptions>();
    expectTypeOf<TypesOnly.Conversation>().toEqualTypeOf<Main.Conversation>();
    expectTypeOf<TypesOnly.ConversationStatus>().toEqualTypeOf<Main.ConversationStatus>();
    expectTypeOf<TypesOnly.paths>().toEqualTypeOf<Main.paths>();
  });
});
