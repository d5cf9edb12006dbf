/**
 * Traffic across calls (one client is shared by a whole service, so it must
 * not multiply an outage), end to end on real sockets:
 * the retry budget, the shared rate-limit pause, the deadline, bulk calls and
 * de-duplication. Servers on 127.0.0.1 count what reaches them; no test
 * injects a fetch. Servers that fail answer `retry-after-ms: 0` unless the
 * test is about waiting, so nothing sleeps through backoff.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import {
  APIConnectionTimeoutError,
  APIUserAbortError,
  ChatDashError,
  createChatDashClient,
  InternalServerError,
  NotFoundError,
  RateLimitError,
  type ChatDashClientOptions,
  type Conversation,
  type GetConversationParams,
} from '../helpers/transport.js';
import { expectExitByItself } from '../helpers/child.js';
import { httpServer, sendJson, tcpServer } from '../helpers/servers.js';
import { makeConversation } from '../../src/testing.js';
import { loggedClient, type LogLine } from '../helpers/logs.js';
import { collect, failure, sleep, timed, until } from '../helpers/settle.js';

const apiKey = 'ck_traffic_test_key';
const params = { agentId: 'agent_1', conversationId: 'conv_1' };
const noWait = { 'retry-after-ms': '0' };

/** A client on `baseUrl` whose log lines are kept in `lines`. */
function client(baseUrl: string, options: ChatDashClientOptions = {}) {
  return loggedClient(createChatDashClient, { apiKey, baseUrl, ...options });
}

/**
 * Resolves once the client has logged that a server's wait paused it. Calls
 * started from then on are inside the pause, however late the client read the
 * response that asked for it (a server-side timestamp or a fixed sleep says
 * nothing about that on a busy machine). Rejects after 10 s without the log line,
 * so a client that never pauses fails here, not at the test's timeout.
 */
async function paused(chatdash: { lines: LogLine[] }) {
  const since = performance.now();
  const logged = () =>
    chatdash.lines.some((l) => l.level === 'warn' && /rate limited/.test(l.message));
  await until(() => logged() || performance.now() - since > 10_000);
  if (!logged()) throw new Error('the client logged no "rate limited" warning within 10 s');
}

/** The conversation whose `_id` is the requested conversationId, so order can be checked. */
function echo(req: IncomingMessage, res: ServerResponse) {
  const id = decodeURIComponent(req.url!.split('?')[0]!.split('/').pop()!);
  sendJson(res, 200, makeConversation({ _id: id }));
}

const ids = (n: number): GetConversationParams[] =>
  Array.from({ length: n }, (_, i) => ({ agentId: 'agent_1', conversationId: `c${i}` }));

