/**
 * The facade: one endpoint over openapi-fetch, with auth, typed errors,
 * retries, per-attempt timeouts, cancellation and safe path encoding.
 */
import * as openapiFetch from 'openapi-fetch';
import type { Client } from 'openapi-fetch';
import type { paths } from '../generated/chatdash.js';
import {
  APIConnectionError,
  APIConnectionTimeoutError,
  APIError,
  ResponseValidationError,
  type ValidationIssue,
} from './errors.js';
import { abortError, isRetryable, retryDelayMs, sleep } from './retry.js';
import type { Conversation } from './types.js';
import type { validateConversation as ValidateConversation } from './validate.js';
import { checkParams, checkRequestOptions, resolveOptions } from './options.js';
import { VERSION } from './version.js';

const ENDPOINT = '/agents/{agentId}/conversations/{conversationId}';
const BODY_TEXT_LIMIT = 1_000;

/** Options for {@link createChatDashClient}. */
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
   * Milliseconds each attempt may take, from sending the request to the last byte of the body.
   * @default 30_000
   */
  timeoutMs?: number | undefined;
  /**
   * How many times a failed attempt is retried (connection errors, 408, 409, 429, 5xx).
   * @default 2
   */
  maxRetries?: number | undefined;
  /**
   * Any WHATWG-compatible fetch.
   * @default globalThis.fetch
   */
  fetch?: FetchLike | undefined;
  /**
   * Extra headers sent on every request. They cannot replace `Authorization`.
   * @default no extra headers
   */
  headers?: Record<string, string> | undefined;
  /**
   * Check every 2xx body against the spec's `Conversation` schema.
   * @default false
   */
  validateResponses?: boolean | undefined;
  /**
   * Allow creating a client in a browser-like runtime. The agency key is a server
   * secret: anyone who can open the page can read it.
   * @default false
   */
  dangerouslyAllowBrowser?: boolean | undefined;
}

/** What {@link ChatDashClient.getConversation} fetches. */
export interface GetConversationParams {
  /** The ID of the agent. Any non-empty string but `.` and `..`; sent as one path segment. */
  agentId: string;
  /** The ID of the conversation (or its platform ID, with `isPlatformId: true`). */
  conversationId: string;
  /** `true`: `conversationId` is the platform's ID. Absent: no query is sent (the server assumes `false`). */
  isPlatformId?: boolean | undefined;
}

/** Per-call overrides. */
export interface RequestOptions {
  /** Aborting it rejects the call with `APIUserAbortError`, at any moment. */
  signal?: AbortSignal | undefined;
  /** Overrides the client's `timeoutMs` for this call. */
  timeoutMs?: number | undefined;
  /** Overrides the client's `maxRetries` for this call. */
  maxRetries?: number | undefined;
}

export interface ChatDashClient {
  /** The API base URL this client calls (never includes the key). */
  readonly baseUrl: string;
  readonly timeoutMs: number;
  readonly maxRetries: number;
  /** Fetches one conversation. Rejects with a `ChatDashError` subclass; never throws synchronously. */
  getConversation(params: GetConversationParams, options?: RequestOptions): Promise<Conversation>;
  /** The same, with the raw `Response` (body already read) and the `x-request-id` header. */
  getConversationWithResponse(
    params: GetConversationParams,
    options?: RequestOptions,
  ): Promise<{ data: Conversation; response: Response; requestId: string | undefined }>;
}

// Note: in our CommonJS build, esbuild's Node-style interop makes `default` the
// whole CJS exports object of openapi-fetch, whose own `default` is the function.
const createClient = ((openapiFetch.default as { default?: unknown }).default ??
  openapiFetch.default) as typeof openapiFetch.default;

// Loaded on first use by a validating client, then reused (a fresh import() per call costs ~20 % CPU).
let validator: Promise<{ validateConversation: typeof ValidateConversation }> | undefined;

/** The subset of `fetch` the client calls: always `fetch(url, init)`. */
export type FetchLike = (input: string, init: RequestInit) => Promise<Response>;

/** Creates a client. Throws `ChatDashError` at once for invalid options. */
export function createChatDashClient(options: ChatDashClientOptions = {}): ChatDashClient {
  return new ChatDashClientImpl(options);
}

