/**
 * circuitBreaker end to end on real sockets, and clients sharing one
 * createMemoryCoordinator(): the budget, the circuit, the pause and the send
 * rate they share, and what they do not share with another key. Servers on
 * 127.0.0.1 count what reaches them and when; no test injects a fetch or a
 * clock. Bounds are generous: CI is a loaded 2-core box.
 */
import { performance } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import {
  APIConnectionError,
  CircuitOpenError,
  createMemoryCoordinator,
  InternalServerError,
  RateLimitError,
  type ChatDashError,
} from '../helpers/transport.js';
import { sendJson } from '../helpers/servers.js';
import { failure, sleep, timed } from '../helpers/settle.js';
import {
  apiKey,
  client,
  load,
  noWait,
  ok,
  params,
  refusedPort,
  timedServer,
} from '../helpers/flow.js';

describe('circuitBreaker', () => {
  it('opens on a refusing upstream after failureThreshold failures; calls then reject at once, sending nothing', async () => {
    const baseUrl = await refusedPort();
    const chatdash = client(baseUrl, {
      circuitBreaker: { failureThreshold: 5, openMs: 10_000 },
      maxRetries: 0,
    });
    for (let i = 0; i < 5; i++)
      expect(await failure(chatdash.getConversation(params))).toBeInstanceOf(APIConnectionError);
    expect(chatdash.lines.filter((l) => l.level === 'warn').map((l) => l.message)).toEqual([
      'chatdash-client: circuit opened: calls fail fast for 10000 ms',
    ]);
    const times: number[] = [];
    for (let i = 0; i < 20; i++) {
      const { value: error, seconds } = await timed(failure(chatdash.getConversation(params)));
      times.push(seconds * 1_000);
      expect(error).toBeInstanceOf(CircuitOpenError);
      expect((error as CircuitOpenError).retryAfterMs).toBeGreaterThan(9_000);
      expect((error as CircuitOpenError).retryAfterMs).toBeLessThanOrEqual(10_000);
      expect((error as ChatDashError).attempts).toEqual([]);
      expect(error.message).toMatch(
        /^Circuit open: GET http:\/\/127\.0\.0\.1:\d+\/agents\/.* not sent/,
      );
    }
    times.sort((a, b) => a - b);
    expect(times[10]!).toBeLessThan(5);
    expect(times.at(-1)!).toBeLessThan(100);
  });

  it('lets one request per openMs reach a dead upstream and closes on the probe’s success', async () => {
    let healthy = true;
    const server = await timedServer((req, res) => {
      if (healthy) ok(req, res);
      else sendJson(res, 500, { error: 'down' }, noWait);
    });
    const openMs = 400;
    const chatdash = client(server.baseUrl, {
      circuitBreaker: { failureThreshold: 5, openMs },
      maxRetries: 0,
    });
    // Connections open first, so nothing sent before the circuit opens arrives long after.
    await Promise.all(Array.from({ length: 8 }, () => chatdash.getConversation(params)));
    server.arrivals.length = server.requests.length = 0;
    healthy = false;
    const results = await load(() => chatdash.getConversationWithResponse(params), 8, 2_000);
    expect(results.filter((r) => r instanceof CircuitOpenError).length).toBeGreaterThan(100);
    expect(results.filter((r) => r instanceof InternalServerError).length).toBe(
      server.requests.length,
    );
    const opened = chatdash.lines.filter((l) => /circuit opened/.test(l.message));
    expect(opened).toHaveLength(1);
    // Once open, the probes only: one per openMs at most (what was sent before may still arrive).
    const probes = server.arrivals.filter((t) => t > opened[0]!.at + 100);
    expect(probes.length).toBeGreaterThanOrEqual(2);
    expect(probes.length).toBeLessThanOrEqual(Math.ceil(2_000 / openMs) + 1);
    for (const [i, at] of probes.entries())
      expect(at - (probes[i - 1] ?? opened[0]!.at)).toBeGreaterThanOrEqual(openMs * 0.9);

    healthy = true;
    await sleep(openMs);
    const probe = await chatdash.getConversationWithResponse(params);
    expect(probe.attempts).toMatchObject([{ attempt: 1, status: 200 }]);
    expect(chatdash.lines.filter((l) => /circuit/.test(l.message))).toMatchObject([
      { level: 'warn', message: 'chatdash-client: circuit opened: calls fail fast for 400 ms' },
      { level: 'info', message: 'chatdash-client: circuit closed: calls go through again' },
    ]);
    const after = server.requests.length;
    await Promise.all(Array.from({ length: 20 }, () => chatdash.getConversation(params)));
    expect(server.requests).toHaveLength(after + 20);
  });

  it('charges a refused call nothing from the retry budget', async () => {
    let mode: 'down' | 'up' | 'flaky' = 'down';
    const server = await timedServer((req, res) => {
      if (mode === 'up') return ok(req, res);
      if (mode === 'flaky') mode = 'up';
      sendJson(res, 503, {}, noWait);
    });
    const chatdash = client(server.baseUrl, {
      circuitBreaker: { failureThreshold: 3, openMs: 300 },
      // One retry's worth: a refused call that paid would leave nothing for the last call.
      retryBudget: { capacity: 5, retryCost: 5 },
    });
    for (let i = 0; i < 3; i++) await failure(chatdash.getConversation(params, { maxRetries: 0 }));
    for (let i = 0; i < 100; i++) {
      const error = await failure(chatdash.getConversation(params));
      expect(error).toBeInstanceOf(CircuitOpenError);
      expect((error as ChatDashError).attempts).toEqual([]);
    }
    expect(server.requests).toHaveLength(3);
    mode = 'up';
    await sleep(300);
    await chatdash.getConversation(params); // the probe: it closes the circuit
    mode = 'flaky';
    const retried = await chatdash.getConversationWithResponse(params);
    expect(retried.attempts.map((a) => a.status)).toEqual([503, 200]);
  });

  it('refuses at once while it is open even with rateLimit set: no wait for a send slot', async () => {
    const server = await timedServer((_, res) => sendJson(res, 500, {}, noWait));
    const chatdash = client(server.baseUrl, {
      circuitBreaker: { failureThreshold: 3, openMs: 10_000 },
      rateLimit: { perSecond: 10, burst: 1 },
      maxRetries: 0,
    });
    for (let i = 0; i < 3; i++) await failure(chatdash.getConversation(params));
    const calls = Array.from({ length: 20 }, () =>
      timed(failure(chatdash.getConversation(params))),
    );
    for (const { value, seconds } of await Promise.all(calls)) {
      expect(value).toBeInstanceOf(CircuitOpenError);
      expect(seconds).toBeLessThan(0.05);
    }
    expect(server.requests).toHaveLength(3);
  });
});

