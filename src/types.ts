/**
 * Types only: every type `chatdash-client` exports, and nothing else. The
 * `chatdash-client/types` subpath is built from this file, so its runtime
 * module is empty and a types-only consumer pays nothing.
 */
import type { components } from '../generated/chatdash.js';

export type { components, operations, paths } from '../generated/chatdash.js';
export type {
  ChatDashClient,
  ChatDashClientOptions,
  FetchLike,
  GetConversationParams,
  RequestOptions,
} from './client.js';
export type { ValidationIssue } from './errors.js';

/** A conversation as `GET /agents/{agentId}/conversations/{conversationId}` returns it. */
export type Conversation = components['schemas']['Conversation'];

/** Who is handling the conversation: the AI agent, nobody yet, or a live human. */
export type ConversationStatus = NonNullable<Conversation['status']>;
