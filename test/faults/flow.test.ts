/**
 * Flow control (`rateLimit`, `circuitBreaker`) end to end on real sockets,
 * with the default in-process coordinator and with one shared by two
 * clients. Servers on 127.0.0.1 count what reaches them and when; no test
 * injects a fetch or a clock. Bounds are generous: CI is a loaded 2-core box.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import {
  APIConnectionError,
  APIConnectionTimeoutError,
  APIUserAbortError,
  CircuitOpenError,
  createChatDashClient,
  createMemoryCoordinator,
  InternalServerError,
  RateLimitError,
  type ChatDashClientOptions,
  type ChatDashError,
  type ConversationWithResponse,
} from '../helpers/transport.js';
import { httpServer, sendJson } from '../helpers/servers.js';
import { makeConversation } from '../../src/testing.js';
import { loggedClient } from '../helpers/logs.js';
import { failure, sleep, timed } from '../helpers/settle.js';

const apiKey = 'ck_flow_test_key';
const params = { agentId: 'agent_1', conversationId: 'conv_1' };
const noWait = { 'retry-after-ms': '0' };

/** A client on `baseUrl` whose log lines are kept in `lines`, with when they were written. */
function client(baseUrl: string, options: ChatDashClientOptions = {}) {
  return loggedClient(createChatDashClient, { apiKey, baseUrl, logLevel: 'info', ...options });
}

/** A server that records when each request arrived and answers with `answer`. */
async function timedServer(answer: (req: IncomingMessage, res: ServerResponse) => void) {
  const arrivals: number[] = [];
  const server = await httpServer((req, res) => {
    arrivals.push(performance.now());
    answer(req, res);
  });
  return Object.assign(server, { arrivals });
}

const ok = (_: IncomingMessage, res: ServerResponse) => sendJson(res, 200, makeConversation());

/**
 * `inFlight` loops of calls for `ms`; every settled call's result or error.
 * A loop whose call failed yields for 5 ms, as a caller would: a call refused
 * at once settles in microtasks, and a loop of those would starve the sockets.
 */
async function load(
  call: () => Promise<ConversationWithResponse>,
  inFlight: number,
  ms: number,
): Promise<Array<ConversationWithResponse | Error>> {
  const results: Array<ConversationWithResponse | Error> = [];
  const end = performance.now() + ms;
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (performance.now() < end) {
        const result = await call().catch((error: unknown) => error as Error);
        results.push(result);
        if (result instanceof Error) await sleep(5);
      }
    }),
  );
  return results;
}

/** A port on 127.0.0.1 that refuses connections (a server was there a moment ago). */
async function refusedPort(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return `http://127.0.0.1:${port}`;
}

