/**
 * The Redis coordinator in one process, against a real redis-server: each
 * coordinator has its own connection, as each process of a fleet would.
 * What it refuses, how fast a pause travels, what it leaves in Redis (and
 * what never: the key), how few commands it sends, SCRIPT FLUSH mid-run, and
 * what close() closes.
 */
import { makeConversation } from '../../src/testing.js';
import { performance } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import { createRedisCoordinator } from '../../src/coordination/redis.js';
import { ChatDashError, type ChatDashClientOptions } from '../../src/index.js';
import { apiKey, client, params } from '../helpers/redis-cases.js';
import { connectRedis, monitorRedis, redisForFile, scopeChannel } from '../helpers/redis.js';
import { httpServer, sendJson } from '../helpers/servers.js';
import { sleep } from '../helpers/settle.js';

// Redis is emptied after each test, so none sees what another left.
const { server, coordinator, closeAfter } = redisForFile({ flushAfterEach: true });

const ok = () => httpServer((_, res) => sendJson(res, 200, makeConversation()));
/** Gives a new coordinator time to connect its subscriber and subscribe. */
const settleIn = () => sleep(300);

describe('createRedisCoordinator', () => {
  it('refuses what is not a Redis client it knows, saying what it accepts and what came', () => {
    for (const redis of [undefined, {}, 'redis://localhost', { status: 'ready' }]) {
      expect(() => createRedisCoordinator({ redis } as never)).toThrow(ChatDashError);
      expect(() => createRedisCoordinator({ redis } as never)).toThrow(
        /redis must be an ioredis \(5 or 6\) or iovalkey Redis or Cluster, or a node-redis \(redis 5 or 6\) client from createClient\(\) or cluster from createCluster\(\), got /,
      );
    }
    expect(() => createRedisCoordinator(undefined as never)).toThrow(
      'createRedisCoordinator: options must be an object { redis }, got undefined',
    );
  });

  it('refuses a bad prefix, timeoutMs or an unknown option, naming it and the value', async () => {
    const redis = connectRedis(server.url);
    try {
      expect(() => createRedisCoordinator({ redis, prefix: '' })).toThrow(
        'prefix must be a string of 1 to 100 characters, got string ""',
      );
      expect(() => createRedisCoordinator({ redis, timeoutMs: 0 })).toThrow(
        'timeoutMs must be a number from 1 to 60000, got number 0',
      );
      expect(() => createRedisCoordinator({ redis, timeout: 5 } as never)).toThrow(
        'createRedisCoordinator: unknown option `timeout`',
      );
    } finally {
      redis.disconnect();
    }
  });
});

describe('the pause, between two coordinators', () => {
  it('reaches the other within 150 ms of the 429, and holds it until the pause ends', async () => {
    let limited = false;
    const upstream = await httpServer((req, res) => {
      if (req.url!.includes('limit') && !limited) {
        limited = true;
        sendJson(res, 429, {}, { 'retry-after': '2' });
      } else sendJson(res, 200, makeConversation());
    });
    const a = client(upstream.baseUrl, { coordinator: (await coordinator()).coordinator });
    const b = client(upstream.baseUrl, { coordinator: (await coordinator()).coordinator });
    await settleIn();
    const start = performance.now();
    const running = Array.from({ length: 2 }, async () => {
      while (performance.now() - start < 2_600) await b.getConversation(params);
    });
    await sleep(200);
    const error = await a.getConversation({ ...params, agentId: 'limit' }, { maxRetries: 0 }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ name: 'RateLimitError' });
    const t0 = a.sends[0]!;
    await Promise.all(running);
    const late = b.sends.filter((at) => at > t0 + 150 && at < t0 + 1_950);
    expect(late.map((at) => Math.round(at - t0))).toEqual([]);
    expect(b.sends.some((at) => at < t0)).toBe(true);
    expect(b.sends.some((at) => at > t0 + 1_950)).toBe(true);
  });

  it('never holds a client with another key on the same Redis', async () => {
    const upstream = await httpServer((req, res) =>
      req.headers.authorization === apiKey
        ? sendJson(res, 429, {}, { 'retry-after': '5' })
        : sendJson(res, 200, makeConversation()),
    );
    const shared = (await coordinator()).coordinator;
    const limited = client(upstream.baseUrl, { coordinator: shared, maxRetries: 0 });
    const other = client(upstream.baseUrl, {
      coordinator: (await coordinator()).coordinator,
      apiKey: 'ck_live_another_key_entirely_0001',
    });
    const sameCoordinator = client(upstream.baseUrl, {
      coordinator: shared,
      apiKey: 'ck_live_a_third_key_entirely_0002',
    });
    await settleIn();
    await expect(limited.getConversation(params)).rejects.toMatchObject({ status: 429 });
    await sleep(100);
    const start = performance.now();
    await Promise.all([other.getConversation(params), sameCoordinator.getConversation(params)]);
    expect(performance.now() - start).toBeLessThan(1_000);
    // The paused key itself is held: the pause is real.
    const held = performance.now();
    await expect(limited.getConversation(params, { deadlineMs: 1_000 })).rejects.toThrow(
      /deadline/,
    );
    expect(performance.now() - held).toBeLessThan(500);
  });
});

