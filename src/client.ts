/**
 * The facade: the story of one call. Check the inputs, then attempts (each
 * held by the shared rate-limit pause, timed, traced, logged, its body read
 * within bounds), then settle into a value or a typed error. Each policy
 * lives in its own file; this one only calls them in order.
 */
import { createFinalURL, createQuerySerializer, defaultPathSerializer } from 'openapi-fetch';
import type { paths } from '../generated/chatdash.js';
import { ERROR_BODY_LIMIT, readBody, type Body } from './policies/body.js';
import { RetryBudget } from './coordination/budget.js';
import { getConversations } from './policies/bulk.js';
import { Dedupe } from './policies/dedupe.js';
import {
  APIConnectionError,
  APIConnectionTimeoutError,
  APIError,
  APIUserAbortError,
  ResponseValidationError,
  type ChatDashError,
} from './errors.js';
import { ignoreRejection, Log, loggedHeaders } from './telemetry/log.js';
import {
  checkParams,
  checkRequestOptions,
  resolveOptions,
  type CallSettings,
  type Resolved,
} from './options.js';
import { RateLimitGate } from './coordination/pause.js';
import { Redactor } from './telemetry/redact.js';
import { isRetryable, retryDelay, serverDelay, sleep, type Delay } from './policies/retry.js';
import { loadTracing, startCall, type CallSpan } from './telemetry/tracing.js';
import type {
  Attempt,
  BulkOptions,
  BulkResult,
  ChatDashClient,
  ChatDashClientOptions,
  Conversation,
  ConversationWithResponse,
  GetConversationParams,
  RequestContext,
  RequestOptions,
  ValidationIssue,
} from './types.js';
import type { validateConversation as ValidateConversation } from './validate.js';
import { VERSION } from './version.js';

// Typed against the spec: a path the spec does not have is a compile error.
const ENDPOINT = '/agents/{agentId}/conversations/{conversationId}' satisfies keyof paths;
const BODY_TEXT_LIMIT = 1_000;
const querySerializer = createQuerySerializer();
// Errors that end a call because its deadline passed; never retried or wrapped again.
const deadlineErrors = new WeakSet<Error>();

// Loaded on first use by a validating client, then reused (a fresh import() per call costs ~20 % CPU).
let validator: Promise<{ validateConversation: typeof ValidateConversation }> | undefined;

/** Creates a client. Throws `ChatDashError` at once for invalid options. */
export function createChatDashClient(options: ChatDashClientOptions = {}): ChatDashClient {
  return new ChatDashClientImpl(options);
}

/** A settled call: what both methods return, plus the text a de-duplicated caller re-parses. */
interface Outcome extends ConversationWithResponse {
  text: string;
}

class ChatDashClientImpl implements ChatDashClient {
  readonly baseUrl: string;
  readonly timeoutMs: number;
  readonly maxRetries: number;
  // Private fields: util.inspect and JSON.stringify cannot show them (openai-node's
  // public `apiKey` field shows up in every logged client).
  readonly #settings: Resolved;
  readonly #headers: Record<string, string>;
  readonly #redactor: Redactor;
  readonly #log: Log;
  readonly #budget: RetryBudget | undefined;
  readonly #gate = new RateLimitGate();
  readonly #dedupe: Dedupe<Outcome> | undefined;

