/**
 * The rules of the shared circuit, budget and pause, checked exactly against
 * a real redis-server (and, where a rule holds for both, the in-process
 * coordinator too): the circuit opens at the threshold and not one failure
 * late, in one process as across two; a retry the open circuit refuses pays
 * nothing; the bucket holds what the rules say; a newcomer does not send into
 * a pause; `openMs` holds past Redis's 10-minute TTL; two clients of one scope
 * with different numbers are refused; the sharing lines reach every logger
 * that wants them.
 */
import { createHash } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import { createRedisCoordinator } from '../../src/coordination/redis.js';
import {
  ChatDashError,
  createChatDashClient,
  createMemoryCoordinator,
  type ChatDashClientOptions,
  type Coordinator,
} from '../../src/index.js';
import { makeConversation } from '../../src/testing.js';
import { loggedClient, recordLogs } from '../helpers/logs.js';
import { connectRedis, redisForFile } from '../helpers/redis.js';
import { httpServer, sendJson } from '../helpers/servers.js';
import { sleep } from '../helpers/settle.js';

const apiKey = 'ck_rules_Pz7Kd3Vw9Qm5Ty';
const redis = redisForFile({ flushAfterEach: true });
const params = (agentId = 'a1') => ({ agentId, conversationId: 'c1' });

/** By agent: `dead` always 500; `once-N` a 500 on its first request, then 200; `limit` 429 Retry-After: 2; else 200. */
async function upstream() {
  const failed = new Set<string>();
  return httpServer((req, res) => {
    const agent = req.url!.split('/')[2] ?? '';
    if (agent === 'dead') sendJson(res, 500, {}, { 'retry-after-ms': '0' });
    else if (agent === 'limit') sendJson(res, 429, {}, { 'retry-after': '2' });
    else if (agent.startsWith('once-') && !failed.has(agent)) {
      failed.add(agent);
      sendJson(res, 500, {}, { 'retry-after-ms': '0' });
    } else sendJson(res, 200, makeConversation());
  });
}

/** A Redis coordinator on its own connection, sharing once its subscriber listens. */
async function shared(): Promise<Coordinator> {
  return (await redis.coordinator({ timeoutMs: 200 })).coordinator;
}

const engines: [string, () => Promise<Coordinator>][] = [
  ['memory', () => Promise.resolve(createMemoryCoordinator())],
  ['redis', shared],
];

const name = (error: unknown) => (error as Error).name;
const settle = <T>(p: Promise<T>) =>
  p.then(
    () => 'ok',
    (e: unknown) => name(e),
  );

describe.each(engines)('the circuit on the %s coordinator', (_, make) => {
  it('one process, failureThreshold 3, maxRetries 0, a dead upstream: the 4th call is refused after exactly 3 requests', async () => {
    const dead = await upstream();
    const chatdash = createChatDashClient({
      apiKey,
      baseUrl: dead.baseUrl,
      coordinator: await make(),
      circuitBreaker: { failureThreshold: 3, openMs: 5_000 },
      maxRetries: 0,
      logLevel: 'off',
    });
    await sleep(300);
    const outcomes: string[] = [];
    // Each call right after the one before: nothing waits for Redis's answer to the failure.
    for (let i = 0; i < 4; i++)
      outcomes.push(await settle(chatdash.getConversation(params('dead'))));
    expect(outcomes).toEqual([
      'InternalServerError',
      'InternalServerError',
      'InternalServerError',
      'CircuitOpenError',
    ]);
    expect(dead.requests).toHaveLength(3);
  });

  it('a retry the open circuit refuses pays nothing from the retry budget', async () => {
    const dead = await upstream();
    const { lines, logger } = recordLogs();
    const chatdash = createChatDashClient({
      apiKey,
      baseUrl: dead.baseUrl,
      coordinator: await make(),
      // Room for two paid retries: a third round without the refund finds the bucket empty.
      retryBudget: { capacity: 10, retryCost: 5, timeoutCost: 10 },
      circuitBreaker: { failureThreshold: 1, openMs: 50 },
      maxRetries: 1,
      logger,
      logLevel: 'warn',
      tracing: false,
    });
    await sleep(300);
    const outcomes: string[] = [];
    for (let round = 0; round < 4; round++) {
      await sleep(120); // the circuit lets one attempt through: it fails, the circuit opens again
      outcomes.push(await settle(chatdash.getConversation(params('dead'))));
    }
    // Each round: the attempt fails, its retry is paid for, then refused unsent.
    expect(outcomes).toEqual(Array<string>(4).fill('CircuitOpenError'));
    expect(dead.requests).toHaveLength(4);
    expect(lines.filter((l) => /retry budget exhausted/.test(l.message))).toEqual([]);
  });

  it('refuses a second client of the scope with other rateLimit or circuitBreaker numbers, naming both', async () => {
    const coordinator = await make();
    const base = { apiKey, baseUrl: 'http://127.0.0.1:9', coordinator, logLevel: 'off' as const };
    createChatDashClient({
      ...base,
      rateLimit: { perSecond: 20 },
      circuitBreaker: { failureThreshold: 5 },
    });
    // The same numbers, or none at all, share the scope.
    createChatDashClient({ ...base, rateLimit: { perSecond: 20, burst: 2 } });
    createChatDashClient({ ...base, circuitBreaker: { failureThreshold: 5, openMs: 5_000 } });
    createChatDashClient(base);
    const second = (options: ChatDashClientOptions) => () =>
      createChatDashClient({ ...base, ...options });
    expect(second({ rateLimit: { perSecond: 2 } })).toThrow(ChatDashError);
    expect(second({ rateLimit: { perSecond: 2 } })).toThrow(
      'createChatDashClient: rateLimit { perSecond: 2, burst: 1, adaptive: false } conflicts with ' +
        '{ perSecond: 20, burst: 2, adaptive: false } of another client of the same scope',
    );
    expect(second({ circuitBreaker: { failureThreshold: 2 } })).toThrow(
      'createChatDashClient: circuitBreaker { failureThreshold: 2, openMs: 5000 } conflicts with ' +
        '{ failureThreshold: 5, openMs: 5000 }',
    );
    expect(second({ rateLimit: { perSecond: 20, adaptive: true } })).toThrow(/adaptive: true/);
    let message = '';
    try {
      second({ rateLimit: { perSecond: 2 } })();
    } catch (error) {
      message = (error as Error).message;
    }
    for (let i = 0; i + 6 <= apiKey.length; i++)
      expect(message).not.toContain(apiKey.slice(i, i + 6));
    // Another key, or another origin, is another scope: its own numbers.
    createChatDashClient({ ...base, apiKey: `${apiKey}x`, rateLimit: { perSecond: 2 } });
    createChatDashClient({ ...base, baseUrl: 'http://127.0.0.1:10', rateLimit: { perSecond: 2 } });
  });
});

