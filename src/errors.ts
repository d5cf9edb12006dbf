/**
 * Every error the client rejects with. One file, one factory (`APIError.from`)
 * choosing the status subclass, as in openai-node's `core/error.ts`.
 */
import { escapeControl } from './redact.js';
import type { RequestContext, ValidationIssue } from './types.js';

// Note: a service can load this package twice, once as ESM and once as CJS (a
// CommonJS dependency requires it): the dual-package hazard. Each copy has its
// own classes, so `instanceof` checks a brand from the global symbol registry,
// which both copies share, instead of the prototype chain.
const KINDS = Symbol.for('chatdash-client.error.kinds');
const KIND = Symbol.for('chatdash-client.error.kind');
type Branded = { readonly [KINDS]?: readonly string[] };

/** The base class: also thrown as-is for invalid options or params, before any request. */
export class ChatDashError extends Error {
  // The last kind branded on the constructed class's prototype: a user's
  // subclass has its parent's, unless it declares a `name` of its own. A field,
  // not a constructor assignment, so `name` stays the first own enumerable key.
  // Subclasses below only `declare` their name's type; brand() at the end of
  // this file checks it against the key the class is listed under.
  override name: string = (this as Branded)[KINDS]!.at(-1)!;
  /** The full URL called; `undefined` for errors raised before a request is built. */
  url: string | undefined;
  /** Every attempt the call made; empty for errors raised before any request. */
  attempts: RequestContext['attempts'] = [];

  constructor(message?: string, options?: ErrorOptions & Partial<RequestContext>) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.url = options?.url;
    if (options?.attempts) this.attempts = options.attempts;
  }

  static override [Symbol.hasInstance](value: unknown): boolean {
    const kinds = (value as { [KINDS]?: unknown } | null | undefined)?.[KINDS];
    // A class without a brand of its own (a user's subclass) falls back to the prototype chain.
    if (!Array.isArray(kinds) || !Object.hasOwn(this, KIND))
      return Function.prototype[Symbol.hasInstance].call(this, value);
    return kinds.includes((this as { [KIND]?: string })[KIND]);
  }

  /** A summary for `JSON.stringify(error)`; the body is left out (it can be 50,000 levels deep). */
  toJSON(): Record<string, unknown> {
    const { name, message, url, attempts } = this;
    const { status, requestId, issues, retryAfterMs } = this as Partial<
      APIError & ResponseValidationError & CircuitOpenError
    >;
    return { name, message, url, status, requestId, issues, retryAfterMs, attempts };
  }
}

/** The server answered with a non-2xx status. */
export class APIError extends ChatDashError {
  declare name: string;
  /** The HTTP status code. */
  readonly status: number;
  /** The response headers (the key, if echoed, replaced by `[redacted]`). */
  readonly headers: Headers;
  /** The response body: parsed JSON, or text cut to 1,000 characters. */
  readonly body: unknown;
  /** The `x-request-id` response header, if the server sent one. */
  readonly requestId: string | undefined;

  constructor(
    status: number,
    headers: Headers,
    body: unknown,
    message: string,
    context?: RequestContext,
  ) {
    super(message, context);
    this.status = status;
    this.headers = headers;
    this.body = body;
    this.requestId = headers.get('x-request-id') ?? undefined;
  }

  /**
   * Picks the subclass for `status`; any status without one (3xx included) is
   * a plain APIError. `statusText` is the server's reason phrase, already
   * redacted of the key: its control characters are escaped and it is cut
   * to 200 characters.
   */
  static from(
    status: number,
    statusText: string,
    headers: Headers,
    body: unknown,
    context: RequestContext,
  ): APIError {
    const reason = escapeControl(statusText.slice(0, MAX_REASON)) || REASONS[status] || 'Error';
    const message = `${status} ${reason}: GET ${context.url}`;
    const Class = status >= 500 ? InternalServerError : (BY_STATUS[status] ?? APIError);
    return new Class(status, headers, body, message, context);
  }
}

/** 400 */
export class BadRequestError extends APIError {
  declare name: 'BadRequestError';
}
/** 401: the key is missing or wrong. */
export class AuthenticationError extends APIError {
  declare name: 'AuthenticationError';
}
/** 403 */
export class PermissionDeniedError extends APIError {
  declare name: 'PermissionDeniedError';
}
/** 404: no such agent or conversation (or a `baseUrl` with a wrong path: the message names the URL). */
export class NotFoundError extends APIError {
  declare name: 'NotFoundError';
}
/** 409 (retried) */
export class ConflictError extends APIError {
  declare name: 'ConflictError';
}
/** 422: the request did not match the spec (e.g. no `Authorization` header). */
export class UnprocessableEntityError extends APIError {
  declare name: 'UnprocessableEntityError';
}
/** 429 (retried, honouring `Retry-After`) */
export class RateLimitError extends APIError {
  declare name: 'RateLimitError';
}
/** Any status from 500 up (retried). */
export class InternalServerError extends APIError {
  declare name: 'InternalServerError';
}

