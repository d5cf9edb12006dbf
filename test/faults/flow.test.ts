/**
 * rateLimit end to end on real sockets, on the default in-process
 * coordinator: sends per second, the wait counted toward deadlineMs, an abort
 * while waiting. Servers on 127.0.0.1 count what reaches them and when; no
 * test injects a fetch or a clock. Bounds are generous: CI is a loaded 2-core
 * box. The adaptive rate and the breaker are in flow-*.test.ts, which run
 * beside this file.
 */
import { performance } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import {
  APIConnectionTimeoutError,
  APIUserAbortError,
  type ChatDashError,
  type ConversationWithResponse,
} from '../helpers/transport.js';
import { failure, sleep, timed } from '../helpers/settle.js';
import { client, load, ok, params, timedServer } from '../helpers/flow.js';

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
});