describe('the shared circuit across two coordinators', () => {
  it('opens at exactly failureThreshold failures counted in Redis, not one late', async () => {
    const dead = await upstream();
    const options = {
      apiKey,
      baseUrl: dead.baseUrl,
      circuitBreaker: { failureThreshold: 3, openMs: 5_000 },
      maxRetries: 0,
      logLevel: 'off' as const,
    };
    const a = createChatDashClient({ ...options, coordinator: await shared() });
    const b = createChatDashClient({ ...options, coordinator: await shared() });
    await sleep(300);
    // Neither process reaches 3 on its own: only the count in Redis does.
    const outcomes = [
      await settle(a.getConversation(params('dead'))),
      await settle(b.getConversation(params('dead'))),
      await settle(a.getConversation(params('dead'))),
    ];
    await sleep(150); // the opening travels by publish/subscribe
    outcomes.push(await settle(b.getConversation(params('dead'))));
    expect(outcomes).toEqual([
      'InternalServerError',
      'InternalServerError',
      'InternalServerError',
      'CircuitOpenError',
    ]);
    expect(dead.requests).toHaveLength(3);
  });
});

describe('Redis down from the start', () => {
  it('the circuit falls back to the process: failureThreshold 3, a dead upstream, the 4th call is refused', async () => {
    const dead = await upstream();
    const down = connectRedis('redis://127.0.0.1:9'); // nothing listens on the discard port
    const coordinator = createRedisCoordinator({ redis: down });
    redis.closeAfter(down, coordinator);
    const chatdash = createChatDashClient({
      apiKey,
      baseUrl: dead.baseUrl,
      coordinator,
      circuitBreaker: { failureThreshold: 3 },
      maxRetries: 0,
      logLevel: 'off',
    });
    const outcomes: string[] = [];
    for (let i = 0; i < 4; i++)
      outcomes.push(await settle(chatdash.getConversation(params('dead'))));
    expect(outcomes.slice(3)).toEqual(['CircuitOpenError']);
    expect(dead.requests).toHaveLength(3);
  });
});

