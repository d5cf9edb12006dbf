import type { Middleware } from 'openapi-fetch';
import { describe, expectTypeOf, it } from 'vitest';
import {
  createChatDashClient,
  type ChatDashClient,
  type ChatDashClientOptions,
  type GetConversationParams,
  type Middleware as ExportedMiddleware,
} from '../../src/index.js';

declare const chatdash: ChatDashClient;

describe('middleware and params typed by openapi-fetch and the spec', () => {
  it("takes openapi-fetch's own Middleware objects, the type the package re-exports", () => {
    expectTypeOf<ChatDashClientOptions['middleware']>().toEqualTypeOf<Middleware[] | undefined>();
    expectTypeOf<ExportedMiddleware>().toEqualTypeOf<Middleware>();

    const tenant: Middleware = {
      onRequest({ request }) {
        request.headers.set('x-tenant', 't_1');
        return request;
      },
      onResponse: ({ response }) => response,
      onError: ({ error }) => (error instanceof Error ? error : new Error(String(error))),
    };
    expectTypeOf(createChatDashClient({ middleware: [tenant] })).toEqualTypeOf<ChatDashClient>();
    // A literal is checked against the same hook signatures.
    createChatDashClient({
      middleware: [
        { onRequest: ({ request, schemaPath, params }) => void [request, schemaPath, params] },
      ],
    });
    // @ts-expect-error onRequest must be a function
    createChatDashClient({ middleware: [{ onRequest: 42 }] });
    // @ts-expect-error onResponse returns a Response (or nothing), not a string
    createChatDashClient({ middleware: [{ onResponse: () => 'ok' }] });
    // @ts-expect-error middleware is a list, not one middleware
    createChatDashClient({ middleware: tenant });
  });

  it('still accepts { agentId, conversationId, isPlatformId?: boolean | undefined } as GetConversationParams', () => {
    type Written = { agentId: string; conversationId: string; isPlatformId?: boolean | undefined };
    expectTypeOf<Written>().toExtend<GetConversationParams>();
    expectTypeOf<GetConversationParams>().toExtend<Written>();
    expectTypeOf<GetConversationParams['isPlatformId']>().toEqualTypeOf<boolean | undefined>();

    const fromConfig: Written = { agentId: 'a', conversationId: 'c', isPlatformId: undefined };
    void chatdash.getConversation(fromConfig);
    void chatdash.getConversation({ agentId: 'a', conversationId: 'c', isPlatformId: undefined });
    void chatdash.getConversation({ agentId: 'a', conversationId: 'c', isPlatformId: true });
    void chatdash.getConversation({ agentId: 'a', conversationId: 'c' });
    // @ts-expect-error agentId may not be undefined
    void chatdash.getConversation({ agentId: undefined, conversationId: 'c' });
  });
});
