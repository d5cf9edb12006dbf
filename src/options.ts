/**
 * Options, params and per-call options: defaults filled in one place, every
 * rule checked before anything is sent. Each message names what is wrong and
 * never quotes the key.
 */
import { checkBaseUrl } from './base-url.js';
import { DEFAULT_RETRY_BUDGET, type BudgetNumbers } from './coordination/budget.js';
import type { BreakerNumbers, CoordinatorEngine, RateNumbers } from './coordination/coordinator.js';
import { checkBreaker, checkCoordinator, checkRateLimit } from './coordination/options.js';
import { LIMITS, withinLimits } from './limits.js';
import { describe, dropUndefined, fail, hideKey, integer, isObject, known } from './rules.js';
import type {
  ChatDashClientOptions,
  Middleware,
  FetchLike,
  GetConversationParams,
  LogLevel,
  Logger,
  RequestOptions,
  ValidationReport,
} from './types.js';

/** Where the client calls when neither `baseUrl` nor `CHATDASH_BASE_URL` says otherwise. */
export const DEFAULT_BASE_URL = 'https://api.chat-dash.com/v1/public';

export interface Resolved {
  apiKey: string;
  baseUrl: string;
  timeoutMs: number;
  maxRetries: number;
  maxResponseBytes: number;
  deadlineMs: number | undefined;
  fetch: FetchLike;
  headers: Record<string, string>;
  validate: boolean | 'report';
  onValidationIssue: ((report: ValidationReport) => void) | undefined;
  logLevel: LogLevel;
  logger: Logger;
  tracing: boolean;
  metrics: boolean;
  retryBudget: BudgetNumbers | false;
  dedupe: boolean;
  coordinator: CoordinatorEngine | undefined;
  rateLimit: RateNumbers | false;
  circuitBreaker: BreakerNumbers | false;
  middleware: Middleware[];
}

/** What a call runs with: the client's settings, overridden per call. */
export interface CallSettings {
  signal: AbortSignal | undefined;
  timeoutMs: number;
  maxRetries: number;
  maxResponseBytes: number;
  deadlineMs: number | undefined;
}

const LOG_LEVELS: readonly LogLevel[] = ['off', 'error', 'warn', 'info', 'debug'];

export function resolveOptions(options: ChatDashClientOptions): Resolved {
  try {
    return resolve(options);
  } catch (error) {
    throw hideKey(error, (isObject(options) && options.apiKey) || env('CHATDASH_API_KEY'));
  }
}

