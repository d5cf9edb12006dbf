/**
 * The facade: one endpoint over openapi-fetch, with auth, typed errors,
 * retries, per-attempt timeouts, cancellation and safe path encoding.
 */
import createClient, { type Client } from 'openapi-fetch';
import type { paths } from '../generated/chatdash.js';
import {
  APIConnectionError,
  APIConnectionTimeoutError,
  APIError,
  ChatDashError,
  ResponseValidationError,
  type ValidationIssue,
} from './errors.js';
import { abortError, isRetryable, retryDelayMs, sleep } from './retry.js';
import type { Conversation } from './types.js';
import { VERSION } from './version.js';

export const DEFAULT_BASE_URL = 'https://api.chat-dash.com/v1/public';
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
   * @default {}
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

/** The subset of `fetch` the client calls: always `fetch(url, init)`. */
export type FetchLike = (input: string, init: RequestInit) => Promise<Response>;

/** Creates a client. Throws `ChatDashError` at once for invalid options. */
export function createChatDashClient(options: ChatDashClientOptions = {}): ChatDashClient {
  return new ChatDashClientImpl(options);
}

const CLIENT_OPTIONS = new Set<string>([
  'apiKey',
  'baseUrl',
  'timeoutMs',
  'maxRetries',
  'fetch',
  'headers',
  'validateResponses',
  'dangerouslyAllowBrowser',
]);
const PARAMS = new Set<string>(['agentId', 'conversationId', 'isPlatformId']);
const REQUEST_OPTIONS = new Set<string>(['signal', 'timeoutMs', 'maxRetries']);

class ChatDashClientImpl implements ChatDashClient {
  readonly baseUrl: string;
  readonly timeoutMs: number;
  readonly maxRetries: number;
  // Private fields: util.inspect and JSON.stringify cannot show them (openai-node's
  // public `apiKey` field shows up in every logged client).
  readonly #apiKey: string;
  readonly #fetch: FetchLike;
  readonly #api: Client<paths>;
  readonly #validate: boolean;

