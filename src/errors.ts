/**
 * Every error the client rejects with. One file, one factory (`APIError.from`)
 * choosing the status subclass, as in openai-node's `core/error.ts`.
 */

/** The base class: also thrown as-is for invalid options or params, before any request. */
export class ChatDashError extends Error {
  override name: string = 'ChatDashError';
}

/** The server answered with a non-2xx status. */
export class APIError extends ChatDashError {
  override name: string = 'APIError';
  /** The HTTP status code. */
  readonly status: number;
  /** The response headers. */
  readonly headers: Headers;
  /** The response body: parsed JSON, or text cut to 1,000 characters. */
  readonly body: unknown;
  /** The `x-request-id` response header, if the server sent one. */
  readonly requestId: string | undefined;

  constructor(status: number, headers: Headers, body: unknown, message: string) {
    super(message);
    this.status = status;
    this.headers = headers;
    this.body = body;
    this.requestId = headers.get('x-request-id') ?? undefined;
  }

  /** Picks the subclass for `status`; any status without one (3xx included) is a plain APIError. */
  static from(
    status: number,
    statusText: string,
    headers: Headers,
    body: unknown,
    target: string,
  ): APIError {
    const reason = statusText || REASONS[status] || 'Error';
    const message = `${status} ${reason}: ${target}`;
    const Class = status >= 500 ? InternalServerError : (BY_STATUS[status] ?? APIError);
    return new Class(status, headers, body, message);
  }
}

/** 400 */
export class BadRequestError extends APIError {
  override name = 'BadRequestError' as const;
}
/** 401: the key is missing or wrong. */
export class AuthenticationError extends APIError {
  override name = 'AuthenticationError' as const;
}
/** 403 */
export class PermissionDeniedError extends APIError {
  override name = 'PermissionDeniedError' as const;
}
/** 404: no such agent or conversation. */
export class NotFoundError extends APIError {
  override name = 'NotFoundError' as const;
}
/** 409 (retried) */
export class ConflictError extends APIError {
  override name = 'ConflictError' as const;
}
/** 422: the request did not match the spec (e.g. no `Authorization` header). */
export class UnprocessableEntityError extends APIError {
  override name = 'UnprocessableEntityError' as const;
}
/** 429 (retried, honouring `Retry-After`) */
export class RateLimitError extends APIError {
  override name = 'RateLimitError' as const;
}
/** Any status from 500 up (retried). */
export class InternalServerError extends APIError {
  override name = 'InternalServerError' as const;
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

// Note: HTTP/2 and some proxies send no reason phrase; these keep messages readable.
const REASONS: Partial<Record<number, string>> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  408: 'Request Timeout',
  409: 'Conflict',
  422: 'Unprocessable Entity',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

/** No complete response: refused, reset, DNS failure, truncated body. The transport's error is `cause`. */
export class APIConnectionError extends ChatDashError {
  override name: string = 'APIConnectionError';
}

/** An attempt exceeded `timeoutMs` (waiting for headers or reading the body). */
export class APIConnectionTimeoutError extends APIConnectionError {
  override name = 'APIConnectionTimeoutError' as const;
}

/** The caller's `signal` aborted, before, during or between attempts. */
export class APIUserAbortError extends ChatDashError {
  override name = 'APIUserAbortError' as const;
}

/** One problem found in a response body; `path` is a JSON pointer (`''` is the whole body). */
export interface ValidationIssue {
  path: string;
  message: string;
}

/** A 2xx body that is not a JSON object or (with `validateResponses`) does not match the spec. */
export class ResponseValidationError extends ChatDashError {
  override name = 'ResponseValidationError' as const;
  /** Every problem found, e.g. `{ path: '/status', message: 'must be equal to one of the allowed values' }`. */
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
    target: string,
  ) {
    const listed = issues.map((i) => `${i.path || '(body)'} ${i.message}`).join('; ');
    super(`${status} response did not match the spec: ${target}: ${listed}`);
    this.issues = issues;
    this.body = body;
    this.status = status;
    this.headers = headers;
    this.requestId = headers.get('x-request-id') ?? undefined;
  }
}
