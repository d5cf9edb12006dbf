/**
 * Every public type, declared here and nowhere else. It imports only
 * `generated/` and openapi-fetch's types, so it is the bottom floor: every
 * other file takes its types from here, and the `chatdash-client/types`
 * subpath built from it has an empty runtime module (a types-only consumer
 * pays nothing).
 */
import type { Middleware } from 'openapi-fetch';
import type { components, paths } from '../generated/chatdash.js';

export type { Middleware } from 'openapi-fetch';

export type { components, operations, paths } from '../generated/chatdash.js';

/** A conversation as `GET /agents/{agentId}/conversations/{conversationId}` returns it. */
export type Conversation = components['schemas']['Conversation'];

/** Who is handling the conversation: the AI agent, nobody yet, or a live human. */
export type ConversationStatus = NonNullable<Conversation['status']>;

/** The subset of `fetch` the client calls: always `fetch(url, init)`. */
export type FetchLike = (input: string, init: RequestInit) => Promise<Response>;

/** One problem found in a response body; `path` is a JSON pointer (`''` is the whole body). */
export interface ValidationIssue {
  path: string;
  message: string;
}

/** How much the client writes to `logger`. */
export type LogLevel = 'off' | 'error' | 'warn' | 'info' | 'debug';

/** Where log lines go: `console` and winston fit as they are; pino and bunyan take the fields first, so wrap them (README). */
export interface Logger {
  error(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  debug(message: string, fields?: Record<string, unknown>): void;
}

/** Why the client waited before the next attempt. */
export type DelaySource = 'retry-after-ms' | 'retry-after' | 'backoff' | 'rate-limit' | 'throttle';

/** One attempt of a call, as `attempts` on errors and results lists it. */
export interface Attempt {
  /** 1-based. */
  attempt: number;
  /** The response status, when a response came. */
  status?: number;
  /** The error class name, when the attempt failed without a usable response. */
  error?: string;
  /** From sending the request to the last byte of the body (or the failure). */
  durationMs: number;
  /**
   * The wait before the next attempt. Attempt 1 has no record before it, so
   * when a shared rate-limit pause held it before it was sent and no retry
   * followed, its record carries that wait instead (a retry's wait replaces it).
   */
  delayMs?: number;
  delaySource?: DelaySource;
}

/** What every error from a request carries besides its message. */
export interface RequestContext {
  /** The full URL called (it never holds the key). */
  url: string;
  /** Every attempt the call made, the failed one last. */
  attempts: Attempt[];
}

/** What `onValidationIssue` gets in `validateResponses: 'report'` mode. */
export interface ValidationReport {
  issues: ValidationIssue[];
  /** The full URL called. */
  url: string;
  status: number;
  requestId: string | undefined;
}

/** The client's retry token bucket (AWS SDK v3 standard mode numbers). */
export interface RetryBudgetOptions {
  /** @default 500 */
  capacity?: number | undefined;
  /** What a retry after an error response or a connection error costs. @default 5 */
  retryCost?: number | undefined;
  /** What a retry after a timeout costs. @default 10 */
  timeoutCost?: number | undefined;
}

/**
 * Where the state that calls share lives: the rate-limit pause, the retry
 * budget, the send rate and the circuit. Made by `createMemoryCoordinator()`
 * (one process) or `createRedisCoordinator()` from `chatdash-client/redis`
 * (a fleet); any other object is refused.
 */
export interface Coordinator {
  /** Stops sharing: what this coordinator made is closed (a caller's Redis connection is left open). */
  close(): Promise<void>;
}

/** `rateLimit`: attempts of the scope are sent at most `perSecond` per second, across every process that shares it. */
export interface RateLimitOptions {
  /** Attempts per second for the whole scope. A number from 0.1 to 100,000. */
  perSecond: number;
  /** Attempts that may go at once after a quiet spell. @default max(1, perSecond / 10) */
  burst?: number | undefined;
  /** `true`: a 429 halves the rate (at most once a second); each quiet second adds perSecond / 20 back. @default false */
  adaptive?: boolean | undefined;
}

/** `circuitBreaker`: after `failureThreshold` consecutive failures the scope's calls fail fast for `openMs`. */
export interface CircuitBreakerOptions {
  /** Consecutive failures (connection errors, timeouts, 5xx but a pausing 503) that open the circuit. @default 20 */
  failureThreshold?: number | undefined;
  /** How long the circuit stays open before one probe is let through. @default 5_000 */
  openMs?: number | undefined;
}

/** Options for `createChatDashClient`. */
export interface ChatDashClientOptions {
  /**
   * The agency API key, sent verbatim as the `Authorization` header.
   * @default process.env.CHATDASH_API_KEY
   */
  apiKey?: string | undefined;
  /**
   * Absolute `https:` URL of the API (`http:` only for loopback hosts). A trailing slash is ignored.
   * @default process.env.CHATDASH_BASE_URL, else 'https://api.chat-dash.com/v1/public'
   */
  baseUrl?: string | undefined;
  /**
   * Milliseconds each attempt may take, from sending the request to the last
   * byte of the body. An integer from 1 to 2_147_483_647.
   * @default 30_000
   */
  timeoutMs?: number | undefined;
  /**
   * How many times a failed attempt is retried (connection errors, 408, 409,
   * 429, 5xx). An integer from 0 to 10.
   * @default 2
   */
  maxRetries?: number | undefined;
  /**
   * Any WHATWG-compatible fetch, e.g. `createUndiciFetch()` from `chatdash-client/undici`.
   * @default globalThis.fetch
   */
  fetch?: FetchLike | undefined;
  /**
   * Extra headers sent on every request. They cannot replace `Authorization`.
   * @default no extra headers
   */
  headers?: Record<string, string> | undefined;
  /**
   * `true`: every 2xx body is checked against the spec's `Conversation`
   * schema and a mismatch rejects. `'report'`: checked the same way, but a
   * mismatch only calls `onValidationIssue` and logs a warning.
   * @default false
   */
  validateResponses?: boolean | 'report' | undefined;
  /**
   * Called with every schema mismatch in `validateResponses: 'report'` mode.
   * @default none
   */
  onValidationIssue?: ((report: ValidationReport) => void) | undefined;
  /**
   * The largest decoded body (bytes, after `Content-Encoding`) a 2xx
   * response may have. An integer from 1 to 2^31-1.
   * @default 10_485_760 (10 MiB)
   */
  maxResponseBytes?: number | undefined;
  /**
   * How much to log.
   * @default process.env.CHATDASH_LOG, else 'warn'
   */
  logLevel?: LogLevel | undefined;
  /**
   * Where to log.
   * @default console
   */
  logger?: Logger | undefined;
  /**
   * `false` makes no OpenTelemetry span (spans are made only when
   * `@opentelemetry/api` is installed).
   * @default true
   */
  tracing?: boolean | undefined;
  /**
   * `false` records no OpenTelemetry metric. Metrics are recorded only when
   * `@opentelemetry/api` is installed and a `MeterProvider` is registered, through
   * the meter `chatdash-client`: attempt, call and wait durations, retries, and
   * per-scope gauges (circuit, pause, rate, retry budget, Redis sharing).
   * @default true
   */
  metrics?: boolean | undefined;
  /**
   * The retry token bucket shared by every call on this client, or `false`
   * for unlimited retries.
   * @default { capacity: 500, retryCost: 5, timeoutCost: 10 }
   */
  retryBudget?: RetryBudgetOptions | false | undefined;
  /**
   * Milliseconds a whole call may take, retries and waits included.
   * @default none
   */
  deadlineMs?: number | undefined;
  /**
   * `true`: concurrent calls with the same params share one request.
   * @default false
   */
  dedupe?: boolean | undefined;
  /**
   * Where the pause, the retry budget, the rate and the circuit live. Clients
   * with the same coordinator, origin and key share them.
   * @default a new in-process coordinator for this client
   */
  coordinator?: Coordinator | undefined;
  /**
   * The scope's send rate, or `false` for none.
   * @default false
   */
  rateLimit?: RateLimitOptions | false | undefined;
  /**
   * The scope's circuit breaker, or `false` for none.
   * @default false
   */
  circuitBreaker?: CircuitBreakerOptions | false | undefined;
  /**
   * openapi-fetch middleware, run on every attempt (a retry is seen) in
   * openapi-fetch's order.
   * @default none
   */
  middleware?: Middleware[] | undefined;
  /**
   * Allow creating a client in a browser-like runtime. The agency key is a server
   * secret: anyone who can open the page can read it.
   * @default false
   */
  dangerouslyAllowBrowser?: boolean | undefined;
}

/** The spec's operation: `GET /agents/{agentId}/conversations/{conversationId}`. */
export type GetConversationOperation =
  paths['/agents/{agentId}/conversations/{conversationId}']['get'];

/** Optional properties also take `undefined`; required ones stay required. */
type AllowUndefined<T> = {
  [K in keyof T]: undefined extends Partial<Pick<T, K>>[K] & T[K] ? T[K] | undefined : T[K];
};

/**
 * What `getConversation` fetches: the operation's path and query parameters,
 * from the spec. `agentId` and `conversationId`: any non-empty string but `.`
 * and `..`, sent as one path segment. `isPlatformId: true`: `conversationId`
 * is the platform's ID; absent, no query is sent (the server assumes `false`).
 */
export type GetConversationParams = GetConversationOperation['parameters']['path'] &
  AllowUndefined<NonNullable<GetConversationOperation['parameters']['query']>>;

/** Per-call overrides. */
export interface RequestOptions {
  /** Aborting it rejects the call with `APIUserAbortError`, at any moment. */
  signal?: AbortSignal | undefined;
  /** Overrides the client's `timeoutMs` for this call. */
  timeoutMs?: number | undefined;
  /** Overrides the client's `maxRetries` for this call. */
  maxRetries?: number | undefined;
  /** Overrides the client's `maxResponseBytes` for this call. */
  maxResponseBytes?: number | undefined;
  /** Overrides the client's `deadlineMs` for this call. */
  deadlineMs?: number | undefined;
}

/** Options for `getConversations`. */
export interface BulkOptions extends RequestOptions {
  /**
   * How many calls run at once. An integer from 1 to 64.
   * @default 8
   */
  concurrency?: number | undefined;
}

/** One item of `getConversations`: the data or the error, with the params it was for. */
export type BulkResult =
  | { params: GetConversationParams; data: Conversation; error?: undefined }
  | { params: GetConversationParams; error: Error; data?: undefined };

/** `getConversationWithResponse`'s result. */
export interface ConversationWithResponse {
  data: Conversation;
  /** The response; its body has been read already. */
  response: Response;
  /** The `x-request-id` response header. */
  requestId: string | undefined;
  /** Every attempt the call made. */
  attempts: Attempt[];
}

export interface ChatDashClient {
  /** The API base URL this client calls (never includes the key). */
  readonly baseUrl: string;
  readonly timeoutMs: number;
  readonly maxRetries: number;
  /** Fetches one conversation. Rejects with a `ChatDashError` subclass; never throws synchronously. Bound. */
  getConversation(params: GetConversationParams, options?: RequestOptions): Promise<Conversation>;
  /** The same, with the raw `Response` (body already read), the `x-request-id` header and the attempts. */
  getConversationWithResponse(
    params: GetConversationParams,
    options?: RequestOptions,
  ): Promise<ConversationWithResponse>;
  /**
   * Fetches many conversations, `concurrency` at a time, yielding one item per
   * input in input order; a failure is an item, not a rejection. Leaving the
   * loop early aborts what is in flight and stops reading `params`.
   */
  getConversations(
    params: Iterable<GetConversationParams> | AsyncIterable<GetConversationParams>,
    options?: BulkOptions,
  ): AsyncIterable<BulkResult>;
}