  constructor(options: ChatDashClientOptions) {
    if (typeof options !== 'object' || options === null) {
      throw new ChatDashError('createChatDashClient(options): options must be an object');
    }
    rejectUnknown(options, CLIENT_OPTIONS, 'createChatDashClient(options)');
    const {
      apiKey = readEnv('CHATDASH_API_KEY'),
      baseUrl = readEnv('CHATDASH_BASE_URL') ?? DEFAULT_BASE_URL,
      timeoutMs = 30_000,
      maxRetries = 2,
      fetch = globalThis.fetch,
      headers = {},
      validateResponses = false,
      dangerouslyAllowBrowser = false,
    } = options;

    if (isBrowserLike() && dangerouslyAllowBrowser !== true) {
      throw new ChatDashError(
        'createChatDashClient: refusing to run in a browser-like runtime, where the agency API key ' +
          'would be exposed to anyone who opens the page. Call ChatDash from your server, or pass ' +
          '`dangerouslyAllowBrowser: true` if you understand the risk.',
      );
    }
    this.#apiKey = checkApiKey(apiKey);
    this.baseUrl = checkBaseUrl(baseUrl);
    this.timeoutMs = checkTimeout(timeoutMs, 'timeoutMs');
    this.maxRetries = checkRetries(maxRetries, 'maxRetries');
    if (typeof fetch !== 'function') {
      throw new ChatDashError(
        'createChatDashClient: `fetch` must be a function (no global fetch found)',
      );
    }
    if (typeof validateResponses !== 'boolean') {
      throw new ChatDashError('createChatDashClient: `validateResponses` must be a boolean');
    }
    this.#fetch = fetch;
    this.#validate = validateResponses;
    this.#api = createClient<paths>({
      baseUrl: this.baseUrl,
      headers: { Accept: 'application/json', 'User-Agent': USER_AGENT, ...checkHeaders(headers) },
      // The key must never reach another origin: a 3xx is an APIError, not followed.
      redirect: 'manual',
      // openapi-fetch builds a Request and hands it to fetch, which re-parses it.
      // A plain holder of (url, init) skips that work; `fetch` is then called as fetch(url, init).
      Request: PreparedRequest as unknown as typeof Request,
    });
  }

  async getConversation(
    params: GetConversationParams,
    options?: RequestOptions,
  ): Promise<Conversation> {
    return (await this.getConversationWithResponse(params, options)).data;
  }

  async getConversationWithResponse(params: GetConversationParams, options: RequestOptions = {}) {
    const { agentId, conversationId, isPlatformId } = checkParams(params);
    const { signal, timeoutMs, maxRetries } = checkRequestOptions(options, this);
    let target = `GET ${ENDPOINT}`;
    const fetch = this.#fetch;
    // Note: a per-call transport records the URL openapi-fetch built, for messages.
    const transport = (request: PreparedRequest) => {
      target = `GET ${request.url.slice(this.baseUrl.length)}`;
      return fetch(request.url, request.init);
    };
    const requestParams = {
      path: { agentId, conversationId },
      ...(isPlatformId === undefined ? {} : { query: { isPlatformId } }),
      header: { Authorization: this.#apiKey },
    };
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
        return await this.#attempt(send, signal, timeoutMs, () => target);
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
    return this.#settle(result, target());
  }

  /** The one place where openapi-fetch's `{ data, error, response }` becomes a value or a throw. */
  async #settle({ data, error, response }: FetchResult, target: string): Promise<Settled> {
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
    if (this.#validate) {
      const issues = (await import('./validate.js')).validateConversation(body);
      if (issues.length > 0) throw this.#invalid(issues, body, response, target);
    }
    return {
      data: body as Conversation,
      response,
      requestId: response.headers.get('x-request-id') ?? undefined,
    };
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

function readEnv(name: string): string | undefined {
  const value = typeof process === 'object' ? process.env?.[name] : undefined;
  return value === '' ? undefined : value;
}

function isBrowserLike(): boolean {
  return (
    typeof (globalThis as { window?: unknown }).window !== 'undefined' &&
    typeof (globalThis as { document?: unknown }).document !== 'undefined'
  );
}

function rejectUnknown(object: object, known: Set<string>, where: string): void {
  for (const key of Object.keys(object)) {
    if (!known.has(key)) {
      throw new ChatDashError(
        `${where}: unknown option \`${key}\` (known: ${[...known].join(', ')})`,
      );
    }
  }
}

// Header values: visible ASCII with inner spaces; no control characters and no
// surrounding whitespace. Checked here because Node's fetch quotes an invalid
// value in its error message, and that value would be the key.
const HEADER_VALUE = /^[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?$/;
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

function checkApiKey(apiKey: unknown): string {
  if (apiKey === undefined || apiKey === null || apiKey === '') {
    throw new ChatDashError(
      'createChatDashClient: no API key. Set the CHATDASH_API_KEY environment variable or pass `apiKey`.',
    );
  }
  if (typeof apiKey !== 'string') {
    throw new ChatDashError(
      `createChatDashClient: \`apiKey\` must be a string, got ${typeof apiKey}`,
    );
  }
  if (!HEADER_VALUE.test(apiKey)) {
    // Never echo the value: it is a secret, and a malformed one is usually a real key plus junk.
    throw new ChatDashError(
      'createChatDashClient: `apiKey` (or CHATDASH_API_KEY) is not a valid HTTP header value: it has ' +
        'leading or trailing whitespace, a control character (CR, LF, NUL, ...) or a non-ASCII character',
    );
  }
  return apiKey;
}

function checkBaseUrl(baseUrl: unknown): string {
  if (typeof baseUrl !== 'string' || baseUrl === '') {
    throw new ChatDashError(
      'createChatDashClient: `baseUrl` (or CHATDASH_BASE_URL) must be a non-empty string',
    );
  }
  let url: URL;
  try {
    url = new URL(baseUrl);
  } catch {
    throw new ChatDashError(
      `createChatDashClient: \`baseUrl\` must be an absolute URL, got ${JSON.stringify(baseUrl)}`,
    );
  }
  const where = `createChatDashClient: \`baseUrl\` ${JSON.stringify(baseUrl)}`;
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new ChatDashError(`${where} must use https: (got ${url.protocol})`);
  }
  if (url.protocol === 'http:' && !isLoopback(url.hostname)) {
    throw new ChatDashError(
      `${where} must use https:; plain http: is allowed only for localhost, 127.0.0.0/8 and [::1]`,
    );
  }
  if (url.username || url.password) {
    throw new ChatDashError('createChatDashClient: `baseUrl` must not contain credentials');
  }
  if (url.search || url.hash) {
    throw new ChatDashError(`${where} must not have a query or fragment`);
  }
  return url.href.replace(/\/+$/, '');
}

function isLoopback(hostname: string): boolean {
  return (
    hostname === 'localhost' ||
    hostname === '[::1]' ||
    /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname)
  );
}

