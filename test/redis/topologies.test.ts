/**
 * The Redis coordinator as fleets run Redis, each topology started once from
 * the same redis-server binary: a least-privilege user made by the README's
 * own ACL rule (and one without EVAL/EVALSHA), a TLS port with a certificate
 * made by openssl now, and a master with a replica and three Sentinels whose
 * master is killed while calls run.
 */
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisCoordinator } from '../../src/coordination/redis.js';
import { makeConversation } from '../../src/testing.js';
import {
  breakerCountsAtOnce,
  calling,
  client,
  pair,
  params,
  pauseTravels,
} from '../helpers/redis-cases.js';
import { library } from '../helpers/redis-libraries.js';
import {
  startSentinels,
  startTlsRedis,
  type Sentinels,
  type TlsRedis,
} from '../helpers/redis-topology.js';
import { connectRedis, redisForFile, scopeChannel } from '../helpers/redis.js';
import { httpServer, sendJson } from '../helpers/servers.js';
import { sleep } from '../helpers/settle.js';

const ok = () => httpServer((_, res) => sendJson(res, 200, makeConversation()));

describe('a least-privilege user', () => {
  const { server } = redisForFile({ flushAfterEach: true });
  const rule = /^\s*(ACL SETUSER chatdash .+)$/m.exec(readFileSync('README.md', 'utf8'))![1]!;

  async function admin(...args: string[]) {
    const redis = connectRedis(server.url);
    try {
      return await redis.call(args[0]!, ...args.slice(1));
    } finally {
      redis.disconnect();
    }
  }

  beforeAll(async () => {
    const words = rule.replace('>CHANGE-ME', '>s3cret-pass').split(' ').slice(1);
    await admin('ACL', ...words);
    // The same, less EVAL and EVALSHA: every shared decision is refused.
    const without = words.filter((w) => w !== '+eval' && w !== '+evalsha');
    await admin('ACL', ...without.map((w) => (w === 'chatdash' ? 'noscripts' : w)));
  });

  it.each(['ioredis 6', 'node-redis 6'])(
    "runs everything as the README rule's user through %s: the pause travels, nothing is denied",
    async (name) => {
      await admin('ACL', 'LOG', 'RESET');
      const where = { port: server.port, username: 'chatdash', password: 's3cret-pass' };
      const { coordinators, close } = await pair(() => library(name).connect(where));
      await pauseTravels(coordinators[0]!, coordinators[1]!);
      const upstream = await ok();
      const chatdash = client(upstream.baseUrl, {
        coordinator: coordinators[0],
        rateLimit: { perSecond: 50 },
        circuitBreaker: {},
      });
      for (let i = 0; i < 20; i++) await chatdash.getConversation(params);
      expect(chatdash.lines.filter((l) => l.message.includes('redis'))).toEqual([]);
      expect(await admin('ACL', 'LOG')).toEqual([]);
      await close();
    },
  );

  it('without EVAL/EVALSHA: falls back as for an outage, one warn, no call fails', async () => {
    const { redis, close } = await library('ioredis 5').connect({
      port: server.port,
      username: 'noscripts',
      password: 's3cret-pass',
    });
    const coordinator = createRedisCoordinator({ redis });
    const upstream = await ok();
    const chatdash = client(upstream.baseUrl, { coordinator, rateLimit: { perSecond: 200 } });
    await sleep(300);
    const results = await Promise.allSettled(
      Array.from({ length: 40 }, () => chatdash.getConversation(params)),
    );
    expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
    const warns = chatdash.lines.filter((l) => l.level === 'warn');
    expect(warns.map((l) => l.message)).toEqual([
      expect.stringMatching(/redis coordinator: sharing lost, deciding locally: (\w+: )?NOPERM/),
    ]);
    await coordinator.close();
    await close();
  });
});

describe('TLS', () => {
  let tls: TlsRedis;
  beforeAll(async () => {
    tls = await startTlsRedis();
  });
  afterAll(() => tls?.stop());

  it.each(['ioredis 5', 'node-redis 6'])('shares the pause over TLS through %s', async (name) => {
    const { coordinators, close } = await pair(() =>
      library(name).connect({ port: tls.port, ca: tls.ca }),
    );
    await pauseTravels(coordinators[0]!, coordinators[1]!);
    await close();
  });

  it('refuses the call right after the failure that reached failureThreshold', async () => {
    const { coordinators, close } = await pair(() =>
      library('node-redis 5').connect({ port: tls.port, ca: tls.ca }),
    );
    await breakerCountsAtOnce(coordinators[0]!);
    await close();
  });
});

describe('Sentinel', () => {
  let sentinels: Sentinels;
  beforeAll(async () => {
    sentinels = await startSentinels();
  }, 30_000);
  afterAll(() => sentinels?.stop());

  it('the master dies: no call fails, and sharing resumes within 5 s of the promotion', async () => {
    const connect = async () => {
      const redis = new Redis({
        sentinels: sentinels.sentinelPorts.map((port) => ({ host: '127.0.0.1', port })),
        name: sentinels.name,
        retryStrategy: () => 100,
        sentinelRetryStrategy: () => 100,
      });
      redis.on('error', () => {});
      await new Promise((resolve) => redis.once('ready', resolve));
      return { redis, ping: () => redis.ping(), close: async () => void redis.disconnect() };
    };
    const { coordinators, close } = await pair(connect);
    const upstream = await ok();
    const channel = scopeChannel(upstream.baseUrl, 'ck_live_Zq8WmRtPxYvBnKdLsJhGfTcE');
    const load = calling(coordinators, upstream.baseUrl);
    const results = load.results;
    await sleep(500);
    const killedAt = performance.now();
    const before = results.length;
    await sentinels.killMaster();
    const port = await sentinels.promoted();
    const promotedAt = performance.now();
    const during = results.length - before;
    const fresh = connectRedis(`redis://127.0.0.1:${port}`);
    for (;;) {
      const [, count] = (await fresh.pubsub('NUMSUB', channel)) as [string, number];
      if (count >= 2) break;
      expect(performance.now() - promotedAt).toBeLessThan(5_000);
      await sleep(50);
    }
    const resumedIn = performance.now() - promotedAt;
    fresh.disconnect();
    await load.stop();
    console.log(
      `Sentinel: promotion ${Math.round(promotedAt - killedAt)} ms after the kill, ${during} calls during it, ` +
        `${results.filter((r) => r.status === 'rejected').length} failed of ${results.length}, subscribed again ${Math.round(resumedIn)} ms after`,
    );
    expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
    expect(during).toBeGreaterThan(100);
    await pauseTravels(coordinators[0]!, coordinators[1]!);
    expect(performance.now() - promotedAt).toBeLessThan(5_000 + 2_000); // the pause case itself takes 1.7 s
    await close();
  });
});