describe('rateLimit', () => {
  it.each([
    [8, 25],
    [32, 100],
  ])(
    'sends %i calls in flight at perSecond %i: that many a second plus the burst, holding attempts with delaySource throttle',
    async (inFlight, perSecond) => {
      const server = await timedServer(ok);
      // Connections open first (one pool per transport), so the burst is not spent connecting.
      const warm = client(server.baseUrl);
      await Promise.all(Array.from({ length: inFlight }, () => warm.getConversation(params)));
      server.arrivals.length = 0;
      const chatdash = client(server.baseUrl, { rateLimit: { perSecond } });
      const start = performance.now();
      const results = await load(
        () => chatdash.getConversationWithResponse(params),
        inFlight,
        3_000,
      );
      const sent = server.arrivals.filter((t) => t - start <= 3_000).length;
      // perSecond for 3 s plus the default burst (a tenth of perSecond), +/- 10 %.
      const expected = perSecond * 3 + Math.max(1, perSecond / 10);
      expect(sent).toBeGreaterThanOrEqual(0.9 * expected);
      expect(sent).toBeLessThanOrEqual(1.1 * expected);
      const done = results.filter((r): r is ConversationWithResponse => !(r instanceof Error));
      expect(done).toHaveLength(results.length);
      // Beyond the burst, calls wait for their slots (most of them: a loaded box may fall behind).
      const held = done.filter((r) => r.attempts[0]!.delaySource === 'throttle');
      expect(held.length).toBeGreaterThan(done.length / 2);
      expect(held.every((r) => r.attempts[0]!.delayMs! > 0)).toBe(true);
    },
  );

  it('counts the wait toward deadlineMs: a wait past the deadline is refused at once, a stall after it ends at the deadline', async () => {
    const server = await timedServer((req, res) => {
      if (!req.url!.includes('stall')) ok(req, res);
    });
    // One slot every 500 ms, no burst.
    const chatdash = client(server.baseUrl, { rateLimit: { perSecond: 2 } });
    await chatdash.getConversation(params);
    // Its slot is 500 ms away: the wait, then the stalled attempt, share one 900 ms deadline.
    const stalled = await timed(
      failure(
        chatdash.getConversation({ ...params, conversationId: 'stall' }, { deadlineMs: 900 }),
      ),
    );
    expect(stalled.value).toBeInstanceOf(APIConnectionTimeoutError);
    expect(stalled.value.message).toMatch(/deadline of 900 ms/);
    expect(stalled.seconds).toBeGreaterThanOrEqual(0.85);
    expect(stalled.seconds).toBeLessThan(1.6);
    expect((stalled.value as ChatDashError).attempts[0]).toMatchObject({
      delaySource: 'throttle',
    });
    expect(server.arrivals[1]! - server.arrivals[0]!).toBeGreaterThanOrEqual(400);

    // A call takes the next slot; the one after it is about 600 ms away, past a 200 ms deadline.
    const queued = chatdash.getConversation(params);
    const refused = await timed(failure(chatdash.getConversation(params, { deadlineMs: 200 })));
    expect(refused.value).toBeInstanceOf(APIConnectionTimeoutError);
    expect(refused.value.message).toMatch(/deadline of 200 ms/);
    expect(refused.seconds).toBeLessThan(0.15);
    expect((refused.value as ChatDashError).attempts).toEqual([]);
    await queued;
    expect(server.requests).toHaveLength(3);
  });

  it('rejects at once when the caller aborts during the wait, having sent nothing', async () => {
    const server = await timedServer(ok);
    // The next slot is 5 s away.
    const chatdash = client(server.baseUrl, { rateLimit: { perSecond: 0.2 } });
    await chatdash.getConversation(params);
    const controller = new AbortController();
    const waiting = failure(chatdash.getConversation(params, { signal: controller.signal }));
    await sleep(100);
    const abortedAt = performance.now();
    controller.abort();
    const error = await waiting;
    expect(performance.now() - abortedAt).toBeLessThan(500);
    expect(error).toBeInstanceOf(APIUserAbortError);
    expect((error as ChatDashError).attempts).toEqual([]);
    expect(server.requests).toHaveLength(1);
  });

  it('learns an upstream limit of 50/s with adaptive: few 429s and 35 successes/s or more once settled', async () => {
    // The 5 % of 429s is for an unloaded box: the answers to what was in flight when the
    // first 429 came are 429s too, and their number grows with the round trip.
    // Plain 429s (no Retry-After) beyond 50 requests in any 1 s.
    const accepted: number[] = [];
    const answers: Array<{ at: number; status: number }> = [];
    const server = await httpServer((req, res) => {
      const now = performance.now();
      while (accepted.length > 0 && accepted[0]! <= now - 1_000) accepted.shift();
      const status = accepted.length < 50 ? 200 : 429;
      if (status === 200) accepted.push(now);
      answers.push({ at: now, status });
      if (status === 200) ok(req, res);
      else sendJson(res, 429, { error: 'slow down' });
    });
    const chatdash = client(server.baseUrl, { rateLimit: { perSecond: 400, adaptive: true } });
    const start = performance.now();
    await load(() => chatdash.getConversationWithResponse(params), 16, 8_000);
    const settled = answers.filter((a) => a.at - start >= 4_000 && a.at - start < 8_000);
    const limited = settled.filter((a) => a.status === 429).length;
    const successes = settled.length - limited;
    expect(limited / settled.length).toBeLessThan(0.1);
    expect(successes / 4).toBeGreaterThanOrEqual(35);
    // And it did start far above the limit: the first seconds drew 429s.
    expect(answers.filter((a) => a.status === 429).length).toBeGreaterThan(0);
  }, 20_000);
  it('makes attempts waiting for a slot take a new one at the halved rate after a 429', async () => {
    let limited = false;
    const server = await timedServer((req, res) => {
      if (!limited) return ok(req, res);
      limited = false;
      sendJson(res, 429, {});
    });
    // One slot every 250 ms, no burst: five calls get slots 0, 250, 500, 750 and 1,000 ms away.
    const chatdash = client(server.baseUrl, {
      rateLimit: { perSecond: 4, burst: 1, adaptive: true },
      maxRetries: 0,
    });
    await chatdash.getConversation(params); // a connection open, so the first answer comes at once
    await sleep(300);
    server.arrivals.length = 0;
    limited = true;
    await Promise.all(
      Array.from({ length: 5 }, () => chatdash.getConversation(params).catch(() => undefined)),
    );
    expect(server.arrivals).toHaveLength(5);
    // The first answered 429: the rate halved to 2/s, and the four waiting took slots 500 ms apart.
    const gaps = server.arrivals.slice(1).map((t, i) => t - server.arrivals[i]!);
    for (const gap of gaps) expect(gap).toBeGreaterThanOrEqual(400);
  });
});

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
