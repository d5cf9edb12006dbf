export { createChatDashClient } from './client.js';
export { createMemoryCoordinator } from './coordination/memory.js';
export { DEFAULT_BASE_URL } from './options.js';
export { VERSION } from './version.js';
export {
  APIConnectionError,
  APIConnectionTimeoutError,
  APIError,
  APIUserAbortError,
  AuthenticationError,
  BadRequestError,
  ChatDashError,
  CircuitOpenError,
  ConflictError,
  InternalServerError,
  NotFoundError,
  PermissionDeniedError,
  RateLimitError,
  ResponseValidationError,
  UnprocessableEntityError,
} from './errors.js';
// Every type, from the one place the types-only subpath is built from.
export type * from './types.js';