function checkHeaders(headers: unknown): Record<string, string> {
  if (typeof headers !== 'object' || headers === null || Array.isArray(headers)) {
    throw new ChatDashError(
      'createChatDashClient: `headers` must be an object of header names to strings',
    );
  }
  const checked: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (!HEADER_NAME.test(name)) {
      throw new ChatDashError(
        `createChatDashClient: \`headers\` has an invalid header name ${JSON.stringify(name)}`,
      );
    }
    if (typeof value !== 'string' || (value !== '' && !HEADER_VALUE.test(value))) {
      throw new ChatDashError(
        `createChatDashClient: \`headers.${name}\` is not a valid header value`,
      );
    }
    // The key always goes out as Authorization: an extra header cannot replace it.
    if (name.toLowerCase() !== 'authorization') checked[name] = value;
  }
  return checked;
}

function checkTimeout(value: unknown, name: string): number {
  // setTimeout treats anything above 2^31-1 ms as 1 ms.
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0 || value > 2_147_483_647) {
    throw new ChatDashError(
      `\`${name}\` must be a positive number of milliseconds, got ${String(value)}`,
    );
  }
  return value;
}

function checkRetries(value: unknown, name: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new ChatDashError(`\`${name}\` must be a whole number >= 0, got ${String(value)}`);
  }
  return value;
}

function checkParams(params: unknown): Required<
  Pick<GetConversationParams, 'agentId' | 'conversationId'>
> & {
  isPlatformId: boolean | undefined;
} {
  if (typeof params !== 'object' || params === null) {
    throw new ChatDashError(
      'getConversation(params): params must be an object with agentId and conversationId',
    );
  }
  rejectUnknown(params, PARAMS, 'getConversation(params)');
  const { agentId, conversationId, isPlatformId } = params as Record<string, unknown>;
  const ids = {
    agentId: checkId(agentId, 'agentId'),
    conversationId: checkId(conversationId, 'conversationId'),
  };
  if (isPlatformId !== undefined && typeof isPlatformId !== 'boolean') {
    throw new ChatDashError(
      `getConversation: \`isPlatformId\` must be a boolean or absent, got ${typeof isPlatformId}`,
    );
  }
  return { ...ids, isPlatformId };
}

function checkId(value: unknown, name: string): string {
  if (typeof value !== 'string' || value === '') {
    throw new ChatDashError(
      `getConversation: \`${name}\` must be a non-empty string, got ${describeValue(value)}`,
    );
  }
  // The URL parser resolves `.` and `..` as path segments even when they stand
  // alone between slashes: `agentId: '..'` would call /conversations/{id}.
  if (value === '.' || value === '..') {
    throw new ChatDashError(
      `getConversation: \`${name}\` must not be "${value}" (it would change the request path)`,
    );
  }
  if (!value.isWellFormed()) {
    throw new ChatDashError(
      `getConversation: \`${name}\` contains a lone surrogate and cannot be URL-encoded`,
    );
  }
  return value;
}

function describeValue(value: unknown): string {
  return value === '' ? 'an empty string' : value === null ? 'null' : typeof value;
}

function checkRequestOptions(
  options: unknown,
  client: ChatDashClient,
): { signal: AbortSignal | undefined; timeoutMs: number; maxRetries: number } {
  if (typeof options !== 'object' || options === null) {
    throw new ChatDashError('getConversation(params, options): options must be an object');
  }
  rejectUnknown(options, REQUEST_OPTIONS, 'getConversation(params, options)');
  const {
    signal,
    timeoutMs = client.timeoutMs,
    maxRetries = client.maxRetries,
  } = options as RequestOptions;
  if (signal !== undefined && !isAbortSignal(signal)) {
    throw new ChatDashError('getConversation: `signal` must be an AbortSignal');
  }
  return {
    signal,
    timeoutMs: checkTimeout(timeoutMs, 'timeoutMs'),
    maxRetries: checkRetries(maxRetries, 'maxRetries'),
  };
}

// Duck-typed: a signal from another realm or polyfill is not `instanceof AbortSignal`.
function isAbortSignal(value: unknown): value is AbortSignal {
  const v = value as AbortSignal | null;
  return (
    typeof v === 'object' &&
    v !== null &&
    typeof v.aborted === 'boolean' &&
    typeof v.addEventListener === 'function'
  );
}

function truncate(body: unknown): unknown {
  return typeof body === 'string' && body.length > BODY_TEXT_LIMIT
    ? body.slice(0, BODY_TEXT_LIMIT)
    : body;
}