describe('clients sharing createMemoryCoordinator()', () => {
  it('share the retry budget and the circuit with the same baseUrl and key, and nothing with another key', async () => {
    const server = await timedServer((_, res) => sendJson(res, 500, {}, noWait));
    const coordinator = createMemoryCoordinator();
    const shared = {
      coordinator,
      circuitBreaker: { failureThreshold: 5, openMs: 10_000 },
      retryBudget: { capacity: 10, retryCost: 5 },
    };
    const a = client(server.baseUrl, shared);
    const b = client(server.baseUrl, shared);
    const other = client(server.baseUrl, { ...shared, apiKey: 'ck_flow_other_key' });

    // a's call spends the budget on two retries: b's call cannot retry, other's can.
    await failure(a.getConversation(params));
    expect(server.requests).toHaveLength(3);
    await failure(b.getConversation(params));
    expect(server.requests).toHaveLength(4);
    await failure(other.getConversation(params));
    expect(server.requests).toHaveLength(7);
    // The fifth failure in a row of a and b opens their circuit for both; other's counts its own.
    expect(await failure(a.getConversation(params))).toBeInstanceOf(InternalServerError);
    expect(await failure(b.getConversation(params))).toBeInstanceOf(CircuitOpenError);
    expect(a.lines.map((l) => l.message)).toContain(
      'chatdash-client: circuit opened: calls fail fast for 10000 ms',
    );
    expect(await failure(other.getConversation(params))).toBeInstanceOf(InternalServerError);
    expect(server.requests.map((r) => r.headers.authorization)).toEqual([
      ...Array<string>(4).fill(apiKey),
      ...Array<string>(3).fill('ck_flow_other_key'),
      apiKey,
      'ck_flow_other_key',
    ]);
    await coordinator.close();
  });

  it('share the rate-limit pause with the same baseUrl and key, and not with another key', async () => {
    let limited = true;
    const server = await timedServer((req, res) => {
      if (!limited) return ok(req, res);
      limited = false;
      sendJson(res, 429, {}, { 'retry-after': '1' });
    });
    const coordinator = createMemoryCoordinator();
    const a = client(server.baseUrl, { coordinator, maxRetries: 0 });
    const b = client(server.baseUrl, { coordinator });
    const other = client(server.baseUrl, { coordinator, apiKey: 'ck_flow_other_key' });
    expect(await failure(a.getConversation(params))).toBeInstanceOf(RateLimitError);
    const [held, free] = await Promise.all([
      timed(b.getConversationWithResponse(params)),
      timed(other.getConversationWithResponse(params)),
    ]);
    expect(free.seconds).toBeLessThan(0.5);
    expect(free.value.attempts[0]!.delaySource).toBeUndefined();
    expect(held.seconds).toBeGreaterThan(0.7);
    expect(held.value.attempts[0]).toMatchObject({ status: 200, delaySource: 'rate-limit' });
    await coordinator.close();
  });

  it('share one send rate across clients of the same scope', async () => {
    const server = await timedServer(ok);
    const coordinator = createMemoryCoordinator();
    const rateLimit = { perSecond: 50, burst: 5 };
    const a = client(server.baseUrl, { coordinator, rateLimit });
    const b = client(server.baseUrl, { coordinator, rateLimit });
    const start = performance.now();
    await Promise.all([
      load(() => a.getConversationWithResponse(params), 8, 1_500),
      load(() => b.getConversationWithResponse(params), 8, 1_500),
    ]);
    const sent = server.arrivals.filter((t) => t - start <= 1_500).length;
    // 50/s for 1.5 s plus the burst for both clients together (alone, each would send as much).
    expect(sent).toBeGreaterThanOrEqual(0.9 * 80);
    expect(sent).toBeLessThanOrEqual(1.1 * 80);
  });
});
