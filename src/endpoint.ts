import type { paths } from '../generated/chatdash.js';

/** The one operation this package calls, as the spec names it: a path the spec lacks fails to compile. */
export const ENDPOINT = '/agents/{agentId}/conversations/{conversationId}' satisfies keyof paths;