const BY_STATUS: Partial<Record<number, typeof APIError>> = {
  400: BadRequestError,
  401: AuthenticationError,
  403: PermissionDeniedError,
  404: NotFoundError,
  409: ConflictError,
  422: UnprocessableEntityError,
  429: RateLimitError,
};

// A reason phrase is a few words; anything longer is a server talking, not a status.
const MAX_REASON = 200;

// Note: HTTP/2 and some proxies send no reason phrase; these keep messages readable.
const REASONS: Partial<Record<number, string>> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  408: 'Request Timeout',
  409: 'Conflict',
  421: 'Misdirected Request',
  422: 'Unprocessable Entity',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

/** No complete response: refused, reset, DNS failure, truncated body. The transport's error (sanitized) is `cause`. */
export class APIConnectionError extends ChatDashError {
  declare name: string;
}

/** An attempt exceeded `timeoutMs` (waiting for headers or reading the body), or the call its `deadlineMs`. */
export class APIConnectionTimeoutError extends APIConnectionError {
  declare name: 'APIConnectionTimeoutError';
}

/** The caller's `signal` aborted, before, during or between attempts. */
export class APIUserAbortError extends ChatDashError {
  declare name: 'APIUserAbortError';
}

/** A 2xx body that is not a JSON object, is over `maxResponseBytes`, or (with `validateResponses`) does not match the spec. */
export class ResponseValidationError extends ChatDashError {
  declare name: 'ResponseValidationError';
  /** Every problem found, e.g. `{ path: '/status', message: 'must be one of "ai", "pending", "human"' }`. */
  readonly issues: ValidationIssue[];
  /** The body as received: parsed JSON, or text cut to 1,000 characters when it is not JSON. */
  readonly body: unknown;
  /** The HTTP status of the response (2xx). */
  readonly status: number;
  /** The response headers. */
  readonly headers: Headers;
  /** The `x-request-id` response header, if the server sent one. */
  readonly requestId: string | undefined;

  constructor(
    issues: ValidationIssue[],
    body: unknown,
    status: number,
    headers: Headers,
    context: RequestContext,
  ) {
    const listed = issues.map((i) => `${i.path || '(body)'} ${i.message}`).join('; ');
    super(`${status} response did not match the spec: GET ${context.url}: ${listed}`, context);
    this.issues = issues;
    this.body = body;
    this.status = status;
    this.headers = headers;
    this.requestId = headers.get('x-request-id') ?? undefined;
  }
}

/** The scope's circuit is open (the upstream kept failing): nothing was sent. Retry after `retryAfterMs`, or fall back. */
export class CircuitOpenError extends ChatDashError {
  declare name: 'CircuitOpenError';
  /** Milliseconds until the circuit lets a probe through; a call made then may succeed. */
  readonly retryAfterMs: number;

  constructor(message: string, options: Partial<RequestContext> & { retryAfterMs: number }) {
    const { retryAfterMs, ...context } = options;
    super(message, context);
    this.retryAfterMs = retryAfterMs;
  }
}

/**
 * The key every class is listed under must be the `name` its instances
 * declare; a base class (`name: string`) may have any key.
 */
export type NamedErrorClasses<T> = {
  [K in keyof T]: T[K] extends abstract new (...args: never) => { name: infer N }
    ? string extends N
      ? T[K]
      : abstract new (...args: never) => { name: K }
    : never;
};

/**
 * Gives each class its brand and its name, from the key it is listed under: a
 * bundler renames a class whose body refers to itself (`APIError.name` was
 * `'_APIError'`), and a consumer's minifier renames every class, but keeps
 * object keys. A parent is listed before its children, whose kinds extend its own.
 */
function brand<T extends Record<string, abstract new (...args: never) => ChatDashError>>(
  classes: T & NamedErrorClasses<T>,
): void {
  for (const [name, Class] of Object.entries<{ prototype: object }>(classes)) {
    const parent = Object.getPrototypeOf(Class.prototype) as Branded;
    if (parent !== Error.prototype && !Object.hasOwn(parent, KINDS))
      throw new Error(`${name} is branded before its parent class`);
    Object.defineProperty(Class, 'name', { value: name });
    Object.defineProperty(Class, KIND, { value: name });
    Object.defineProperty(Class.prototype, KINDS, { value: [...(parent[KINDS] ?? []), name] });
  }
}
brand({
  ChatDashError,
  APIError,
  BadRequestError,
  AuthenticationError,
  PermissionDeniedError,
  NotFoundError,
  ConflictError,
  UnprocessableEntityError,
  RateLimitError,
  InternalServerError,
  APIConnectionError,
  APIConnectionTimeoutError,
  APIUserAbortError,
  ResponseValidationError,
  CircuitOpenError,
});