function resolve(options: ChatDashClientOptions): Resolved {
  const where = 'createChatDashClient';
  if (!isObject(options)) fail(`${where}: options must be an object, got ${describe(options)}`);
  known(options, CLIENT_OPTIONS, where);
  const {
    apiKey = env('CHATDASH_API_KEY'),
    baseUrl = env('CHATDASH_BASE_URL') ?? DEFAULT_BASE_URL,
    timeoutMs = LIMITS.timeoutMs.default,
    maxRetries = LIMITS.maxRetries.default,
    maxResponseBytes = LIMITS.maxResponseBytes.default,
    deadlineMs = LIMITS.deadlineMs.default,
    fetch = globalThis.fetch,
    headers = {},
    validateResponses = false,
    onValidationIssue,
    logLevel = (env('CHATDASH_LOG') as LogLevel | undefined) ?? 'warn',
    logger = console,
    tracing = true,
    metrics = true,
    retryBudget = {},
    dedupe = false,
    coordinator,
    rateLimit = false,
    circuitBreaker = false,
    middleware = [],
    dangerouslyAllowBrowser = false,
  } = options;
  const g = globalThis as { window?: unknown; document?: unknown };
  if (g.window !== undefined && g.document !== undefined && dangerouslyAllowBrowser !== true) {
    fail(
      `${where}: refusing to run in a browser, where anyone could read the API key; pass dangerouslyAllowBrowser: true to allow it`,
    );
  }
  if (apiKey === undefined || apiKey === '')
    fail(`${where}: no API key: set CHATDASH_API_KEY or pass apiKey`);
  // The type, never the value: whatever was passed may be a key.
  if (typeof apiKey !== 'string')
    fail(`${where}: apiKey must be a string, got ${apiKey === null ? 'null' : typeof apiKey}`);
  // Checked here because Node's fetch quotes an invalid header value, the key, in its error.
  if (!HEADER_VALUE.test(apiKey as string)) {
    fail(
      `${where}: apiKey is not a valid header value: control or non-ASCII character, or surrounding whitespace${options.apiKey === undefined ? ' (from CHATDASH_API_KEY)' : ''}`,
    );
  }
  if (typeof fetch !== 'function')
    fail(`${where}: fetch must be a function, got ${describe(fetch)}`);
  if (validateResponses !== true && validateResponses !== false && validateResponses !== 'report')
    fail(
      `${where}: validateResponses must be true, false or 'report', got ${describe(validateResponses)}`,
    );
  if (onValidationIssue !== undefined && typeof onValidationIssue !== 'function')
    fail(`${where}: onValidationIssue must be a function, got ${describe(onValidationIssue)}`);
  if (!LOG_LEVELS.includes(logLevel))
    fail(
      `${where}: logLevel (CHATDASH_LOG) must be one of ${LOG_LEVELS.map((l) => `'${l}'`).join(', ')}, got ${describe(logLevel)}`,
    );
  const methods = ['error', 'warn', 'info', 'debug'] as const;
  if (
    !isObject(logger) ||
    methods.some((m) => typeof (logger as Partial<Logger>)[m] !== 'function')
  )
    fail(`${where}: logger must have error, warn, info and debug methods`);
  for (const [name, value] of [
    ['tracing', tracing],
    ['metrics', metrics],
    ['dedupe', dedupe],
  ] as const)
    if (typeof value !== 'boolean')
      fail(`${where}: ${name} must be a boolean, got ${describe(value)}`);
  return {
    apiKey: apiKey as string,
    baseUrl: checkBaseUrl(
      baseUrl,
      options.baseUrl === undefined && env('CHATDASH_BASE_URL') !== undefined,
    ),
    timeoutMs: withinLimits(timeoutMs, 'timeoutMs', where),
    maxRetries: withinLimits(maxRetries, 'maxRetries', where),
    maxResponseBytes: withinLimits(maxResponseBytes, 'maxResponseBytes', where),
    deadlineMs:
      deadlineMs === undefined ? undefined : withinLimits(deadlineMs, 'deadlineMs', where),
    fetch,
    headers: checkHeaders(headers),
    validate: validateResponses,
    onValidationIssue,
    logLevel,
    logger,
    tracing,
    metrics,
    retryBudget: checkBudget(retryBudget, where),
    dedupe,
    coordinator: checkCoordinator(coordinator, where),
    rateLimit: checkRateLimit(rateLimit, where),
    circuitBreaker: checkBreaker(circuitBreaker, where),
    middleware: checkMiddleware(middleware, where),
  };
}

function checkMiddleware(value: unknown, where: string): Middleware[] {
  if (!Array.isArray(value))
    return fail(`${where}: middleware must be an array, got ${describe(value)}`);
  value.forEach((m: unknown, i) => {
    const hooks = ['onRequest', 'onResponse', 'onError'] as const;
    const given = isObject(m)
      ? hooks.filter((h) => (m as Record<string, unknown>)[h] !== undefined)
      : [];
    if (
      !isObject(m) ||
      given.length === 0 ||
      given.some((h) => typeof (m as Record<string, unknown>)[h] !== 'function')
    )
      fail(
        `${where}: middleware[${i}] must be an object with onRequest, onResponse or onError functions, got ${describe(m)}`,
      );
  });
  return [...(value as Middleware[])];
}

export function checkParams(
  params: GetConversationParams,
  where = 'getConversation',
): GetConversationParams {
  if (!isObject(params))
    fail(
      `${where}: params must be an object with agentId and conversationId, got ${describe(params)}`,
    );
  known(params, PARAMS, where);
  const { agentId, conversationId, isPlatformId } = params;
  if (isPlatformId !== undefined && typeof isPlatformId !== 'boolean') {
    fail(`${where}: isPlatformId must be a boolean or absent, got ${describe(isPlatformId)}`);
  }
  return {
    agentId: checkId(agentId, 'agentId', where),
    conversationId: checkId(conversationId, 'conversationId', where),
    isPlatformId,
  };
}

