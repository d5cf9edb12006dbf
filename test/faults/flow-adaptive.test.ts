/**
 * rateLimit with adaptive end to end on real sockets: the rate it learns from
 * an upstream's 429s, and what waiting attempts do when it halves. Servers on
 * 127.0.0.1 count what reaches them and when; no test injects a fetch or a
 * clock. Bounds are generous: CI is a loaded 2-core box.
 */
import { performance } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import { httpServer, sendJson } from '../helpers/servers.js';
import { sleep } from '../helpers/settle.js';
import { client, load, ok, params, timedServer } from '../helpers/flow.js';

describe('rateLimit with adaptive', () => {
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
