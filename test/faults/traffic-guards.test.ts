/**
 * Guards of the traffic policies that a one-line change could break without
 * another test noticing, each on real sockets: the pause runs on a monotonic
 * clock, a held call re-reads a pause another call extended, and dedupe never
 * shares a request between calls whose settings differ.
 */
import { makeConversation } from '../../src/testing.js';
import { performance } from 'node:perf_hooks';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  createChatDashClient,
  RateLimitError,
  ResponseValidationError,
  type ChatDashClientOptions,
} from '../helpers/transport.js';
import { httpServer, sendJson } from '../helpers/servers.js';
import { timed } from '../helpers/settle.js';

const apiKey = 'ck_traffic_guard_key';
const quiet = { error() {}, warn() {}, info() {}, debug() {} };
const client = (baseUrl: string, options: ChatDashClientOptions = {}) =>
  createChatDashClient({ apiKey, baseUrl, logger: quiet, tracing: false, ...options });
const idOf = (url: string) => url.split('?')[0]!.split('/').pop()!;

afterEach(() => {
  vi.restoreAllMocks();
});

describe('the rate-limit pause', () => {
  it('runs on a monotonic clock: a wall clock stepped back an hour during a 300 ms pause holds the next call for about 300 ms, not an hour', async () => {
    const server = await httpServer((req, res, attempt) => {
      if (attempt === 0) sendJson(res, 429, {}, { 'retry-after-ms': '300' });
      else sendJson(res, 200, { ...makeConversation(), _id: idOf(req.url!) });
    });
    const chatdash = client(server.baseUrl, { maxRetries: 0 });
    await expect(
      chatdash.getConversation({ agentId: 'a', conversationId: 'first' }),
    ).rejects.toBeInstanceOf(RateLimitError);
    const wall = Date.now.bind(Date);
    vi.spyOn(Date, 'now').mockImplementation(() => wall() - 3_600_000);
    const { value, seconds } = await timed(
      chatdash.getConversationWithResponse({ agentId: 'a', conversationId: 'second' }),
    );
    expect(value.data._id).toBe('second');
    expect(value.attempts[0]!.delaySource).toBe('rate-limit');
    expect(seconds).toBeLessThan(5);
  });

  it("re-reads the pause while it holds a call: another call's 429 that extends a 200 ms pause to 700 ms holds the call until then", async () => {
    let t0 = 0;
    const arrivals = new Map<string, number>();
    const server = await httpServer((req, res) => {
      const id = idOf(req.url!);
      arrivals.set(id, performance.now() - t0);
      if (id === 'slow') setTimeout(() => sendJson(res, 429, {}, { 'retry-after-ms': '700' }), 100);
      else if (id === 'first') sendJson(res, 429, {}, { 'retry-after-ms': '200' });
      else sendJson(res, 200, { ...makeConversation(), _id: id });
    });
    const chatdash = client(server.baseUrl, { maxRetries: 0 });
    t0 = performance.now();
    const slow = chatdash.getConversation({ agentId: 'a', conversationId: 'slow' });
    await expect(
      chatdash.getConversation({ agentId: 'a', conversationId: 'first' }),
    ).rejects.toBeInstanceOf(RateLimitError);
    // Held by the 200 ms pause; the slow call's 429 arrives while it waits.
    const held = chatdash.getConversationWithResponse({ agentId: 'a', conversationId: 'held' });
    await expect(slow).rejects.toBeInstanceOf(RateLimitError);
    const result = await held;
    expect(result.data._id).toBe('held');
    // 100 ms for the slow 429 plus its 700 ms pause: well after the first pause's 200 ms.
    expect(arrivals.get('held')!).toBeGreaterThanOrEqual(700);
    expect(result.attempts[0]!.delaySource).toBe('rate-limit');
  });
});

describe('dedupe', () => {
  it('does not share a request between concurrent calls whose maxResponseBytes differ: the 10-byte call gets its ResponseValidationError', async () => {
    const server = await httpServer((req, res) => {
      setTimeout(() => sendJson(res, 200, { ...makeConversation(), _id: 'x'.repeat(100) }), 50);
    });
    const chatdash = client(server.baseUrl, { dedupe: true });
    const params = { agentId: 'a', conversationId: 'c' };
    const [small, large] = await Promise.allSettled([
      chatdash.getConversation(params, { maxResponseBytes: 10 }),
      chatdash.getConversation(params, { maxResponseBytes: 100_000 }),
    ]);
    expect(server.requests).toHaveLength(2);
    expect(small.status === 'rejected' && small.reason).toBeInstanceOf(ResponseValidationError);
    expect(large.status === 'fulfilled' && large.value._id).toBe('x'.repeat(100));
  });
});
