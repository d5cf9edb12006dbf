export { createChatDashClient } from './client.js';
export { DEFAULT_BASE_URL } from './options.js';
export type {
  ChatDashClient,
  ChatDashClientOptions,
  FetchLike,
  GetConversationParams,
  RequestOptions,
} from './client.js';
export {
  APIConnectionError,
  APIConnectionTimeoutError,
  APIError,
  APIUserAbortError,
  AuthenticationError,
  BadRequestError,
  ChatDashError,
  ConflictError,
  InternalServerError,
  NotFoundError,
  PermissionDeniedError,
  RateLimitError,
  ResponseValidationError,
  UnprocessableEntityError,
} from './errors.js';
export type { ValidationIssue } from './errors.js';
export type { Conversation, ConversationStatus, components, operations, paths } from './types.js';