describe('retry budget', () => {
  it('sends at most 1,100 requests for 1,000 sequential calls into a dead upstream, each still rejecting with its typed error', async () => {
    const server = await httpServer((_, res) => sendJson(res, 503, { error: 'down' }, noWait));
    const chatdash = client(server.baseUrl);
    const errors: Error[] = [];
    for (let i = 0; i < 1_000; i++) errors.push(await failure(chatdash.getConversation(params)));
    // 500 tokens at 5 a retry: 100 retries in all, then one request per call.
    expect(server.requests.length).toBeLessThanOrEqual(1_100);
    expect(server.requests).toHaveLength(1_100);
    expect(errors.every((e) => e instanceof InternalServerError && e.status === 503)).toBe(true);
    expect(errors.at(-1)).toMatchObject({ attempts: [{ attempt: 1, status: 503 }] });
    const exhausted = chatdash.lines.filter(
      (l) => l.level === 'warn' && /retry budget exhausted/.test(l.message),
    );
    expect(exhausted.length).toBeGreaterThan(0);
    expect(exhausted[0]!.fields).toMatchObject({ attempt: 1, tokens: 0 });
    // A 0 ms server wait holds nothing, so it is no rate-limit warning.
    expect(chatdash.lines.filter((l) => /rate limited/.test(l.message))).toEqual([]);
  });

  it('refills with successes once the upstream recovers, and retries resume', async () => {
    let mode: 'down' | 'up' | 'flaky' = 'down';
    let flakyFailed = false;
    const server = await httpServer((_, res) => {
      if (mode === 'down' || (mode === 'flaky' && !flakyFailed)) {
        flakyFailed = mode === 'flaky';
        sendJson(res, 503, {}, noWait);
      } else sendJson(res, 200, makeConversation());
    });
    const chatdash = client(server.baseUrl);
    for (let i = 0; i < 50; i++) await failure(chatdash.getConversation(params));
    expect(server.requests).toHaveLength(150); // the bucket is empty now

    // Empty: a single 503 is not retried.
    mode = 'flaky';
    flakyFailed = false;
    await expect(chatdash.getConversation(params)).rejects.toBeInstanceOf(InternalServerError);
    expect(server.requests).toHaveLength(151);

    // Five successes put five tokens back: enough for one retry.
    mode = 'up';
    for (let i = 0; i < 5; i++) await chatdash.getConversation(params);
    mode = 'flaky';
    flakyFailed = false;
    const { attempts } = await chatdash.getConversationWithResponse(params);
    expect(attempts.map((a) => a.status)).toEqual([503, 200]);
    expect(server.requests).toHaveLength(151 + 5 + 2);
  });

  it('puts back exactly one token per successful call: 12 successes pay for two retries at 5, not more', async () => {
    let up = false;
    const server = await httpServer((_, res) =>
      up ? sendJson(res, 200, makeConversation()) : sendJson(res, 503, {}, noWait),
    );
    const chatdash = client(server.baseUrl, { retryBudget: { capacity: 20, retryCost: 5 } });
    // Drained: two calls retried twice each at 5 tokens, then a call without a retry.
    for (let i = 0; i < 3; i++) await failure(chatdash.getConversation(params));
    expect(server.requests).toHaveLength(3 + 3 + 1);

    up = true;
    for (let i = 0; i < 12; i++) await chatdash.getConversation(params);
    up = false;
    const before = server.requests.length;
    const errors: Error[] = [];
    for (let i = 0; i < 5; i++) errors.push(await failure(chatdash.getConversation(params)));
    // 12 tokens: the first call's two retries (2 tokens left), then none. Refilling 2 or
    // more a success would have paid for the 20-token cap, 4 retries; refilling none, 0.
    expect(errors.map((e) => (e as ChatDashError).attempts.length)).toEqual([3, 1, 1, 1, 1]);
    expect(server.requests.length - before).toBe(5 + 2);
  });

  it('retries every call in full with retryBudget: false (3,000 requests for 1,000 calls)', async () => {
    const server = await httpServer((_, res) => sendJson(res, 503, {}, noWait));
    const chatdash = client(server.baseUrl, { retryBudget: false });
    for (let i = 0; i < 1_000; i++) await failure(chatdash.getConversation(params));
    expect(server.requests).toHaveLength(3_000);
    expect(chatdash.lines.filter((l) => /retry budget/.test(l.message))).toEqual([]);
  }, 45_000);

  it('charges a retry after a timeout timeoutCost, and after an error response retryCost', async () => {
    const retryBudget = { capacity: 10, retryCost: 5, timeoutCost: 10 };
    const stalled = await tcpServer(() => {});
    const slow = client(stalled.baseUrl, { retryBudget, maxRetries: 10, timeoutMs: 50 });
    const timedOut = await failure(slow.getConversation(params));
    expect(timedOut).toBeInstanceOf(APIConnectionTimeoutError);
    // Counted by the client: a 50 ms attempt may be cut before its request reaches the server.
    expect((timedOut as ChatDashError).attempts).toHaveLength(2); // 1 retry x 10 tokens

    const down = await httpServer((_, res) => sendJson(res, 503, {}, noWait));
    const failing = client(down.baseUrl, { retryBudget, maxRetries: 10 });
    await failure(failing.getConversation(params));
    expect(down.requests).toHaveLength(3); // 2 retries x 5 tokens
  });
});