  constructor(options: ChatDashClientOptions) {
    const settings = resolveOptions(options);
    this.#settings = settings;
    // One plain object, copied per attempt: Node's fetch validates it once per call,
    // where openapi-fetch's header merging builds and validates a Headers object first.
    this.#headers = {
      Accept: 'application/json',
      'User-Agent': USER_AGENT,
      ...settings.headers,
      Authorization: settings.apiKey,
    };
    this.#redactor = new Redactor(settings.apiKey);
    this.#log = new Log(settings.logLevel, settings.logger, this.#redactor);
    this.#budget = settings.retryBudget ? new RetryBudget(settings.retryBudget) : undefined;
    this.#dedupe = settings.dedupe ? new Dedupe() : undefined;
    this.baseUrl = settings.baseUrl;
    this.timeoutMs = settings.timeoutMs;
    this.maxRetries = settings.maxRetries;
    if (settings.tracing) void loadTracing();
    // Bound, so `const { getConversation } = client` works.
    this.getConversation = this.getConversation.bind(this);
    this.getConversationWithResponse = this.getConversationWithResponse.bind(this);
    this.getConversations = this.getConversations.bind(this);
  }

  getConversation(params: GetConversationParams, options?: RequestOptions): Promise<Conversation> {
    return this.#call(params, options, 'getConversation').then((outcome) => outcome.data);
  }

  getConversationWithResponse(
    params: GetConversationParams,
    options?: RequestOptions,
  ): Promise<ConversationWithResponse> {
    return this.#call(params, options, 'getConversationWithResponse').then(
      ({ data, response, attempts }) => ({
        data,
        response,
        requestId: response.headers.get('x-request-id') ?? undefined,
        attempts,
      }),
    );
  }

  getConversations(
    params: Iterable<GetConversationParams> | AsyncIterable<GetConversationParams>,
    options: BulkOptions = {},
  ): AsyncIterable<BulkResult> {
    return getConversations(
      params,
      options,
      (item, callOptions) =>
        this.#call(item, callOptions, 'getConversations').then((outcome) => outcome.data),
      (callOptions) => void checkRequestOptions(callOptions, this.#settings, 'getConversations'),
    );
  }

  /** Checks the inputs (rejecting, never throwing), then runs the call, shared when `dedupe` is on. */
  #call(
    params: GetConversationParams,
    options: RequestOptions = {},
    where: string,
  ): Promise<Outcome> {
    let settings: CallSettings;
    let url: string;
    try {
      const { agentId, conversationId, isPlatformId } = checkParams(params, where);
      settings = checkRequestOptions(options, this.#settings, where);
      // Path and query go through openapi-fetch's own serializers and `params`
      // (path segments percent-encoded, isPlatformId only when given).
      url = createFinalURL(ENDPOINT, {
        baseUrl: this.baseUrl,
        params: {
          path: { agentId, conversationId },
          ...(isPlatformId === undefined ? {} : { query: { isPlatformId } }),
        },
        querySerializer,
        pathSerializer: defaultPathSerializer,
      });
    } catch (error) {
      return Promise.reject(error);
    }
    if (!this.#dedupe) return this.#run(url, settings);
    const { signal, ...shared } = settings;
    const key = `${url}\n${JSON.stringify(shared)}`;
    return this.#dedupe
      .run(
        key,
        signal,
        (sharedSignal) => this.#run(url, { ...shared, signal: sharedSignal }),
        () => this.#aborted(url, signal, []),
      )
      .then((outcome) => ({ ...outcome, data: JSON.parse(outcome.text) as Conversation }));
  }

  async #run(url: string, settings: CallSettings): Promise<Outcome> {
    const { signal, deadlineMs } = settings;
    const attempts: Attempt[] = [];
    const deadline = deadlineMs === undefined ? undefined : Date.now() + deadlineMs;
    // The first calls of a process can start before the API has loaded: wait for it
    // then, or they would make no span and send no traceparent. Once loaded, nothing to wait for.
    const loading = this.#settings.tracing ? loadTracing() : undefined;
    if (loading) await loading;
    const span = this.#settings.tracing ? startCall(url) : undefined;
    try {
      for (let n = 1; ; n++) {
        const heldFirst = await this.#holdForPause(url, settings, attempts, deadline);
        if (signal?.aborted) throw this.#aborted(url, signal, attempts);
        try {
          const outcome = await this.#attempt(
            url,
            settings,
            n,
            attempts,
            deadline,
            span,
            heldFirst,
          );
          this.#budget?.refill();
          span?.end(undefined);
          return outcome;
        } catch (caught) {
          const error = caught as ChatDashError;
          const delay = this.#retryDelay(error, n, settings, deadline, url, attempts);
          const waitEnds = Date.now() + delay.ms;
          const last = attempts[n - 1]!;
          last.delayMs = round(delay.ms);
          last.delaySource = delay.source;
          // url and the failed response's request id: what to grep for, and what to quote to ChatDash.
          this.#log.info(`retrying GET ${url} in ${round(delay.ms)} ms: ${error.message}`, {
            url,
            attempt: n + 1,
            delayMs: round(delay.ms),
            delaySource: delay.source,
            reason: error.message,
            requestId: (error as Partial<APIError>).requestId,
          });
          await sleep(delay.ms, signal, () => this.#aborted(url, signal, attempts));
          // Note: a timer can fire up to 1 ms early by Date.now(), the rate-limit gate's
          // clock; the rest of the pause this call waited for is not a hold by another.
          const early = waitEnds - Date.now();
          if (early > 0) await sleep(early, signal, () => this.#aborted(url, signal, attempts));
        }
      }
    } catch (error) {
      span?.end(error as Error);
      throw error;
    }
  }

  /** The wait before retry `n`, or a throw: out of retries, not retryable, past the deadline, out of budget. */
  #retryDelay(
    error: ChatDashError,
    n: number,
    { maxRetries, deadlineMs }: CallSettings,
    deadline: number | undefined,
    url: string,
    attempts: Attempt[],
  ): Delay {
    if (deadlineErrors.has(error)) throw error; // the deadline passed during the attempt: nothing to wait for
    const headers = error instanceof APIError ? error.headers : undefined;
    // A server that says "wait" on a 429 or 503 says it to every call on this client,
    // whether or not this call retries (a call out of retries must still pause the rest).
    const status = (error as APIError).status;
    if (headers && (status === 429 || status === 503)) {
      const asked = serverDelay(headers);
      // A zero wait holds nothing: no pause, and no warning (the testing mock sends `retry-after-ms: 0`).
      if (asked && asked.ms > 0 && this.#gate.pause(asked.ms)) {
        this.#log.warn(`rate limited: holding every request for ${round(asked.ms)} ms`, {
          url,
          status,
          delayMs: round(asked.ms),
          requestId: (error as APIError).requestId,
        });
      }
    }
    if (n > maxRetries || !isRetryable(error)) throw error;
    let delay = retryDelay(n, headers);
    const held = this.#gate.remaining();
    if (held > delay.ms) delay = { ms: held, source: 'rate-limit' };
    if (deadline !== undefined && Date.now() + delay.ms >= deadline)
      throw this.#deadlineError(url, attempts, deadlineMs, error);
    if (this.#budget && !this.#budget.tryPay(error instanceof APIConnectionTimeoutError)) {
      this.#log.warn('retry budget exhausted: not retrying', {
        url,
        attempt: n,
        tokens: this.#budget.tokens,
      });
      throw error;
    }
    return delay;
  }

  /** Waits out a shared rate-limit pause (however often it is extended) before an attempt is sent. */
  async #holdForPause(
    url: string,
    { signal, deadlineMs }: CallSettings,
    attempts: Attempt[],
    deadline: number | undefined,
  ): Promise<number> {
    let total = 0;
    for (let held = this.#gate.remaining(); held > 0; held = this.#gate.remaining()) {
      if (deadline !== undefined && Date.now() + held >= deadline)
        throw this.#deadlineError(url, attempts, deadlineMs, undefined);
      // The wait before an attempt goes on the attempt before it (attempt 1 gets
      // its own record when it is sent: a call aborted while held sent nothing).
      const previous = attempts.at(-1);
      if (previous) {
        previous.delayMs = round((previous.delayMs ?? 0) + held);
        previous.delaySource = 'rate-limit';
      }
      await sleep(held, signal, () => this.#aborted(url, signal, attempts));
      total += held;
    }
    return attempts.length === 0 ? total : 0;
  }

  /**
   * One attempt: send, read the body within bounds, settle. The timer and the
   * caller's signal settle it at once, whatever the transport does (Node 20's
   * fetch ignores its signal on a truncated 421 and never settles).
   */
  async #attempt(
    url: string,
    settings: CallSettings,
    n: number,
    attempts: Attempt[],
    deadline: number | undefined,
    span: CallSpan | undefined,
    heldBefore: number,
  ): Promise<Outcome> {
    const { signal, timeoutMs } = settings;
    const headers = { ...this.#headers }; // a copy: tracing adds traceparent, a custom fetch may mutate it
    const attemptSpan = span?.attempt(n, headers);
    const started = performance.now();
    const controller = new AbortController();
    const byDeadline = deadline !== undefined && deadline - Date.now() < timeoutMs;
    const limitMs = byDeadline ? Math.max(0, deadline - Date.now()) : timeoutMs;
    const entry: Attempt = { attempt: n, durationMs: 0 };
    // Attempt 1 held by a shared pause carries the wait before it (there is no record before it).
    if (heldBefore > 0)
      Object.assign(entry, { delayMs: round(heldBefore), delaySource: 'rate-limit' });
    const context: RequestContext = { url, attempts };
    let timer: ReturnType<typeof setTimeout> | undefined;
    let onAbort: (() => void) | undefined;
    let exchanged: { response: Response; body: Body };
    try {
      exchanged = await new Promise((resolve, reject) => {
        timer = setTimeout(() => {
          controller.abort();
          reject(
            byDeadline
              ? this.#deadlineError(url, attempts, settings.deadlineMs, undefined)
              : new APIConnectionTimeoutError(
                  `Request timed out after ${timeoutMs} ms: GET ${url}`,
                  context,
                ),
          );
        }, limitMs);
        onAbort = () => {
          controller.abort(signal?.reason);
          reject(this.#aborted(url, signal, attempts));
        };
        signal?.addEventListener('abort', onAbort);
        this.#exchange(url, headers, controller.signal, settings.maxResponseBytes).then(
          resolve,
          (cause) =>
            reject(
              new APIConnectionError(
                `Connection error: GET ${url}: ${this.#redactor.describe(cause)}`,
                {
                  ...context,
                  cause: this.#redactor.error(cause),
                },
              ),
            ),
        );
      });
    } catch (error) {
      attempts.push(record(entry, error as Error, started));
      attemptSpan?.end(undefined, (error as Error).name);
      this.#logAttempt(url, entry, headers, undefined);
      throw error;
    } finally {
      clearTimeout(timer);
      if (onAbort) signal?.removeEventListener('abort', onAbort);
    }
    const { response, body } = exchanged;
    entry.status = response.status;
    entry.durationMs = round(performance.now() - started);
    attempts.push(entry);
    if (this.#log.debugOn) this.#logAttempt(url, entry, headers, response);
    try {
      const outcome = await this.#settle(response, body, context, settings.maxResponseBytes);
      attemptSpan?.end(response.status, undefined);
      return outcome;
    } catch (error) {
      attemptSpan?.end(
        response.status,
        error instanceof APIError ? String(response.status) : (error as Error).name,
      );
      throw error;
    }
  }

  /** The transport's part: the response and its body, read within bounds. */
  async #exchange(
    url: string,
    headers: Record<string, string>,
    signal: AbortSignal,
    maxResponseBytes: number,
  ): Promise<{ response: Response; body: Body }> {
    // The key must never reach another origin: a 3xx is an APIError, not followed.
    const response = await this.#settings.fetch(url, {
      method: 'GET',
      headers,
      signal,
      redirect: 'manual',
    });
    const ok = response.status >= 200 && response.status < 300;
    const body = ok
      ? await readBody(response, maxResponseBytes, true)
      : await readBody(response, ERROR_BODY_LIMIT, false);
    return { response, body };
  }

  /** The one place where a response becomes a value or a throw. */
  async #settle(
    response: Response,
    { text, overLimit }: Body,
    context: RequestContext,
    maxResponseBytes: number,
  ): Promise<Outcome> {
    const { status } = response;
    if (status < 200 || status >= 300) {
      const redacted = this.#redactor.text(text); // before the cut, so no prefix of the key survives it
      const parsed = parseJson(redacted);
      const body = parsed === NOT_JSON ? truncate(redacted) : this.#redactor.json(parsed);
      throw APIError.from(
        status,
        this.#redactor.text(response.statusText),
        this.#redactor.headers(response.headers),
        body,
        context,
      );
    }
    if (overLimit) {
      throw this.#invalid(
        [{ path: '', message: `is larger than maxResponseBytes (${maxResponseBytes} bytes)` }],
        text,
        response,
        context,
      );
    }
    const body = parseJson(text);
    if (body === NOT_JSON) {
      const issue = text === '' ? 'is empty, expected JSON' : 'is not valid JSON';
      throw this.#invalid([{ path: '', message: issue }], text, response, context);
    }
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      const kind = body === null ? 'null' : Array.isArray(body) ? 'array' : typeof body;
      const issues = [{ path: '', message: `must be a JSON object, got ${kind}` }];
      throw this.#invalid(issues, body, response, context);
    }
    const outcome = {
      data: body as Conversation,
      response,
      requestId: undefined,
      attempts: context.attempts,
      text,
    };
    const mode = this.#settings.validate;
    if (!mode) return outcome;
    const { validateConversation } = await (validator ??= import('./validate.js'));
    const issues = validateConversation(body);
    if (issues.length === 0) return outcome;
    if (mode === true) throw this.#invalid(issues, body, response, context);
    this.#report(issues, response, context.url);
    return outcome;
  }

  /** `validateResponses: 'report'`: tell, log once, and go on. */
  #report(issues: ValidationIssue[], response: Response, url: string): void {
    // Redacted like APIError.requestId: a server can echo the key in any header.
    const requestId = this.#redactor.headers(response.headers).get('x-request-id') ?? undefined;
    const safeIssues = issues.map(({ path, message }) => ({
      path: this.#redactor.text(path),
      message: this.#redactor.text(message),
    }));
    this.#log.warn(`response did not match the spec: GET ${url}`, {
      url,
      status: response.status,
      requestId,
      issues: safeIssues.map((i) => `${i.path || '(body)'} ${i.message}`).join('; '),
    });
    try {
      ignoreRejection(
        this.#settings.onValidationIssue?.({
          issues: safeIssues,
          url,
          status: response.status,
          requestId,
        }),
      );
    } catch {
      // The callback's failure must not turn a good response into an error.
    }
  }

  #invalid(issues: ValidationIssue[], body: unknown, response: Response, context: RequestContext) {
    const safeBody =
      typeof body === 'string' ? truncate(this.#redactor.text(body)) : this.#redactor.json(body);
    const safeIssues = issues.map(({ path, message }) => ({
      path: this.#redactor.text(path),
      message: this.#redactor.text(message),
    }));
    return new ResponseValidationError(
      safeIssues,
      safeBody,
      response.status,
      this.#redactor.headers(response.headers),
      context,
    );
  }

  #aborted(url: string, signal: AbortSignal | undefined, attempts: Attempt[]): APIUserAbortError {
    return new APIUserAbortError(`Request was aborted: GET ${url}`, {
      url,
      attempts,
      cause: this.#redactor.error(signal?.reason),
    });
  }

  #deadlineError(
    url: string,
    attempts: Attempt[],
    deadlineMs: number | undefined,
    last: Error | undefined,
  ): APIConnectionTimeoutError {
    const error = new APIConnectionTimeoutError(
      `Request exceeded its deadline of ${deadlineMs} ms: GET ${url}`,
      { url, attempts, ...(last ? { cause: last } : {}) },
    );
    deadlineErrors.add(error);
    return error;
  }

  #logAttempt(
    url: string,
    entry: Attempt,
    headers: Record<string, string>,
    response: Response | undefined,
  ) {
    if (!this.#log.debugOn) return;
    const outcome = entry.status !== undefined ? String(entry.status) : (entry.error ?? '');
    this.#log.debug(`GET ${url} attempt ${entry.attempt}: ${outcome} in ${entry.durationMs} ms`, {
      method: 'GET',
      url,
      attempt: entry.attempt,
      status: entry.status,
      error: entry.error,
      durationMs: entry.durationMs,
      requestId: response?.headers.get('x-request-id') ?? undefined,
      headers: loggedHeaders(headers),
    });
  }
}

/** Fills in the record of a failed attempt. */
function record(entry: Attempt, error: Error, started: number): Attempt {
  if (error instanceof APIError || error instanceof ResponseValidationError)
    entry.status = error.status;
  else entry.error = error.name;
  entry.durationMs = round(performance.now() - started);
  return entry;
}

const NOT_JSON = Symbol('not JSON');

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return NOT_JSON;
  }
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}

const USER_AGENT = `chatdash-client/${VERSION}${
  typeof process === 'object' && process.versions?.node ? ` node/${process.versions.node}` : ''
}`;

function truncate(text: string): string {
  return text.length > BODY_TEXT_LIMIT ? text.slice(0, BODY_TEXT_LIMIT) : text;
}
