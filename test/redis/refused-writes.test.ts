/**
 * A real redis-server that answers reads but refuses writes: maxmemory with
 * `noeviction`, and a replica whose master is gone. Both are ordinary states
 * in production. Sharing is lost once (one warn), is not called back while
 * writes still fail (no info), the local rate limit holds, and sharing comes
 * back once (one info) when writes work again.
 */
import { performance } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import { createChatDashClient } from '../../src/index.js';
import { makeConversation } from '../../src/testing.js';
import { loggedClient } from '../helpers/logs.js';
import { connectRedis, redisForFile } from '../helpers/redis.js';
import { freePort } from '../../scripts/fleet/redis-server.js';
import { httpServer, sendJson } from '../helpers/servers.js';
import { sleep } from '../helpers/settle.js';

const apiKey = 'ck_refused_Jt6Wq2Hs9Bn4';
const redis = redisForFile({ flushAfterEach: true });
const params = { agentId: 'a1', conversationId: 'c1' };

/** Ways to make Redis refuse writes and to undo it, on an admin connection. */
const states = {
  'maxmemory with noeviction': {
    refuse: async (admin: ReturnType<typeof connectRedis>) => {
      await admin.config('SET', 'maxmemory-policy', 'noeviction');
      await admin.config('SET', 'maxmemory', '1');
    },
    restore: async (admin: ReturnType<typeof connectRedis>) => {
      await admin.config('SET', 'maxmemory', '0');
    },
  },
  'a read-only replica whose master is gone': {
    refuse: async (admin: ReturnType<typeof connectRedis>) => {
      await admin.config('SET', 'replica-read-only', 'yes');
      await admin.replicaof('127.0.0.1', await freePort()); // nothing listens there
    },
    restore: async (admin: ReturnType<typeof connectRedis>) => {
      await admin.replicaof('NO', 'ONE');
    },
  },
};

describe.each(Object.entries(states))('a Redis that refuses writes: %s', (_, state) => {
  it('one warn, no info while writes fail, rateLimit 20/s holds, one info once they work', async () => {
    const sent: number[] = [];
    const { baseUrl } = await httpServer((_, res) => {
      sent.push(performance.now());
      sendJson(res, 200, makeConversation());
    });
    const { coordinator } = await redis.coordinator({ timeoutMs: 200 });
    const chatdash = loggedClient(createChatDashClient, {
      apiKey,
      baseUrl,
      coordinator,
      rateLimit: { perSecond: 20 },
      logLevel: 'info',
    });
    await chatdash.getConversation(params); // sharing, and the rate in Redis
    await sleep(300);
    const admin = connectRedis(redis.server.url);
    try {
      await state.refuse(admin);
      const refusedAt = performance.now();
      // 8 calls in flight for 3 s.
      await Promise.all(
        Array.from({ length: 8 }, async () => {
          while (performance.now() - refusedAt < 3_000) await chatdash.getConversation(params);
        }),
      );
      await sleep(1_500); // idle: a probe that only reads would call sharing back here
      const lines = (re: RegExp) => chatdash.lines.filter((l) => re.test(l.message));
      // 20/s for 3 s, the burst of 2, and what was reserved before: 62 or so. Flapping sent 336-415.
      const during = sent.filter((at) => at > refusedAt && at <= refusedAt + 3_000).length;
      expect(during).toBeGreaterThan(40);
      expect(during).toBeLessThanOrEqual(20 * 3 + 2 + 8);

      await state.restore(admin);
      const restoredAt = performance.now();
      await sleep(2_500);
      await chatdash.getConversation(params);
      expect(lines(/sharing lost/)).toHaveLength(1);
      const back = lines(/sharing is back/);
      expect(back).toHaveLength(1);
      expect(back[0]!.at - restoredAt).toBeLessThan(2_000);
    } finally {
      await state.restore(admin).catch(() => {});
      admin.disconnect();
    }
  }, 20_000);
});