describe('shared rate-limit pause', () => {
  it('holds every call on the client until a 429 Retry-After: 2 has passed, then all 50 complete', async () => {
    const arrivals: number[] = [];
    let answered429 = 0;
    let opened = false;
    const server = await httpServer((req, res) => {
      if (!opened) return echo(req, res);
      arrivals.push(performance.now());
      if (arrivals.length > 50) return echo(req, res);
      if (req.url!.endsWith('/c0')) {
        // The first call is told to wait 2 s.
        sendJson(res, 429, { error: 'slow down' }, { 'retry-after': '2' });
        answered429 = performance.now();
      } else {
        // The rest get a 503 without a wait of their own once the client has taken the
        // pause. Every call was past the gate before the 429 could be read, so all 50
        // first attempts reach the server.
        void paused(chatdash).then(() => sendJson(res, 503, {}));
      }
    });
    // timeoutMs shorter than the pause: the per-attempt timer starts when the attempt is sent.
    const chatdash = client(server.baseUrl, { timeoutMs: 1_500 });
    // 50 connections opened first, with time to spare: a busy machine is slowest at
    // that, and a first attempt that timed out would be retried before the pause began.
    await Promise.all(ids(50).map((p) => chatdash.getConversation(p, { timeoutMs: 30_000 })));
    opened = true;
    const calls = ids(50).map((p) => chatdash.getConversationWithResponse(p));

    // Started during the pause: one that waits too, one aborted while it waits.
    await paused(chatdash);
    const late = chatdash.getConversationWithResponse({ ...params, conversationId: 'late' });
    const controller = new AbortController();
    const aborted = chatdash.getConversation(params, { signal: controller.signal });
    // A call is held within microtasks of starting; any wait well inside the pause will do.
    await sleep(50);
    controller.abort();
    const abort = await timed(failure(aborted));

    const results = await Promise.all(calls);
    const lateResult = await late;
    // No request reached the server for 1.9 s after the 429, and all came within 1.5 s of its end.
    const after = arrivals.slice(50).map((t) => t - answered429);
    expect(Math.min(...after)).toBeGreaterThanOrEqual(1_900);
    expect(Math.max(...after)).toBeLessThan(3_500);
    expect(arrivals).toHaveLength(101); // 50 x 2, the late call once, the aborted one never

    expect(results.map((r) => r.data._id)).toEqual(ids(50).map((p) => p.conversationId));
    // The 429's own call waited its own Retry-After; every other call was held by it.
    expect(results[0]!.attempts[0]).toMatchObject({ status: 429, delaySource: 'retry-after' });
    for (const { attempts } of results.slice(1)) {
      expect(attempts.map((a) => a.status)).toEqual([503, 200]);
      expect(attempts[0]!.delaySource).toBe('rate-limit');
      // Longer than its own backoff after a first failure could be (at most 500 ms).
      expect(attempts[0]!.delayMs).toBeGreaterThan(500);
    }
    // A first attempt held by the pause carries its own wait.
    expect(lateResult.data._id).toBe('late');
    expect(lateResult.attempts).toHaveLength(1);
    expect(lateResult.attempts[0]).toMatchObject({
      attempt: 1,
      status: 200,
      delaySource: 'rate-limit',
    });
    expect(lateResult.attempts[0]!.delayMs).toBeGreaterThan(100);

    expect(abort.value).toBeInstanceOf(APIUserAbortError);
    expect(abort.seconds).toBeLessThan(0.5);
    // Aborted while held: nothing was sent, so there is no attempt to show.
    expect((abort.value as ChatDashError).attempts).toEqual([]);

    const warnings = chatdash.lines.filter(
      (l) => l.level === 'warn' && /rate limited/.test(l.message),
    );
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.fields).toMatchObject({ status: 429, delayMs: 2_000 });
  });

  it('pauses for a 503 with retry-after-ms as well', async () => {
    const arrivals: number[] = [];
    const server = await httpServer((_, res, attempt) => {
      arrivals.push(performance.now());
      if (attempt === 0) sendJson(res, 503, {}, { 'retry-after-ms': '600' });
      else sendJson(res, 200, makeConversation());
    });
    const chatdash = client(server.baseUrl);
    const first = chatdash.getConversation(params);
    await paused(chatdash);
    const second = await chatdash.getConversationWithResponse(params);
    await first;
    expect(arrivals[1]! - arrivals[0]!).toBeGreaterThanOrEqual(500);
    expect(second.attempts[0]).toMatchObject({ status: 200, delaySource: 'rate-limit' });
  });

  it("pauses the client even when the 429 came on a call's last attempt", async () => {
    const arrivals: number[] = [];
    const server = await httpServer((req, res, attempt) => {
      arrivals.push(performance.now());
      if (attempt === 0) sendJson(res, 429, {}, { 'retry-after': '1' });
      else echo(req, res);
    });
    const chatdash = client(server.baseUrl, { maxRetries: 0 });
    await expect(chatdash.getConversation(params)).rejects.toBeInstanceOf(RateLimitError);
    const next = await chatdash.getConversationWithResponse(params);
    expect(arrivals[1]! - arrivals[0]!).toBeGreaterThanOrEqual(900);
    expect(next.attempts[0]).toMatchObject({ status: 200, delaySource: 'rate-limit' });
  });

  it('does not pause the client for another status or for a wait over 60 s', async () => {
    const server = await httpServer((_, res, attempt) => {
      if (attempt === 0) sendJson(res, 500, {}, { 'retry-after-ms': '5000' });
      else if (attempt === 1) sendJson(res, 429, {}, { 'retry-after': '120' });
      else sendJson(res, 200, makeConversation());
    });
    const chatdash = client(server.baseUrl, { maxRetries: 0 });
    await expect(chatdash.getConversation(params)).rejects.toBeInstanceOf(InternalServerError);
    await expect(chatdash.getConversation(params)).rejects.toBeInstanceOf(RateLimitError);
    const { value, seconds } = await timed(chatdash.getConversationWithResponse(params));
    expect(seconds).toBeLessThan(2.5); // held, it would take 5 s or 120 s
    expect(value.attempts[0]!.delaySource).toBeUndefined();
  });
});

