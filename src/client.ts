/**
 * The facade: the story of one call. Check the inputs, then run the attempt
 * steps in order, then hand back the value or the typed error. Each step is a
 * policy in its own file; this file only says which run, in which order.
 */
import { createFinalURL, createQuerySerializer, defaultPathSerializer } from 'openapi-fetch';
import { clientContext, type ClientSetup } from './client-context.js';
import { ENDPOINT } from './endpoint.js';
import {
  checkConcurrency,
  checkParams,
  checkRequestOptions,
  resolveOptions,
  type Resolved,
} from './options.js';
import { hideKey } from './rules.js';
import { newCall, run, type Call, type Outcome, type Step } from './pipeline.js';
import { breaker } from './policies/breaker.js';
import { getConversations } from './policies/bulk.js';
import { deadline } from './policies/deadline.js';
import { Dedupe } from './policies/dedupe.js';
import { pause } from './policies/pause.js';
import { retry } from './policies/retry.js';
import { rateLimit } from './policies/rate-limit.js';
import { timeout } from './policies/timeout.js';
import { exchange } from './policies/exchange.js';
import { observe } from './policies/observe.js';
import { requestId } from './telemetry/request-id.js';
import { loadMetrics, type ClientMetrics } from './telemetry/metrics.js';
import { loadOpenTelemetry, startCall } from './telemetry/otel.js';
import type {
  BulkOptions,
  BulkResult,
  ChatDashClient,
  ChatDashClientOptions,
  Conversation,
  ConversationWithResponse,
  GetConversationOperation,
  GetConversationParams,
  RequestOptions,
} from './types.js';

type Parameters = GetConversationOperation['parameters'];
const querySerializer = createQuerySerializer();

/**
 * The steps of every attempt, in order. `retry` runs the rest once per
 * attempt; `rateLimit` and `breaker` are left out of a client without
 * `rateLimit` or `circuitBreaker`, so they cost it nothing. Each step is
 * made here, once per client, with what it needs: the only place that knows
 * them all. Exported for `npm run fleet:sim`, which runs these very steps on
 * a simulated clock.
 */
export function steps(settings: Resolved, context: ClientSetup): Step[] {
  const { scope, waits, log, clock } = context;
  return [
    retry({ random: context.random }, scope, waits, log), // between attempts: retryable? budget, backoff, the deadline
    deadline(waits), // no attempt after the deadline or an abort
    ...(settings.circuitBreaker ? [breaker(scope, waits)] : []), // fail fast while the circuit is open, before any wait
    pause(scope, waits, log), // wait out the scope's shared pause; a 429/503 that asks for one sets it
    ...(settings.rateLimit ? [rateLimit(scope, waits)] : []), // wait for a send slot
    observe(context, clock, log), // the attempt's record, span and debug line
    timeout(context.transport, waits), // the attempt's timer and the caller's signal
  ]; // then `exchange`: middleware, fetch, the bounded body, settle
}

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
  readonly #settings: Resolved;
  readonly #context: ClientSetup;
  readonly #steps: Step[];
  readonly #exchange: (call: Call) => Promise<Outcome>;
  readonly #dedupe: Dedupe<Outcome> | undefined;
  #metrics: ClientMetrics | undefined;
  /** What a call waits for until the API and its lazy chunks have loaded. */
  #loading: Promise<void> | undefined;

  constructor(options: ChatDashClientOptions) {
    const settings = resolveOptions(options);
    this.#settings = settings;
    this.#context = clientContext(settings);
    const { scope } = this.#context;
    this.#steps = steps(settings, this.#context);
    this.#exchange = exchange(this.#context);
    this.#dedupe = settings.dedupe ? new Dedupe() : undefined;
    this.baseUrl = settings.baseUrl;
    this.timeoutMs = settings.timeoutMs;
    this.maxRetries = settings.maxRetries;
    const loading = settings.metrics
      ? loadMetrics(settings.baseUrl, scope, settings.apiKey).then((m) => void (this.#metrics = m))
      : settings.tracing
        ? loadOpenTelemetry()
        : undefined;
    this.#loading = loading?.then(() => (this.#loading = undefined));
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
        requestId: requestId(response.headers, this.#context.redactor),
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
      (concurrency, callOptions) => {
        // Both inside the key's masking: a caller may pass anything, the key too, as either.
        try {
          const checked = checkConcurrency(concurrency);
          checkRequestOptions(callOptions, this.#settings, 'getConversations');
          return checked;
        } catch (error) {
          throw hideKey(error, this.#settings.apiKey);
        }
      },
    );
  }

  /** Checks the inputs (rejecting, never throwing), then runs the call, shared when `dedupe` is on. */
  #call(params: GetConversationParams, options: RequestOptions = {}, where: string) {
    let call: Call;
    try {
      const checked = checkParams(params, where);
      const settings = checkRequestOptions(options, this.#settings, where);
      const { agentId, conversationId, isPlatformId } = checked;
      // Typed by the spec's operation: a parameter the spec adds or renames fails to compile here.
      const path: Parameters['path'] = { agentId, conversationId };
      const query: Parameters['query'] = isPlatformId === undefined ? undefined : { isPlatformId };
      // Path and query go through openapi-fetch's own serializers (path segments
      // percent-encoded, isPlatformId only when given).
      const url = createFinalURL(ENDPOINT, {
        baseUrl: this.baseUrl,
        params: { path, ...(query ? { query } : {}) },
        querySerializer,
        pathSerializer: defaultPathSerializer,
      });
      call = newCall(url, checked, settings, this.#context.headers);
    } catch (error) {
      return Promise.reject(hideKey(error, this.#settings.apiKey));
    }
    if (!this.#dedupe) return this.#run(call);
    const { signal, ...shared } = call.settings;
    // Every setting that can change the outcome is in the key: a call with a
    // 10-byte limit must not get the body of one with a larger limit.
    const key = `${call.url}\n${JSON.stringify(shared)}`;
    return this.#dedupe
      .run(
        key,
        signal,
        (sharedSignal) =>
          this.#run({ ...call, settings: { ...shared, signal: sharedSignal }, attempts: [] }),
        () => this.#context.waits.aborted(call),
      )
      .then((outcome) => ({ ...outcome, data: JSON.parse(outcome.text) as Conversation }));
  }

  async #run(call: Call): Promise<Outcome> {
    // The first calls of a process can start before the API has loaded: they wait for it, or
    // they would make no span, send no traceparent, record no metric. Once loaded, no wait.
    if (this.#loading) await this.#loading;
    this.#context.waits.start(call);
    call.span = this.#context.tracing ? startCall(call.url) : undefined;
    call.metrics = this.#metrics?.forCall();
    const started = call.metrics ? performance.now() : 0;
    let failed: Error | undefined;
    try {
      return await run(this.#steps, call, this.#exchange);
    } catch (error) {
      throw (failed = error as Error);
    } finally {
      call.span?.end(failed);
      call.metrics?.call(started, failed);
    }
  }
}
