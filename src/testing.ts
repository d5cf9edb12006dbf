/**
 * `chatdash-client/testing`: helpers for services that depend on this client,
 * so their tests need neither the real API nor Prism.
 *
 *   await using mock = await startMockChatDash({ conversations: [makeConversation({ _id: 'c1' })] });
 *   const chatdash = createChatDashClient({ apiKey: 'test', baseUrl: mock.baseUrl });
 *   mock.failNext(1, { status: 503 });
 *   ...
 *   mock.reset(); // between tests that share one mock
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { sendJson } from './send-json.js';
import type { Conversation } from './types.js';

export type { Conversation } from './types.js';

/**
 * A complete `Conversation` with fixed, realistic values that pass the spec's
 * validator; `overrides` replace fields (typed, so a typo or a wrong type is a
 * compile error).
 */
export function makeConversation(overrides: Partial<Conversation> = {}): Conversation {
  return {
    _id: 'conv_0001',
    agentId: 'agent_0001',
    platformId: 'platform_conv_0001',
    leadId: 'lead_0001',
    campaignId: 'campaign_0001',
    name: 'Ada Lovelace',
    read: false,
    endedAt: '2024-05-01T10:30:00.000Z',
    browser: 'Firefox',
    device: 'desktop',
    os: 'Linux',
    countryCode: 'GB',
    ipAddress: '192.0.2.10',
    record: false,
    interacted: true,
    channel: 'web',
    phone: '+15550100',
    phoneSecondary: '+15550199',
    instagramId: 'ig_0001',
    instagramUsername: 'ada',
    cost: 0.12,
    duration: 4.5,
    url: 'https://example.com/recordings/conv_0001.mp3',
    endedReason: 'customer-ended-call',
    noAnswer: false,
    status: 'ai',
    liveAgentName: 'Grace Hopper',
    liveAgentId: 'live_0001',
    isLive: false,
    note: 'Asked about invoices.',
    topic: 'billing',
    subtopic: 'invoices',
    summary: 'The customer asked where to find last month’s invoice.',
    evaluation: { isSuccess: true, reason: 'The question was answered.' },
    mistunderstoodQueries: [{ question: 'Can I pay in instalments?' }],
    customAnalysis: { sentiment: 'positive' },
    metadata: { crmId: 'crm_0001' },
    createdAt: '2024-05-01T10:00:00.000Z',
    updatedAt: '2024-05-01T10:31:00.000Z',
    ...overrides,
  };
}

/**
 * What the next failing calls do instead of answering. A status failure carries
 * `retry-after-ms: <retryAfterMs>` (default 0), so the client retries at once
 * instead of sleeping through its backoff; a `retry-after` or `retry-after-ms`
 * entry in `headers` replaces it.
 */
export type MockFailure =
  | { status: number; body?: unknown; headers?: Record<string, string>; retryAfterMs?: number }
  | { delayMs: number }
  | { reset: true };

export interface MockRequest {
  method: string;
  /** The path as received, still percent-encoded. */
  path: string;
  agentId: string | undefined;
  conversationId: string | undefined;
  /** `true`/`false` when the query carried it, else `undefined`. */
  isPlatformId: boolean | undefined;
  /** Whether an `Authorization` header came (its value is not kept). */
  authorized: boolean;
  headers: Record<string, string | string[] | undefined>;
}

export interface MockChatDashOptions {
  /** Served by agentId and `_id` (or `platformId` with `?isPlatformId=true`). */
  conversations?: Conversation[];
  /** When set, only this key is accepted (401 otherwise); by default any non-empty key is. */
  apiKey?: string;
}

export interface MockChatDash {
  /** e.g. `http://127.0.0.1:53121`: pass it as the client's `baseUrl`. */
  baseUrl: string;
  /** Every request received, in order. */
  requests: MockRequest[];
  /**
   * Adds or replaces a conversation (matched by agentId and `_id`). Any JSON
   * object is served as it is, so a test can serve a body that breaks the spec.
   */
  set(body: Conversation | Record<string, unknown>): void;
  /** Makes the next `count` requests fail as `failure` says, then answer normally again. */
  failNext(count: number, failure: MockFailure): void;
  /** Forgets queued failures and recorded requests, and serves the initial conversations again. */
  reset(): void;
  close(): Promise<void>;
  /** `close()`, for `await using mock = await startMockChatDash()`. */
  [Symbol.asyncDispose](): Promise<void>;
}

const PATH = /^\/agents\/([^/?]+)\/conversations\/([^/?]+)$/;