describe('deadlineMs', () => {
  it('rejects a call to a stalled server at the deadline, though timeoutMs is longer', async () => {
    const server = await tcpServer(() => {});
    const chatdash = client(server.baseUrl, { deadlineMs: 300, timeoutMs: 10_000 });
    const { value: error, seconds } = await timed(failure(chatdash.getConversation(params)));
    expect(error).toBeInstanceOf(APIConnectionTimeoutError);
    expect(error.message).toMatch(/deadline of 300 ms: GET http:\/\/127\.0\.0\.1:\d+\/agents\//);
    expect(seconds).toBeGreaterThanOrEqual(0.25);
    expect(seconds).toBeLessThan(2.5);
    expect(server.requests).toHaveLength(1);
    // The deadline error itself, not a second one wrapping it.
    expect(error.cause).toBeUndefined();
    expect((error as ChatDashError).attempts).toMatchObject([
      { attempt: 1, error: 'APIConnectionTimeoutError' },
    ]);
  });

  it('rejects at the deadline while the body stalls after the headers', async () => {
    const server = await tcpServer((socket) =>
      socket.write(
        'HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 500\r\n\r\n{"_id":',
      ),
    );
    const chatdash = client(server.baseUrl, { deadlineMs: 300, maxRetries: 0 });
    const { value: error, seconds } = await timed(failure(chatdash.getConversation(params)));
    expect(error).toBeInstanceOf(APIConnectionTimeoutError);
    expect(error.message).toMatch(/deadline of 300 ms/);
    expect(seconds).toBeLessThan(2.5);
  });

  it('takes a per-call deadline over the client one (or none)', async () => {
    const server = await tcpServer(() => {});
    for (const options of [{}, { deadlineMs: 60_000 }]) {
      const chatdash = client(server.baseUrl, options);
      const { value: error, seconds } = await timed(
        failure(chatdash.getConversation(params, { deadlineMs: 200 })),
      );
      expect(error).toBeInstanceOf(APIConnectionTimeoutError);
      expect(error.message).toMatch(/deadline of 200 ms/);
      expect(seconds).toBeLessThan(2.5);
    }
  });

  it('does not start a wait past the deadline: a 503 with Retry-After: 30 rejects at once', async () => {
    const server = await httpServer((_, res) => sendJson(res, 503, {}, { 'retry-after': '30' }));
    const chatdash = client(server.baseUrl, { deadlineMs: 5_000 });
    const { value: error, seconds } = await timed(failure(chatdash.getConversation(params)));
    expect(seconds).toBeLessThan(2);
    expect(error).toBeInstanceOf(APIConnectionTimeoutError);
    expect(error.message).toMatch(/deadline/);
    expect(error.cause).toBeInstanceOf(InternalServerError);
    expect(server.requests).toHaveLength(1);

    // The 503 paused the whole client for 30 s: a new call with a deadline does not wait for it.
    const next = await timed(failure(chatdash.getConversation(params, { deadlineMs: 2_000 })));
    expect(next.seconds).toBeLessThan(1); // not the 2 s deadline, not the 30 s pause
    expect(next.value).toBeInstanceOf(APIConnectionTimeoutError);
    expect(next.value.message).toMatch(/deadline of 2000 ms/);
    expect(server.requests).toHaveLength(1);
  });

  it('covers retries and their waits: stops retrying before the deadline would pass', async () => {
    const server = await httpServer((_, res) =>
      sendJson(res, 503, {}, { 'retry-after-ms': '150' }),
    );
    const chatdash = client(server.baseUrl, { maxRetries: 10, deadlineMs: 700 });
    const { value: error, seconds } = await timed(failure(chatdash.getConversation(params)));
    expect(error).toBeInstanceOf(APIConnectionTimeoutError);
    expect(error.message).toMatch(/deadline/);
    expect(seconds).toBeLessThan(0.7 + 0.5);
    expect(server.requests.length).toBeGreaterThanOrEqual(2);
    expect(server.requests.length).toBeLessThan(6);
  });

  it('rejects an invalid deadlineMs with a ChatDashError before sending anything', async () => {
    const server = await httpServer(echo);
    expect(() => client(server.baseUrl, { deadlineMs: 0 })).toThrow(
      /createChatDashClient: deadlineMs must be an integer from 1 to 2147483647, got number 0/,
    );
    const chatdash = client(server.baseUrl);
    await expect(
      chatdash.getConversation(params, { deadlineMs: '500' as unknown as number }),
    ).rejects.toThrow(/getConversation: deadlineMs must be an integer .* got string "500"/);
    expect(server.requests).toHaveLength(0);
  });
});

describe('getConversations', () => {
  it('yields results in input order with never more than `concurrency` requests in flight, failures as items', async () => {
    let inFlight = 0;
    let most = 0;
    const started = performance.now();
    const server = await httpServer((req, res) => {
      most = Math.max(most, ++inFlight);
      const answer = () =>
        setTimeout(
          () => {
            inFlight--;
            if (req.url!.includes('missing')) sendJson(res, 404, { error: 'not found' });
            else echo(req, res);
          },
          Math.floor(Math.random() * 8),
        );
      // The first wave is held until all 7 have arrived (or 2 s have passed): on fresh
      // connections a quick answer could otherwise come before the 7th request does.
      void until(() => most === 7 || performance.now() - started > 2_000).then(answer);
    });
    const chatdash = client(server.baseUrl);
    const input = ids(200);
    input[17] = { agentId: 'agent_1', conversationId: 'missing' };
    input[18] = { agentId: '', conversationId: 'c18' }; // rejected before sending
    const results = await collect(chatdash.getConversations(input, { concurrency: 7 }));
    expect(results.map((r) => r.params)).toEqual(input);
    expect(results.map((r) => r.data?._id)).toEqual(
      input.map((p, i) => (i === 17 || i === 18 ? undefined : p.conversationId)),
    );
    expect(results[17]!.error).toBeInstanceOf(NotFoundError);
    expect(results[18]!.error).toBeInstanceOf(ChatDashError);
    expect(most).toBeLessThanOrEqual(7);
    expect(most).toBe(7);
    expect(server.requests).toHaveLength(199);
  });

  it('on break, aborts the requests in flight (the server sees them close) and stops reading an infinite generator', async () => {
    const closed: string[] = [];
    const server = await httpServer((req, res) => {
      if (req.url!.endsWith('/c0')) return echo(req, res);
      res.on('close', () => closed.push(req.url!)); // never answered
    });
    let pulled = 0;
    let stopped = false;
    function* endless() {
      try {
        for (let i = 0; ; i++, pulled++) yield { agentId: 'agent_1', conversationId: `c${i}` };
      } finally {
        stopped = true;
      }
    }
    const chatdash = client(server.baseUrl);
    for await (const result of chatdash.getConversations(endless(), { concurrency: 4 })) {
      expect(result.data?._id).toBe('c0');
      await until(() => server.requests.length >= 4);
      break;
    }
    expect(stopped).toBe(true);
    // Every request but c0's was in flight, unanswered: each connection closes.
    await until(() => closed.length === server.requests.length - 1);
    const [seen, read] = [server.requests.length, pulled];
    await sleep(100);
    expect(server.requests).toHaveLength(seen);
    expect(pulled).toBe(read);
  });

  it('hands out a result while a slow async input waits, and an abort during that wait rejects at once', async () => {
    const server = await httpServer(echo);
    async function* slow() {
      yield { agentId: 'agent_1', conversationId: 'c0' };
      await sleep(3_000); // an input that does not listen to the signal
      yield { agentId: 'agent_1', conversationId: 'c1' };
    }
    const controller = new AbortController();
    const loop = client(server.baseUrl).getConversations(slow(), {
      concurrency: 2,
      signal: controller.signal,
    });
    const results = loop[Symbol.asyncIterator]();
    const first = await timed(results.next());
    expect(first.value.value).toMatchObject({ data: { _id: 'c0' } });
    expect(first.seconds).toBeLessThan(2);
    const second = results.next(); // c1 is still seconds away
    await sleep(100);
    controller.abort();
    const { value: error, seconds } = await timed(failure(second));
    expect(error).toBeInstanceOf(APIUserAbortError);
    expect(seconds).toBeLessThan(0.5);
    expect(server.requests).toHaveLength(1);
  });

  it('runs 64 calls at once without a MaxListenersExceededWarning (no one signal shared by every call)', async () => {
    const warnings: Error[] = [];
    const onWarning = (warning: Error) => warnings.push(warning);
    process.on('warning', onWarning);
    try {
      const server = await httpServer((req, res) => setTimeout(() => echo(req, res), 5));
      const results = await collect(
        client(server.baseUrl).getConversations(ids(200), { concurrency: 64 }),
      );
      expect(results.every((r) => r.data)).toBe(true);
      await sleep(50); // process warnings are emitted on a later tick
    } finally {
      process.off('warning', onWarning);
    }
    expect(warnings.map((w) => `${w.name}: ${w.message}`)).toEqual([]);
  });

  it('spends the retry budget like single calls: 300 items into a dead upstream send at most 400 requests', async () => {
    const server = await httpServer((_, res) => sendJson(res, 503, {}, noWait));
    const chatdash = client(server.baseUrl);
    const results = await collect(chatdash.getConversations(ids(300), { concurrency: 16 }));
    expect(results).toHaveLength(300);
    expect(results.every((r) => r.error instanceof InternalServerError)).toBe(true);
    expect(server.requests.length).toBeLessThanOrEqual(400);
  });

  it('holds its calls during a shared rate-limit pause, then completes them all', async () => {
    const arrivals: number[] = [];
    let answered429 = 0;
    const server = await httpServer((req, res, attempt) => {
      arrivals.push(performance.now());
      if (attempt === 0) {
        // Answered after the whole first wave has arrived, so later requests are the pause's.
        void until(() => arrivals.length === 8).then(() => {
          sendJson(res, 429, {}, { 'retry-after': '1' });
          answered429 = performance.now();
        });
      } else if (attempt < 8) {
        // Answered once the client has taken the pause: a success it read first would free
        // a slot, and the next item would be sent before the pause began.
        void paused(chatdash).then(() => echo(req, res));
      } else echo(req, res);
    });
    const chatdash = client(server.baseUrl);
    const results = await collect(chatdash.getConversations(ids(40), { concurrency: 8 }));
    expect(results.map((r) => r.data?._id)).toEqual(ids(40).map((p) => p.conversationId));
    const after = arrivals.slice(8).map((t) => t - answered429);
    expect(Math.min(...after)).toBeGreaterThanOrEqual(900);
    expect(server.requests).toHaveLength(41);
  });

  it.each([0, 65, 1.5, '8'])(
    'rejects concurrency %j with a ChatDashError before anything is sent',
    async (concurrency) => {
      const server = await httpServer(echo);
      const chatdash = client(server.baseUrl);
      const options = { concurrency: concurrency as number };
      await expect(collect(chatdash.getConversations(ids(3), options))).rejects.toThrow(
        /getConversations: concurrency must be an integer from 1 to 64/,
      );
      await expect(
        collect(chatdash.getConversations(ids(3), { timeoutMs: -1 })),
      ).rejects.toBeInstanceOf(ChatDashError);
      expect(server.requests).toHaveLength(0);
    },
  );
});

describe('dedupe', () => {
  /** A server that answers each request after `ms`, counting connections that close unanswered. */
  async function slowServer(ms: number) {
    const closedEarly: string[] = [];
    const server = await httpServer((req, res) => {
      const timer = setTimeout(() => echo(req, res), ms);
      res.on('close', () => {
        if (!res.writableFinished) closedEarly.push(req.url!);
        clearTimeout(timer);
      });
    });
    return Object.assign(server, { closedEarly });
  }

  it('sends one request for 10 concurrent identical calls, each caller getting its own copy', async () => {
    const server = await slowServer(50);
    const chatdash = client(server.baseUrl, { dedupe: true });
    const results = await Promise.all(
      Array.from({ length: 10 }, () => chatdash.getConversation(params)),
    );
    expect(server.requests).toHaveLength(1);
    expect(results[0]).toEqual(makeConversation({ _id: 'conv_1' }));
    results[0]!.status = 'human';
    (results[0]!.evaluation as { reason: string }).reason = 'changed';
    results[0]!.mistunderstoodQueries!.push({ question: 'added' });
    for (const other of results.slice(1))
      expect(other).toEqual(makeConversation({ _id: 'conv_1' }));
  });

  it('sends one request per distinct params, and again once the shared one has settled', async () => {
    const server = await slowServer(30);
    const chatdash = client(server.baseUrl, { dedupe: true });
    const distinct = [
      params,
      { ...params, conversationId: 'conv_2' },
      { ...params, agentId: 'agent_2' },
      { ...params, isPlatformId: true },
      { ...params, isPlatformId: false },
    ];
    const results = await Promise.all(
      [...distinct, ...distinct].map((p) => chatdash.getConversation(p)),
    );
    expect(server.requests.map((r) => r.url).sort()).toEqual(
      [
        '/agents/agent_1/conversations/conv_1',
        '/agents/agent_1/conversations/conv_2',
        '/agents/agent_2/conversations/conv_1',
        '/agents/agent_1/conversations/conv_1?isPlatformId=true',
        '/agents/agent_1/conversations/conv_1?isPlatformId=false',
      ].sort(),
    );
    expect(results.map((r: Conversation) => r._id)).toEqual(
      [...distinct, ...distinct].map((p) => p.conversationId),
    );
    await chatdash.getConversation(params);
    expect(server.requests).toHaveLength(6);
  });

  it('sends every call without dedupe (the default)', async () => {
    const server = await slowServer(30);
    const chatdash = client(server.baseUrl);
    await Promise.all(Array.from({ length: 10 }, () => chatdash.getConversation(params)));
    expect(server.requests).toHaveLength(10);
  });

  it('rejects only the caller that aborts; the others get their results from the one request', async () => {
    const server = await slowServer(300);
    const chatdash = client(server.baseUrl, { dedupe: true });
    const controller = new AbortController();
    const leaving = chatdash.getConversation(params, { signal: controller.signal });
    const staying = Array.from({ length: 4 }, () =>
      chatdash.getConversation(params, { signal: new AbortController().signal }),
    );
    await until(() => server.requests.length === 1);
    controller.abort();
    const { value: error, seconds } = await timed(failure(leaving));
    expect(error).toBeInstanceOf(APIUserAbortError);
    expect(seconds).toBeLessThan(0.5);
    for (const data of await Promise.all(staying)) expect(data._id).toBe('conv_1');
    expect(server.requests).toHaveLength(1);
    expect(server.closedEarly).toEqual([]);
  });

  it('aborts the shared request when every caller has aborted: the server sees the connection close', async () => {
    const server = await slowServer(60_000);
    const chatdash = client(server.baseUrl, { dedupe: true });
    const controllers = Array.from({ length: 3 }, () => new AbortController());
    const calls = controllers.map((c) =>
      failure(chatdash.getConversation(params, { signal: c.signal })),
    );
    await until(() => server.requests.length === 1);
    controllers[0]!.abort();
    controllers[1]!.abort();
    await sleep(100);
    expect(server.closedEarly).toEqual([]);
    controllers[2]!.abort();
    for (const error of await Promise.all(calls)) expect(error).toBeInstanceOf(APIUserAbortError);
    await until(() => server.closedEarly.length === 1);
    expect(server.requests).toHaveLength(1);
  });
});

describe('resource hygiene', () => {
  it('leaves no timer behind when a call is aborted during a 30 s backoff', async () => {
    const server = await httpServer((_, res) =>
      sendJson(res, 500, {}, { 'retry-after-ms': '30000' }),
    );
    const chatdash = client(server.baseUrl, { logLevel: 'info' });
    const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const controller = new AbortController();
    const call = failure(chatdash.getConversation(params, { signal: controller.signal }));
    // The retry is announced just before its 30 s wait starts.
    await until(() => chatdash.lines.some((l) => /retrying GET .* in 30000 ms/.test(l.message)));
    const during = timers();
    controller.abort();
    const error = await call; // only promise callbacks run between the two counts
    expect(error).toBeInstanceOf(APIUserAbortError);
    expect((error as ChatDashError).attempts).toMatchObject([
      { status: 500, delayMs: 30_000, delaySource: 'retry-after-ms' },
    ]);
    expect(timers()).toBe(during - 1);
    expect(server.requests).toHaveLength(1);
  });

  it('lets a process exit by itself after leaving a 30 s pause, a bulk loop and a shared request mid-flight', async () => {
    const server = await httpServer((req, res) => {
      const kind = req.url!.split('/')[2];
      if (kind === 'limit') sendJson(res, 429, {}, { 'retry-after': '30' });
      else if (kind === 'ok') echo(req, res);
      // 'stall' never answers.
    });
    const { result, stderr } = await expectExitByItself(
      'test/fixtures/traffic-exit.ts',
      server.baseUrl,
      20_000,
    );
    expect(result).toEqual({
      RateLimitError: 1,
      APIUserAbortError: 4,
      APIConnectionTimeoutError: 1,
      'bulk item': 1,
    });
    expect(stderr).toBe('');
  });
});
