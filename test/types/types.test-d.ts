import { describe, expectTypeOf, it } from 'vitest';
import type {
  Conversation,
  ConversationStatus,
  components,
  operations,
  paths,
} from '../../src/types.js';
import type * as Generated from '../../generated/chatdash.js';
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

// The main entry re-exports its types from src/types.ts, so comparing the two
// type exports would compare each type with itself. These compare the types
// subpath with what the package really uses: the generated schema, and the
// types of the main entry's runtime values.
type Client = ReturnType<typeof Main.createChatDashClient>;
type ClientOptions = NonNullable<Parameters<typeof Main.createChatDashClient>[0]>;
type CallArgs = Parameters<Client['getConversation']>;

describe('chatdash-client/types', () => {
  it('has no values', () => {
    expectTypeOf<keyof typeof TypesOnly>().toEqualTypeOf<never>();
    expectTypeOf<keyof typeof Main>().not.toEqualTypeOf<never>();
  });

  it('carries the generated schema types unchanged', () => {
    expectTypeOf<TypesOnly.paths>().toEqualTypeOf<Generated.paths>();
    expectTypeOf<TypesOnly.components>().toEqualTypeOf<Generated.components>();
    expectTypeOf<TypesOnly.operations>().toEqualTypeOf<Generated.operations>();
    expectTypeOf<TypesOnly.Conversation>().toEqualTypeOf<
      Generated.components['schemas']['Conversation']
    >();
    expectTypeOf<TypesOnly.ConversationStatus>().toEqualTypeOf<
      NonNullable<Generated.components['schemas']['Conversation']['status']>
    >();
  });

  it('types the client, its options, params and results as createChatDashClient has them', () => {
    expectTypeOf<TypesOnly.ChatDashClient>().toEqualTypeOf<Client>();
    expectTypeOf<TypesOnly.ChatDashClientOptions>().toEqualTypeOf<ClientOptions>();
    expectTypeOf<TypesOnly.FetchLike>().toEqualTypeOf<NonNullable<ClientOptions['fetch']>>();
    expectTypeOf<TypesOnly.GetConversationParams>().toEqualTypeOf<CallArgs[0]>();
    expectTypeOf<TypesOnly.RequestOptions>().toEqualTypeOf<NonNullable<CallArgs[1]>>();
    expectTypeOf<
      ReturnType<Client['getConversation']>
    >().resolves.toEqualTypeOf<TypesOnly.Conversation>();
  });

  it('types ValidationIssue as ResponseValidationError carries it', () => {
    expectTypeOf<TypesOnly.ValidationIssue>().toEqualTypeOf<
      InstanceType<typeof Main.ResponseValidationError>['issues'][number]
    >();
  });
});