describe('the subscriber connection', () => {
  it('is made at once even when the caller made its own with lazyConnect', async () => {
    const redis = connectRedis(server.url, { lazyConnect: true });
    await redis.connect();
    const made = createRedisCoordinator({ redis });
    closeAfter(redis, made);
    const upstream = await ok();
    await client(upstream.baseUrl, { coordinator: made }).getConversation(params);
    await settleIn();
    const admin = connectRedis(server.url);
    const [, listening] = (await admin.pubsub(
      'NUMSUB',
      scopeChannel(upstream.baseUrl, apiKey),
    )) as [string, number];
    admin.disconnect();
    expect(listening).toBe(1);
  });
});

describe('close()', () => {
  it('closes only the connection it made: the caller can still use its own', async () => {
    const admin = connectRedis(server.url);
    const clients = async () => ((await admin.client('LIST')) as string).trim().split('\n').length;
    const before = await clients();
    const { redis, coordinator: made } = await coordinator();
    const upstream = await ok();
    await client(upstream.baseUrl, { coordinator: made }).getConversation(params);
    await settleIn();
    expect(await clients()).toBe(before + 2);
    await made.close();
    await sleep(100);
    expect(await clients()).toBe(before + 1);
    expect(await redis.ping()).toBe('PONG');
    expect(await redis.set('app:key', 'still mine')).toBe('OK');
    admin.disconnect();
  });

  it('lets calls go on after close, on local state', async () => {
    const upstream = await ok();
    const { coordinator: made } = await coordinator();
    const chatdash = client(upstream.baseUrl, {
      coordinator: made,
      rateLimit: { perSecond: 50 },
      circuitBreaker: {},
    });
    await settleIn();
    const calls = Array.from({ length: 20 }, () => chatdash.getConversation(params));
    await made.close();
    await expect(Promise.all(calls)).resolves.toHaveLength(20);
    await expect(chatdash.getConversation(params)).resolves.toMatchObject({ _id: 'conv_0001' });
  });
});

/** Every command Redis runs, as MONITOR shows it; `lua` marks one run inside a script. */
const monitor = () => monitorRedis(server.port);