describe('circuitBreaker.openMs past the 10-minute TTL', () => {
  it('holds 20 minutes on Redis as in one process: retryAfterMs, the keys, and a newcomer all say so', async () => {
    const openMs = 20 * 60_000;
    const dead = await upstream();
    const options = {
      apiKey,
      baseUrl: dead.baseUrl,
      circuitBreaker: { failureThreshold: 1, openMs },
      maxRetries: 0,
      logLevel: 'off' as const,
    };
    const retryAfter = async (chatdash: ReturnType<typeof createChatDashClient>) => {
      const error = await chatdash.getConversation(params('dead')).catch((e: unknown) => e);
      expect(name(error)).toBe('CircuitOpenError');
      return (error as { retryAfterMs: number }).retryAfterMs;
    };
    const memory = createChatDashClient({ ...options, coordinator: createMemoryCoordinator() });
    await settle(memory.getConversation(params('dead')));
    expect(await retryAfter(memory)).toBeGreaterThan(openMs - 60_000);

    const first = createChatDashClient({ ...options, coordinator: await shared() });
    await sleep(300);
    await settle(first.getConversation(params('dead')));
    await sleep(100);
    expect(await retryAfter(first)).toBeGreaterThan(openMs - 60_000);
    const newcomer = createChatDashClient({ ...options, coordinator: await shared() });
    await sleep(300);
    expect(await retryAfter(newcomer)).toBeGreaterThan(openMs - 60_000);

    const admin = connectRedis(redis.server.url);
    const id = createHash('sha256')
      .update(`${new URL(dead.baseUrl).origin}\n${apiKey}`)
      .digest('hex');
    const circuit = await admin.pttl(`chatdash:{${id}}:circuit`);
    const wait = await admin.pttl(`chatdash:{${id}}:wait`);
    admin.disconnect();
    expect(wait).toBeGreaterThan(openMs - 60_000);
    expect(circuit).toBeGreaterThan(wait); // the circuit outlives the wait, so a probe comes
  });
});

describe('the shared retry budget', () => {
  it('holds exactly what the rules say after a known mix of calls (refunds paid once)', async () => {
    const { baseUrl } = await upstream();
    // capacity 100: a retry costs 5, each success owes 1, owed refunds go with the next payment
    // (or, at 5 owed, on their own).
    const chatdash = createChatDashClient({
      apiKey,
      baseUrl,
      coordinator: await shared(),
      retryBudget: { capacity: 100, retryCost: 5, timeoutCost: 10 },
      logLevel: 'off',
    });
    await sleep(300);
    await chatdash.getConversation(params('once-1')); // pays 5: 95; owes 1
    for (let i = 0; i < 3; i++) await chatdash.getConversation(params()); // owes 4
    await chatdash.getConversation(params('once-2')); // 95 + 4 - 5 = 94; owes 1
    await chatdash.getConversation(params('once-3')); // 94 + 1 - 5 = 90; owes 1
    await sleep(100);
    const admin = connectRedis(redis.server.url);
    const id = createHash('sha256')
      .update(`${new URL(baseUrl).origin}\n${apiKey}`)
      .digest('hex');
    const tokens = await admin.get(`chatdash:{${id}}:budget`);
    admin.disconnect();
    expect(Number(tokens)).toBe(90);
  });
});

describe('a newcomer during another process’s pause', () => {
  it('a coordinator created during a Retry-After: 2 holds its first call for the rest of the pause', async () => {
    const { baseUrl } = await upstream();
    const options = { apiKey, baseUrl, logLevel: 'off' as const };
    const first = createChatDashClient({ ...options, coordinator: await shared() });
    await sleep(300);
    await expect(first.getConversation(params('limit'), { maxRetries: 0 })).rejects.toMatchObject({
      status: 429,
    });
    const pausedAt = performance.now();
    await sleep(500);
    const newcomer = createChatDashClient({ ...options, coordinator: await shared() });
    await newcomer.getConversation(params()); // at once: it has heard of no pause yet
    const done = performance.now() - pausedAt;
    expect(done).toBeGreaterThan(1_900);
    expect(done).toBeLessThan(4_000);
  });
});

describe('the "sharing lost" and "sharing is back" lines', () => {
  it('reach every logger of the coordinator’s clients that wants them, once each, even when the first logs at off', async () => {
    const { baseUrl } = await upstream();
    const { coordinator } = await redis.coordinator({ timeoutMs: 200 });
    const silent = loggedClient(createChatDashClient, {
      apiKey,
      baseUrl,
      coordinator,
      logLevel: 'off',
    });
    const { lines, logger } = recordLogs();
    const both = [0, 1].map(() =>
      createChatDashClient({ apiKey, baseUrl, coordinator, logger, logLevel: 'info' }),
    );
    const otherKey = loggedClient(createChatDashClient, {
      apiKey: `${apiKey}2`,
      baseUrl,
      coordinator,
      logLevel: 'warn',
    });
    await sleep(300);
    await redis.server.kill();
    await Promise.all([...both, silent, otherKey].map((c) => c.getConversation(params())));
    await sleep(500);
    await redis.server.restart();
    await sleep(2_500);
    const count = (re: RegExp) => lines.filter((l) => re.test(l.message)).length;
    expect(count(/sharing lost/)).toBe(1);
    expect(count(/sharing is back/)).toBe(1);
    expect(otherKey.lines.filter((l) => /sharing lost/.test(l.message))).toHaveLength(1);
    expect(otherKey.lines.filter((l) => /sharing is back/.test(l.message))).toHaveLength(0);
    expect(silent.lines).toEqual([]);
  });
});
