/**
 * The client as the fault suites use it, on the transport the test project
 * names: Node's own fetch (the default), or `createUndiciFetch()` when
 * CHATDASH_TEST_TRANSPORT=undici (the `faults-undici` project, and the child
 * processes its tests start, which inherit the variable). Every fault,
 * hardening and reliability test thus runs through both transports unchanged.
 */
import * as chatdash from '../../src/index.js';
import type { ChatDashClient, ChatDashClientOptions } from '../../src/index.js';
import { createUndiciFetch } from '../../src/transports/undici.js';

export * from '../../src/index.js';

/** Which transport this run uses. */
export const transport: 'fetch' | 'undici' =
  process.env['CHATDASH_TEST_TRANSPORT'] === 'undici' ? 'undici' : 'fetch';

// One pool for the whole test file, as Node's fetch has one global dispatcher.
const undici = transport === 'undici' ? createUndiciFetch() : undefined;

/** `createChatDashClient`, with `fetch: createUndiciFetch()` unless the test passes its own fetch. */
export function createChatDashClient(options: ChatDashClientOptions = {}): ChatDashClient {
  return chatdash.createChatDashClient(
    undici && options.fetch === undefined ? { ...options, fetch: undici } : options,
  );
}
