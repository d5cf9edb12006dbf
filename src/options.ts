/**
 * Options, params and per-call options: defaults filled in one place, every
 * rule checked before anything is sent. Each message names what is wrong and
 * never quotes the key.
 */
import { ChatDashError } from './errors.js';
import type {
  ChatDashClientOptions,
  FetchLike,
  GetConversationParams,
  RequestOptions,
} from './client.js';

export const DEFAULT_BASE_URL = 'https://api.chat-dash.com/v1/public';

export interface Resolved {
  apiKey: string;
  baseUrl: string;
  timeoutMs: number;
  maxRetries: number;
  fetch: FetchLike;
  headers: Record<string, string>;
  validate: boolean;
}

const fail = (message: string): never => {
  throw new ChatDashError(message);
};

export function resolveOptions(options: ChatDashClientOptions): Resolved {
  const where = 'createChatDashClient';
  if (!isObject(options)) fail(`${where}: options must be an object`);
  known(options, CLIENT_OPTIONS, where);
  const {
    apiKey = env('CHATDASH_API_KEY'),
    baseUrl = env('CHATDASH_BASE_URL') ?? DEFAULT_BASE_URL,
    timeoutMs = 30_000,
    maxRetries = 2,
    fetch = globalThis.fetch,
    headers = {},
    validateResponses = false,
    dangerouslyAllowBrowser = false,
  } = options;
  const g = globalThis as { window?: unknown; document?: unknown };
  if (g.window !== undefined && g.document !== undefined && dangerouslyAllowBrowser !== true) {
    fail(
      `${where}: refusing to run in a browser, where anyone could read the API key; pass dangerouslyAllowBrowser: true to allow it`,
    );
  }
  if (!apiKey) fail(`${where}: no API key: set CHATDASH_API_KEY or pass apiKey`);
  // Checked here because Node's fetch quotes an invalid header value, the key, in its error.
  if (typeof apiKey !== 'string' || !HEADER_VALUE.test(apiKey)) {
    fail(
      `${where}: apiKey (CHATDASH_API_KEY) is not a valid header value: control or non-ASCII character, or surrounding whitespace`,
    );
  }
  if (typeof fetch !== 'function') fail(`${where}: fetch must be a function`);
  if (typeof validateResponses !== 'boolean') fail(`${where}: validateResponses must be a boolean`);
  return {
    apiKey: apiKey as string,
    baseUrl: checkBaseUrl(baseUrl),
    timeoutMs: checkTimeout(timeoutMs),
    maxRetries: checkRetries(maxRetries),
    fetch,
    headers: checkHeaders(headers),
    validate: validateResponses,
  };
}

export function checkParams(params: GetConversationParams): GetConversationParams {
  if (!isObject(params))
    fail('getConversation: params must be an object with agentId and conversationId');
  known(params, PARAMS, 'getConversation');
  const { agentId, conversationId, isPlatformId } = params;
  if (isPlatformId !== undefined && typeof isPlatformId !== 'boolean') {
    fail('getConversation: isPlatformId must be a boolean or absent');
  }
  return {
    agentId: checkId(agentId, 'agentId'),
    conversationId: checkId(conversationId, 'conversationId'),
    isPlatformId,
  };
}

export function checkRequestOptions(
  options: RequestOptions,
  defaults: { timeoutMs: number; maxRetries: number },
) {
  if (!isObject(options)) fail('getConversation: options must be an object');
  known(options, REQUEST_OPTIONS, 'getConversation');
  const { signal, timeoutMs = defaults.timeoutMs, maxRetries = defaults.maxRetries } = options;
  // Duck-typed: a signal from another realm or a polyfill is not `instanceof AbortSignal`.
  if (
    signal !== undefined &&
    typeof (signal as Partial<AbortSignal> | null)?.addEventListener !== 'function'
  ) {
    fail('getConversation: signal must be an AbortSignal');
  }
  return { signal, timeoutMs: checkTimeout(timeoutMs), maxRetries: checkRetries(maxRetries) };
}

// Visible ASCII with inner spaces: no control characters (CR, LF, NUL...) and no surrounding whitespace.
const HEADER_VALUE = /^[\x21-\x7e]([\x20-\x7e]*[\x21-\x7e])?$/;
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~\w]+$/;

function checkId(id: unknown, name: string): string {
  if (typeof id !== 'string' || id === '')
    fail(`getConversation: ${name} must be a non-empty string`);
  // The URL parser resolves `.` and `..` even percent-encoded: `agentId: '..'` would call /conversations/{id}.
  if (id === '.' || id === '..') fail(`getConversation: ${name} must not be "${id}"`);
  if (!(id as string).isWellFormed())
    fail(`getConversation: ${name} has a lone surrogate and cannot be encoded`);
  return id as string;
}

function checkBaseUrl(baseUrl: unknown): string {
  const url = typeof baseUrl === 'string' && URL.canParse(baseUrl) ? new URL(baseUrl) : undefined;
  const loopback = url && /^(localhost|127\.\d+\.\d+\.\d+|\[::1\])$/.test(url.hostname);
  if (
    !url ||
    !(url.protocol === 'https:' || (url.protocol === 'http:' && loopback)) ||
    url.username ||
    url.password ||
    url.search ||
    url.hash
  ) {
    fail(
      `createChatDashClient: baseUrl ${JSON.stringify(baseUrl)} must be an absolute https: URL ` +
        '(http: only for localhost, 127.0.0.0/8 and [::1]) without credentials, query or fragment',
    );
  }
  return url!.href.replace(/\/+$/, '');
}

function checkHeaders(headers: unknown): Record<string, string> {
  if (!isObject(headers)) fail('createChatDashClient: headers must be an object of strings');
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

function checkTimeout(value: unknown): number {
  // setTimeout treats anything above 2^31-1 ms as 1 ms.
  if (typeof value !== 'number' || !(value > 0 && value <= 2 ** 31 - 1)) {
    fail(`timeoutMs must be a positive number of milliseconds, got ${String(value)}`);
  }
  return value as number;
}

function checkRetries(value: unknown): number {
  if (!Number.isSafeInteger(value) || (value as number) < 0)
    fail(`maxRetries must be a whole number >= 0, got ${String(value)}`);
  return value as number;
}

/** Rejects unknown names, so a typo (`timeout`) does not silently do nothing. */
function known(object: object, names: readonly string[], where: string): void {
  for (const key of Object.keys(object))
    if (!names.includes(key)) fail(`${where}: unknown option \`${key}\``);
}

const CLIENT_OPTIONS = [
  'apiKey',
  'baseUrl',
  'timeoutMs',
  'maxRetries',
  'fetch',
  'headers',
  'validateResponses',
  'dangerouslyAllowBrowser',
];
const PARAMS = ['agentId', 'conversationId', 'isPlatformId'];
const REQUEST_OPTIONS = ['signal', 'timeoutMs', 'maxRetries'];

function isObject(value: unknown): value is object {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function env(name: string): string | undefined {
  return (typeof process === 'object' && process.env?.[name]) || undefined;
}