/** Starts an in-process ChatDash stand-in on 127.0.0.1 (a free port). */
export async function startMockChatDash(options: MockChatDashOptions = {}): Promise<MockChatDash> {
  const initial: Record<string, unknown>[] = [...(options.conversations ?? [])];
  const conversations = [...initial];
  const requests: MockRequest[] = [];
  const failures: MockFailure[] = [];
  const sockets = new Set<Socket>();

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://mock');
    const match = PATH.exec(url.pathname);
    const decode = (s: string | undefined) => (s === undefined ? undefined : safeDecode(s));
    const query = url.searchParams.get('isPlatformId');
    const authorization = req.headers.authorization;
    // The key itself is not kept, so a logged request list cannot leak it.
    const headers = { ...req.headers };
    delete headers.authorization;
    requests.push({
      method: req.method ?? '',
      path: url.pathname,
      agentId: decode(match?.[1]),
      conversationId: decode(match?.[2]),
      isPlatformId: query === null ? undefined : query === 'true',
      authorized: authorization !== undefined,
      headers,
    });
    const failure = failures.shift();
    if (failure && 'reset' in failure) return void req.socket.resetAndDestroy();
    if (failure && 'delayMs' in failure) {
      const timer = setTimeout(() => answer(req, res, match, query), failure.delayMs);
      res.on('close', () => clearTimeout(timer));
      return;
    }
    if (failure)
      return send(
        res,
        failure.status,
        failure.body ?? { error: 'Injected failure' },
        failureHeaders(failure),
      );
    answer(req, res, match, query);
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  function answer(
    req: IncomingMessage,
    res: ServerResponse,
    match: RegExpExecArray | null,
    query: string | null,
  ) {
    const key = req.headers.authorization;
    if (!key || (options.apiKey !== undefined && key !== options.apiKey)) {
      return send(res, 401, { error: 'Unauthorized' });
    }
    if (req.method !== 'GET' || !match) return send(res, 404, { error: 'Not Found' });
    const agentId = safeDecode(match[1] ?? '');
    const id = safeDecode(match[2] ?? '');
    const byPlatform = query === 'true';
    const found = conversations.find(
      (c) => c['agentId'] === agentId && (byPlatform ? c['platformId'] : c['_id']) === id,
    );
    if (!found) return send(res, 404, { error: 'Conversation not found' });
    send(res, 200, found);
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const close = () =>
    new Promise<void>((resolve) => {
      for (const socket of sockets) socket.destroy();
      // A second close (explicit, then `await using`) gets ERR_SERVER_NOT_RUNNING: nothing to do.
      server.close(() => resolve());
    });
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    requests,
    set(body: Record<string, unknown>) {
      const at = conversations.findIndex(
        (c) => c['agentId'] === body['agentId'] && c['_id'] === body['_id'],
      );
      if (at === -1) conversations.push(body);
      else conversations[at] = body;
    },
    failNext(count, failure) {
      const retryAfterMs = 'retryAfterMs' in failure ? failure.retryAfterMs : 0;
      // A negative or fractional value would make the client ignore the header and back off.
      if (!(Number.isInteger(retryAfterMs) && Number(retryAfterMs) >= 0)) {
        throw new RangeError(
          `failNext: retryAfterMs must be an integer >= 0, got ${String(retryAfterMs)}`,
        );
      }
      for (let i = 0; i < count; i++) failures.push(failure);
    },
    reset() {
      // Emptied in place: callers may hold `mock.requests`.
      failures.length = 0;
      requests.length = 0;
      conversations.splice(0, conversations.length, ...initial);
    },
    close,
    [asyncDispose]: close,
  };
}

/**
 * Node has Symbol.asyncDispose from 20.4 on; on 20.0-20.3, a downlevelled
 * `await using` (esbuild's and Babel's helpers) looks up this registered symbol instead.
 */
const asyncDispose: typeof Symbol.asyncDispose =
  Symbol.asyncDispose ?? (Symbol.for('Symbol.asyncDispose') as typeof Symbol.asyncDispose);

/** `retry-after-ms` first, then the caller's headers, unless those set their own retry delay. */
function failureHeaders(failure: {
  headers?: Record<string, string>;
  retryAfterMs?: number;
}): Record<string, string> {
  const { headers = {}, retryAfterMs = 0 } = failure;
  if (Object.keys(headers).some((name) => /^retry-after(-ms)?$/i.test(name))) return headers;
  return { 'retry-after-ms': String(retryAfterMs), ...headers };
}

/**
 * Each answer carries an `x-request-id`, so a caller's errors and logs have a
 * `requestId` to show; `headers` may replace it.
 */
function send(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
) {
  sendJson(res, status, body, {
    'x-request-id': `mock_${Math.random().toString(36).slice(2, 10)}`,
    ...headers,
  });
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}