describe('what reaches Redis', () => {
  it('costs at most 25 commands of setup and one per 20 successful calls (MONITOR)', async () => {
    const watch = await monitor();
    const upstream = await ok();
    const chatdash = client(upstream.baseUrl, { coordinator: (await coordinator()).coordinator });
    await settleIn();
    const setup = watch.seen.filter((c) => !c.lua).length;
    let made = 0;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (made++ < 1_000) await chatdash.getConversation(params);
      }),
    );
    await sleep(100);
    watch.stop();
    const commands = watch.seen.filter((c) => !c.lua);
    expect(setup).toBeGreaterThan(0); // it is connected and subscribed
    expect(setup).toBeLessThanOrEqual(25);
    expect(commands.length - setup).toBeLessThanOrEqual(1_000 / 20);
    expect(commands.length).toBeLessThanOrEqual(25 + 1_000 / 20);
  });

  it('writes no key without the prefix or a TTL over 600 s, and no 6-character run of the key anywhere', async () => {
    const watch = await monitor();
    let failing = true;
    const upstream = await httpServer((req, res) => {
      if (req.url!.includes('limit')) sendJson(res, 429, {}, { 'retry-after': '30' });
      else if (failing) sendJson(res, 500, {}, { 'retry-after-ms': '0' });
      else sendJson(res, 200, makeConversation());
    });
    const options: ChatDashClientOptions = {
      rateLimit: { perSecond: 200, adaptive: true },
      circuitBreaker: { failureThreshold: 3, openMs: 200 },
    };
    const prefix = 'test-prefix:';
    const a = client(upstream.baseUrl, {
      ...options,
      coordinator: (await coordinator({ prefix })).coordinator,
    });
    const b = client(upstream.baseUrl, {
      ...options,
      coordinator: (await coordinator({ prefix })).coordinator,
    });
    await settleIn();
    // Failures (budget, circuit), the open circuit, a probe that closes it, successes, then a pause.
    await Promise.allSettled(Array.from({ length: 6 }, () => a.getConversation(params)));
    await expect(b.getConversation(params)).rejects.toMatchObject({ name: 'CircuitOpenError' });
    failing = false;
    await sleep(300);
    await b.getConversation(params);
    // b's probe closed the circuit; a hears it by publish/subscribe (until then its calls are
    // refused while a probe is out, as they should be).
    await sleep(200);
    await Promise.all(
      Array.from({ length: 30 }, (_, i) => (i % 2 ? a : b).getConversation(params)),
    );
    const limit = { ...params, agentId: 'limit' };
    await expect(a.getConversation(limit, { maxRetries: 0 })).rejects.toMatchObject({
      status: 429,
    });
    await sleep(100);
    watch.stop();

    const admin = connectRedis(server.url);
    const keys: string[] = [];
    let cursor = '0';
    do {
      const [next, batch] = await admin.scan(cursor, 'COUNT', 1000);
      cursor = next;
      keys.push(...batch);
    } while (cursor !== '0');
    const dump: string[] = [];
    for (const key of keys) {
      const type = await admin.type(key);
      if (type === 'string') dump.push((await admin.get(key))!);
      else if (type === 'hash') dump.push(JSON.stringify(await admin.hgetall(key)));
      else if (type === 'zset') dump.push((await admin.zrange(key, 0, -1, 'WITHSCORES')).join(' '));
      else dump.push(`unexpected ${type}`);
      const ttl = await admin.pttl(key);
      expect({ key, ttl: ttl > 0 && ttl <= 600_000 }).toEqual({ key, ttl: true });
    }
    admin.disconnect();
    expect(keys.filter((key) => !key.startsWith(prefix))).toEqual([]);
    // What the scenario must have left: the pause, the bucket, the rate and its heartbeat set.
    const kinds = keys.map((key) => key.split(':').at(-1)).sort();
    expect(kinds).toEqual(expect.arrayContaining(['budget', 'pause', 'processes', 'rate']));

    const everything = [
      ...keys,
      ...dump,
      ...watch.seen.map((c) => c.args.join(' ')),
      ...[...a.lines, ...b.lines].map((l) => l.message),
    ].join('\n');
    expect(watch.seen.length).toBeGreaterThan(20);
    expect(a.lines.some((l) => /circuit opened/.test(l.message))).toBe(true);
    for (let i = 0; i + 6 <= apiKey.length; i++)
      expect(everything.includes(apiKey.slice(i, i + 6)), apiKey.slice(i, i + 6)).toBe(false);
  });

  it('goes on sharing through SCRIPT FLUSH: no call fails, the scripts are loaded again', async () => {
    const watch = await monitor();
    let n = 0;
    const failed = new Set<string>();
    // The first attempt of every fifth call a 500, so that retries pay through the scripts;
    // its retry is answered 200, so no call can fail by drawing three 500s in a row.
    const upstream = await httpServer((req, res) => {
      n++;
      const id = req.url!.split('/').pop()!;
      if (Number(id) % 5 === 0 && !failed.has(id)) {
        failed.add(id);
        sendJson(res, 500, {}, { 'retry-after-ms': '0' });
      } else sendJson(res, 200, makeConversation());
    });
    const options: ChatDashClientOptions = { rateLimit: { perSecond: 40 } };
    const a = client(upstream.baseUrl, {
      ...options,
      coordinator: (await coordinator()).coordinator,
    });
    const b = client(upstream.baseUrl, {
      ...options,
      coordinator: (await coordinator()).coordinator,
    });
    await settleIn();
    const start = performance.now();
    let flushedAt = 0;
    let calls = 0;
    const flush = sleep(1_000).then(async () => {
      const admin = connectRedis(server.url);
      await admin.script('FLUSH');
      flushedAt = performance.now();
      admin.disconnect();
    });
    const results = await Promise.allSettled(
      [a, b].flatMap((chatdash) =>
        Array.from({ length: 4 }, async () => {
          while (performance.now() - start < 2_000)
            await chatdash.getConversation({ ...params, conversationId: String(calls++) });
        }),
      ),
    );
    await flush;
    watch.stop();
    expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
    expect([...a.lines, ...b.lines].filter((l) => l.level === 'warn')).toEqual([]);
    const after = watch.seen.filter((c) => c.at > flushedAt);
    const named = (name: string) => after.filter((c) => c.args[0]?.toLowerCase() === name).length;
    expect(named('eval')).toBeGreaterThan(0);
    expect(after.filter((c) => c.lua).length).toBeGreaterThan(10);
    // Shared: both together kept to about 40/s (the burst of 4, and the first second's 500s retried).
    expect(n).toBeLessThanOrEqual(2 * 40 + 4 + 20);
  });
});