class ChatDashClientImpl implements ChatDashClient {
  readonly baseUrl: string;
  readonly timeoutMs: number;
  readonly maxRetries: number;
  // Private fields: util.inspect and JSON.stringify cannot show them (openai-node's
  // public `apiKey` field shows up in every logged client).
  readonly #apiKey: string;
  readonly #headers: Record<string, string>;
  readonly #fetch: FetchLike;
  readonly #api: Client<paths>;
  readonly #validate: boolean;

  constructor(options: ChatDashClientOptions) {
    const { apiKey, baseUrl, timeoutMs, maxRetries, fetch, headers, validate } =
      resolveOptions(options);
    this.#apiKey = apiKey;
    // One plain object for every request: Node's fetch validates it once per call,
    // where openapi-fetch's header merging builds and validates a Headers object first.
    this.#headers = {
      Accept: 'application/json',
      'User-Agent': USER_AGENT,
      ...headers,
      Authorization: apiKey,
    };
    this.baseUrl = baseUrl;
    this.timeoutMs = timeoutMs;
    this.maxRetries = maxRetries;
    this.#fetch = fetch;
    this.#validate = validate;
    this.#api = createClient<paths>({
      baseUrl,
      // The key must never reach another origin: a 3xx is an APIError, not followed.
      redirect: 'manual',
      // openapi-fetch builds a Request and hands it to fetch, which re-parses it.
      // A plain holder of (url, init) skips that work; `fetch` is then called as fetch(url, init).
      Request: PreparedRequest as unknown as typeof Request,
      // Built once here instead of on every call.
      querySerializer: openapiFetch.createQuerySerializer(),
    });
  }

  getConversation(params: GetConversationParams, options?: RequestOptions): Promise<Conversation> {
    return this.#request(params, options, false).then((result) => result.data);
  }

  getConversationWithResponse(
    params: GetConversationParams,
    options?: RequestOptions,
  ): Promise<Settled> {
    return this.#request(params, options, true);
  }

  async #request(
    params: GetConversationParams,
    options: RequestOptions = {},
    withResponse: boolean,
  ): Promise<Settled> {
    const { agentId, conversationId, isPlatformId } = checkParams(params);
    const { signal, timeoutMs, maxRetries } = checkRequestOptions(options, this);
    let target = `GET ${ENDPOINT}`;
    const fetch = this.#fetch;
    const headers = this.#headers;
    // Note: a per-call transport records the URL openapi-fetch built, for messages.
    const transport = (request: PreparedRequest) => {
      target = `GET ${request.url.slice(this.baseUrl.length)}`;
      request.init.headers = { ...headers }; // a copy: a custom fetch may mutate it
      return fetch(request.url, request.init);
    };
    // Path and query go through openapi-fetch; the `Authorization` header
    // parameter is in `headers`, added by the transport.
    const requestParams = {
      path: { agentId, conversationId },
      ...(isPlatformId === undefined ? {} : { query: { isPlatformId } }),
    } as { path: { agentId: string; conversationId: string }; header: { Authorization: string } };
    const send = (attemptSignal: AbortSignal) =>
      this.#api.GET(ENDPOINT, {
        params: requestParams,
        // Read the body inside the call, so the per-attempt timeout covers it; parse it in #settle.
        parseAs: 'text',
        signal: attemptSignal,
        fetch: transport as unknown as typeof globalThis.fetch,
      });

    for (let attempt = 0; ; attempt++) {
      try {
        if (signal?.aborted) throw abortError(target, signal);
        return await this.#attempt(send, signal, timeoutMs, () => target, withResponse);
      } catch (error) {
        if (attempt >= maxRetries || !isRetryable(error)) throw error;
        await sleep(
          retryDelayMs(attempt + 1, (error as { headers?: Headers }).headers),
          signal,
          target,
        );
      }
    }
  }

  async #attempt(
    send: (signal: AbortSignal) => Promise<FetchResult>,
    signal: AbortSignal | undefined,
    timeoutMs: number,
    target: () => string,
    withResponse: boolean,
  ): Promise<Settled> {
    const controller = new AbortController();
    const onAbort = () => controller.abort(signal?.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, timeoutMs);

    let result: FetchResult;
    try {
      result = await send(controller.signal);
    } catch (cause) {
      if (signal?.aborted) throw abortError(target(), signal);
      if (timedOut) {
        throw new APIConnectionTimeoutError(
          `Request timed out after ${timeoutMs} ms: ${target()}`,
          { cause },
        );
      }
      throw new APIConnectionError(`Connection error: ${target()}: ${this.#describe(cause)}`, {
        cause,
      });
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    }
    return this.#settle(result, target(), withResponse);
  }

  /** The one place where openapi-fetch's `{ data, error, response }` becomes a value or a throw. */
  #settle(
    { data, error, response }: FetchResult,
    target: string,
    withResponse: boolean,
  ): Settled | Promise<Settled> {
    const { status } = response;
    if (!response.ok) {
      const [body, headers] = this.#redact(truncate(error), response.headers);
      throw APIError.from(status, response.statusText, headers, body, target);
    }
    const text = typeof data === 'string' ? data : '';
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      const issue = text === '' ? 'is empty, expected JSON' : 'is not valid JSON';
      throw this.#invalid([{ path: '', message: issue }], truncate(text), response, target);
    }
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      const kind = body === null ? 'null' : Array.isArray(body) ? 'array' : typeof body;
      throw this.#invalid(
        [{ path: '', message: `must be a JSON object, got ${kind}` }],
        body,
        response,
        target,
      );
    }
    const settled = {
      data: body as Conversation,
      response,
      // Only getConversationWithResponse shows it: skip the header lookup otherwise.
      requestId: withResponse ? (response.headers.get('x-request-id') ?? undefined) : undefined,
    };
    if (!this.#validate) return settled;
    return (validator ??= import('./validate.js')).then(({ validateConversation }) => {
      const issues = validateConversation(body);
      if (issues.length > 0) throw this.#invalid(issues, body, response, target);
      return settled;
    });
  }

  #invalid(issues: ValidationIssue[], body: unknown, response: Response, target: string) {
    const [safeBody, headers] = this.#redact(body, response.headers);
    return new ResponseValidationError(issues, safeBody, response.status, headers, target);
  }

  /**
   * A server that echoes the key ("invalid key: ck_...") must not put it into
   * an error that gets logged: replace it by value in the body and headers.
   */
  #redact(body: unknown, headers: Headers): [unknown, Headers] {
    const key = this.#apiKey;
    const leaks =
      (JSON.stringify(body) ?? '').includes(key) ||
      [...headers.values()].some((v) => v.includes(key));
    if (!leaks) return [body, headers];
    const clean = (value: unknown): unknown =>
      typeof value === 'string'
        ? value.replaceAll(key, '[redacted]')
        : Array.isArray(value)
          ? value.map(clean)
          : typeof value === 'object' && value !== null
            ? Object.fromEntries(
                Object.entries(value).map(([k, v]) => [clean(k) as string, clean(v)]),
              )
            : value;
    return [
      clean(body),
      new Headers([...headers].map(([name, value]) => [name, value.replaceAll(key, '[redacted]')])),
    ];
  }

  /** A short reason from a transport error, e.g. `ECONNREFUSED`, redacted of the key by value. */
  #describe(cause: unknown): string {
    const inner = (cause as { cause?: { code?: unknown; message?: unknown } } | undefined)?.cause;
    const reason =
      (typeof inner?.code === 'string' && inner.code) ||
      (typeof inner?.message === 'string' && inner.message) ||
      (cause instanceof Error ? cause.message : String(cause));
    return reason.replaceAll(this.#apiKey, '[redacted]');
  }
}

type FetchResult = { data?: unknown; error?: unknown; response: Response };
type Settled = { data: Conversation; response: Response; requestId: string | undefined };

/** openapi-fetch's `Request` stand-in: keeps what fetch(url, init) needs and nothing else. */
class PreparedRequest {
  readonly method: string | undefined;
  constructor(
    readonly url: string,
    readonly init: RequestInit,
  ) {
    this.method = init.method;
  }
}

const USER_AGENT = `chatdash-client/${VERSION}${
  typeof process === 'object' && process.versions?.node ? ` node/${process.versions.node}` : ''
}`;

function truncate(body: unknown): unknown {
  return typeof body === 'string' && body.length > BODY_TEXT_LIMIT
    ? body.slice(0, BODY_TEXT_LIMIT)
    : body;
}
