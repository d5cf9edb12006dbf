/**
 * Direct guards, with a clear margin, for what only a loose bound of a larger
 * test caught: the adaptive rate as the Redis scripts keep it (halved on a
 * 429 at most once a second, climbing perSecond / 20 a quiet second), and a
 * frozen Redis (SIGSTOP) costing one call one `timeoutMs` at most, every
 * later decision being local at once.
 */
import { createHash } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import { createChatDashClient } from '../../src/index.js';
import { makeConversation } from '../../src/testing.js';
import { connectRedis, redisForFile } from '../helpers/redis.js';
import { httpServer, sendJson } from '../helpers/servers.js';
import { sleep } from '../helpers/settle.js';

const apiKey = 'ck_guards_Lr8Nc4Fx6Hy1';
const redis = redisForFile({ flushAfterEach: true });
const params = (agentId = 'a1') => ({ agentId, conversationId: 'c1' });

/** `busy`: a plain 429 (no Retry-After); anything else 200. */
const upstream = () =>
  httpServer((req, res) =>
    req.url!.includes('/busy/') ? sendJson(res, 429, {}) : sendJson(res, 200, makeConversation()),
  );

describe('the adaptive rate in Redis', () => {
  it('halves on a 429 at most once a second, then climbs perSecond / 20 each quiet second', async () => {
    const { baseUrl } = await upstream();
    const { coordinator } = await redis.coordinator();
    const chatdash = createChatDashClient({
      apiKey,
      baseUrl,
      coordinator,
      rateLimit: { perSecond: 400, adaptive: true },
      maxRetries: 0,
      logLevel: 'off',
    });
    await chatdash.getConversation(params()); // the rate's key exists
    await sleep(300);
    const admin = connectRedis(redis.server.url);
    const id = createHash('sha256')
      .update(`${new URL(baseUrl).origin}\n${apiKey}`)
      .digest('hex');
    const rate = async () => {
      await sleep(100); // the halving is sent after the call ends
      const [value, generation] = await admin.hmget(`chatdash:{${id}}:rate`, 'rate', 'gen');
      return { rate: Number(value), generation: Number(generation) };
    };
    try {
      const busy = () => chatdash.getConversation(params('busy')).catch(() => {});
      await busy();
      const halvedAt = performance.now();
      expect(await rate()).toEqual({ rate: 200, generation: 1 });
      await sleep(400);
      await busy(); // within the second: the same signal, but the quiet second starts over
      const lastAt = performance.now();
      expect(await rate()).toEqual({ rate: 200, generation: 1 });
      expect(lastAt - halvedAt).toBeLessThan(1_000);
      await sleep(700);
      // Over a second after the halving, under one after the last 429: no climb yet.
      await chatdash.getConversation(params());
      expect(performance.now() - lastAt).toBeLessThan(1_000);
      expect(await rate()).toEqual({ rate: 200, generation: 1 });
      await sleep(1_600);
      const before = performance.now();
      await chatdash.getConversation(params()); // a reservation: the climb is reckoned there
      const after = performance.now();
      const climbed = await rate();
      // Two (or, on a slow machine, three) quiet seconds since the last 429: 240 or 260.
      const least = 200 + 20 * Math.floor((before - lastAt) / 1_000);
      const most = 200 + 20 * Math.floor((after - lastAt + 100) / 1_000);
      expect(climbed.rate).toBeGreaterThanOrEqual(Math.max(240, least));
      expect(climbed.rate).toBeLessThanOrEqual(Math.min(260, most));
      expect(climbed.generation).toBe(1);
    } finally {
      admin.disconnect();
    }
  });
});

describe('Redis frozen with SIGSTOP (coordinator timeoutMs 1,000)', () => {
  it('costs the first call one timeoutMs at most, and every later call nothing', async () => {
    const { baseUrl } = await upstream();
    const { coordinator } = await redis.coordinator({ timeoutMs: 1_000 });
    const chatdash = createChatDashClient({
      apiKey,
      baseUrl,
      coordinator,
      rateLimit: { perSecond: 1_000 },
      circuitBreaker: { failureThreshold: 50 },
      logLevel: 'off',
    });
    for (let i = 0; i < 5; i++) await chatdash.getConversation(params());
    await sleep(300);
    redis.server.freeze();
    try {
      const durations: number[] = [];
      // Enough calls that the first one's batch of slots runs out and Redis is asked again.
      for (let i = 0; i < 200; i++) {
        const began = performance.now();
        await chatdash.getConversation(params());
        durations.push(performance.now() - began);
      }
      const slow = durations.filter((ms) => ms >= 500);
      // One call waited for Redis until timeoutMs (1,000 ms); sharing was then lost, and no
      // other call waited for it: each took what a call to a local upstream takes.
      expect(slow).toHaveLength(1);
      expect(slow[0]).toBeGreaterThanOrEqual(950);
      expect(slow[0]).toBeLessThan(2_500);
    } finally {
      redis.server.thaw();
    }
  });
});