export function checkRequestOptions(
  options: RequestOptions,
  defaults: Resolved,
  where = 'getConversation',
  names: readonly string[] = REQUEST_OPTIONS,
): CallSettings {
  if (!isObject(options)) fail(`${where}: options must be an object, got ${describe(options)}`);
  known(options, names, where);
  const {
    signal,
    timeoutMs = defaults.timeoutMs,
    maxRetries = defaults.maxRetries,
    maxResponseBytes = defaults.maxResponseBytes,
    deadlineMs = defaults.deadlineMs,
  } = options;
  // Duck-typed: a signal from another realm or a polyfill is not `instanceof AbortSignal`,
  // but the client needs all three members.
  if (signal !== undefined) {
    const s = signal as Partial<AbortSignal> | null;
    if (
      !isObject(s) ||
      typeof s.aborted !== 'boolean' ||
      typeof s.addEventListener !== 'function' ||
      typeof s.removeEventListener !== 'function'
    )
      fail(
        `${where}: signal must be an AbortSignal (aborted, addEventListener, removeEventListener), got ${describe(signal)}`,
      );
  }
  return {
    signal,
    timeoutMs:
      timeoutMs === defaults.timeoutMs ? timeoutMs : withinLimits(timeoutMs, 'timeoutMs', where),
    maxRetries:
      maxRetries === defaults.maxRetries
        ? maxRetries
        : withinLimits(maxRetries, 'maxRetries', where),
    maxResponseBytes:
      maxResponseBytes === defaults.maxResponseBytes
        ? maxResponseBytes
        : withinLimits(maxResponseBytes, 'maxResponseBytes', where),
    deadlineMs:
      deadlineMs === defaults.deadlineMs || deadlineMs === undefined
        ? deadlineMs
        : withinLimits(deadlineMs, 'deadlineMs', where),
  };
}

/** `getConversations`' `concurrency`. */
export function checkConcurrency(value: unknown): number {
  return value === undefined
    ? LIMITS.concurrency.default
    : withinLimits(value, 'concurrency', 'getConversations');
}

// Visible ASCII with inner spaces: no control characters (CR, LF, NUL...) and no surrounding whitespace.
const HEADER_VALUE = /^[\x21-\x7e]([\x20-\x7e]*[\x21-\x7e])?$/;
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~\w]+$/;

function checkId(id: unknown, name: string, where: string): string {
  if (typeof id !== 'string' || id === '')
    fail(`${where}: ${name} must be a non-empty string, got ${describe(id)}`);
  // The URL parser resolves `.` and `..` even percent-encoded: `agentId: '..'` would call /conversations/{id}.
  if (id === '.' || id === '..') fail(`${where}: ${name} must not be "${id}"`);
  if (!(id as string).isWellFormed())
    fail(`${where}: ${name} has a lone surrogate and cannot be encoded`);
  return id as string;
}

function checkHeaders(headers: unknown): Record<string, string> {
  if (!isObject(headers))
    fail(`createChatDashClient: headers must be an object of strings, got ${describe(headers)}`);
  const checked: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers as object)) {
    if (
      !HEADER_NAME.test(name) ||
      typeof value !== 'string' ||
      (value !== '' && !HEADER_VALUE.test(value))
    ) {
      fail(
        `createChatDashClient: headers[${JSON.stringify(name)}] is not a valid header name and value`,
      );
    }
    // The key always goes out as Authorization: an extra header cannot replace it.
    if (name.toLowerCase() !== 'authorization') checked[name] = value;
  }
  return checked;
}

function checkBudget(budget: unknown, where: string): BudgetNumbers | false {
  if (budget === false) return false;
  if (!isObject(budget))
    return fail(`${where}: retryBudget must be false or an object, got ${describe(budget)}`);
  known(budget, ['capacity', 'retryCost', 'timeoutCost'], `${where}: retryBudget`);
  const { capacity, retryCost, timeoutCost } = {
    ...DEFAULT_RETRY_BUDGET,
    ...dropUndefined(budget),
  };
  return {
    capacity: integer(capacity, 'retryBudget.capacity', 1, 1_000_000, where),
    retryCost: integer(retryCost, 'retryBudget.retryCost', 0, 1_000_000, where),
    timeoutCost: integer(timeoutCost, 'retryBudget.timeoutCost', 0, 1_000_000, where),
  };
}

const CLIENT_OPTIONS = [
  'apiKey',
  'baseUrl',
  'timeoutMs',
  'maxRetries',
  'maxResponseBytes',
  'deadlineMs',
  'fetch',
  'headers',
  'validateResponses',
  'onValidationIssue',
  'logLevel',
  'logger',
  'tracing',
  'metrics',
  'retryBudget',
  'dedupe',
  'coordinator',
  'rateLimit',
  'circuitBreaker',
  'middleware',
  'dangerouslyAllowBrowser',
];
const PARAMS = ['agentId', 'conversationId', 'isPlatformId'];
export const REQUEST_OPTIONS = [
  'signal',
  'timeoutMs',
  'maxRetries',
  'maxResponseBytes',
  'deadlineMs',
];

function env(name: string): string | undefined {
  return (typeof process === 'object' && process.env?.[name]) || undefined;
}
