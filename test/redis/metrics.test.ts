/**
 * The scope gauges of a Redis coordinator, on a real redis-server: they show
 * what the fleet shares, as this process mirrors it. Each "process" is a
 * client on its own coordinator and connection; the one that changes the
 * shared state records no metrics (`metrics: false`), so every gauge read
 * here comes from a process that only heard of the change.
 */
import { metrics } from '@opentelemetry/api';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createChatDashClient, type ChatDashClientOptions } from '../../src/index.js';
import { makeConversation } from '../../src/testing.js';
import {
  collect as read,
  gauge as gaugeOf,
  TestReader,
  type Collected,
} from '../helpers/metrics.js';
import { redisForFile, scopeChannel } from '../helpers/redis.js';
import { httpServer, sendJson } from '../helpers/servers.js';
import { sleep } from '../helpers/settle.js';

const apiKey = 'ck_redis_metrics_Zq81Lm0Wd';
const params = { agentId: 'agent_1', conversationId: 'conv_1' };
const redis = redisForFile({ flushAfterEach: true });

const reader = new TestReader();
const provider = new MeterProvider({ readers: [reader] });
beforeAll(() => {
  metrics.setGlobalMeterProvider(provider);
});
afterAll(async () => {
  metrics.disable();
  await provider.shutdown();
});

const collect = () => read(reader);
const gauge = (all: Collected, name: string, baseUrl: string) =>
  gaugeOf(all, name, baseUrl, apiKey);

/** A client on a coordinator of its own (its own connection), as one process of a fleet. */
async function member(baseUrl: string, options: ChatDashClientOptions = {}) {
  const { coordinator } = await redis.coordinator({ timeoutMs: 200 });
  const client = createChatDashClient({
    apiKey,
    baseUrl,
    coordinator,
    logLevel: 'off',
    ...options,
  });
  return { client, coordinator };
}

/** Polls `read` until it gives `want` (gauges follow pub/sub, a moment later); the last value read. */
async function until(read: () => Promise<number | undefined>, want: number, ms = 5_000) {
  const end = Date.now() + ms;
  let value = await read();
  while (value !== want && Date.now() < end) {
    await sleep(25);
    value = await read();
  }
  return value;
}

/** An upstream whose answer the test sets: 200, or a status with headers. */
async function upstream() {
  const state = { status: 200, headers: {} as Record<string, string> };
  const server = await httpServer((_req, res) =>
    state.status === 200
      ? sendJson(res, 200, makeConversation())
      : sendJson(res, state.status, {}, state.headers),
  );
  return { server, state };
}

describe('the gauges of a Redis coordinator', () => {
  it('are labelled by the scope id Redis uses (its first 12 hex characters), never the key', async () => {
    const { server } = await upstream();
    const { client } = await member(server.baseUrl);
    await client.getConversation(params);
    const all = await collect();
    const id = /\{([0-9a-f]{64})\}/.exec(scopeChannel(server.baseUrl, apiKey))![1]!;
    const labels = (all['chatdash.coordinator.shared'] ?? []).map((p) => p.attributes);
    expect(labels).toContainEqual({
      'server.address': '127.0.0.1',
      'chatdash.scope': id.slice(0, 12),
    });
    expect(JSON.stringify(all)).not.toContain(apiKey);
    expect(JSON.stringify(all)).not.toContain(apiKey.slice(3));
  });

  it('a circuit another process opened and closed: 0, 1, then 0, with no call here', async () => {
    const { server, state } = await upstream();
    const breaker = { failureThreshold: 2, openMs: 400 };
    const other = await member(server.baseUrl, {
      metrics: false,
      maxRetries: 0,
      circuitBreaker: breaker,
    });
    const here = await member(server.baseUrl, { circuitBreaker: breaker });
    await sleep(300); // both subscribed
    const circuit = async () => gauge(await collect(), 'chatdash.circuit.open', server.baseUrl);
    expect(await circuit()).toBe(0);
    expect(gauge(await collect(), 'chatdash.coordinator.shared', server.baseUrl)).toBe(1);
    state.status = 500;
    for (let i = 0; i < 2; i++) await other.client.getConversation(params).catch(() => {});
    expect(await until(circuit, 1)).toBe(1);
    state.status = 200;
    await sleep(450);
    await other.client.getConversation(params); // the probe, from the other process
    expect(await until(circuit, 0)).toBe(0);
    expect(here.client).toBeDefined();
  });

  it('a pause another process took: the seconds left here', async () => {
    const { server, state } = await upstream();
    const other = await member(server.baseUrl, { metrics: false, maxRetries: 0 });
    await member(server.baseUrl);
    await sleep(300);
    state.status = 429;
    state.headers = { 'retry-after-ms': '3000' };
    await expect(other.client.getConversation(params)).rejects.toThrow();
    const pause = async () => {
      const left = gauge(await collect(), 'chatdash.pause.remaining', server.baseUrl) ?? 0;
      return left > 1 ? 1 : 0;
    };
    expect(await until(pause, 1)).toBe(1);
    const left = gauge(await collect(), 'chatdash.pause.remaining', server.baseUrl)!;
    expect(left).toBeLessThanOrEqual(3);
  });

  it('the fleet’s adaptive rate: halved by another process’s 429, read here at the next reservation', async () => {
    const { server, state } = await upstream();
    const rateLimit = { perSecond: 40, adaptive: true };
    const other = await member(server.baseUrl, { metrics: false, maxRetries: 0, rateLimit });
    const here = await member(server.baseUrl, { rateLimit });
    await sleep(300);
    await here.client.getConversation(params);
    const rate = async () => gauge(await collect(), 'chatdash.rate_limit.rate', server.baseUrl);
    expect(await rate()).toBe(40);
    state.status = 429;
    await expect(other.client.getConversation(params)).rejects.toThrow();
    state.status = 200;
    await sleep(100);
    await here.client.getConversation(params); // never saw a 429 itself
    const now = (await rate())!;
    expect(now).toBeGreaterThanOrEqual(20);
    expect(now).toBeLessThan(40);
  });

  it('the fleet’s retry budget: what another process spent shows here', async () => {
    const { server, state } = await upstream();
    const retryBudget = { capacity: 100, retryCost: 5 };
    const other = await member(server.baseUrl, { metrics: false, maxRetries: 2, retryBudget });
    const here = await member(server.baseUrl, { maxRetries: 1, retryBudget });
    await sleep(300);
    const budget = async () =>
      gauge(await collect(), 'chatdash.retry_budget.available', server.baseUrl);
    expect(await budget()).toBe(100);
    state.status = 503;
    await expect(other.client.getConversation(params)).rejects.toThrow(); // pays 2 x 5
    await expect(here.client.getConversation(params)).rejects.toThrow(); // pays 5
    // This process paid 5; the fleet's bucket, as Redis answered it, has 15 fewer.
    expect(await budget()).toBe(100 - 15);
  });

  it('shared: 1 while Redis answers, 0 once it is stopped, 1 again once it is back', async () => {
    const { server } = await upstream();
    const { client } = await member(server.baseUrl);
    await client.getConversation(params);
    const shared = async () =>
      gauge(await collect(), 'chatdash.coordinator.shared', server.baseUrl);
    expect(await until(shared, 1)).toBe(1); // once both connections answer
    await redis.server.kill();
    expect(await until(shared, 0)).toBe(0);
    await client.getConversation(params); // calls go on, on this process's own state
    await redis.server.restart();
    expect(await until(shared, 1, 10_000)).toBe(1);
  });

  it('a closed coordinator stops reporting its scope', async () => {
    const { server } = await upstream();
    const { client, coordinator } = await member(server.baseUrl);
    await client.getConversation(params);
    const shared = async () =>
      gauge(await collect(), 'chatdash.coordinator.shared', server.baseUrl);
    expect(await until(shared, 1)).toBe(1);
    await coordinator.close();
    expect(gauge(await collect(), 'chatdash.coordinator.shared', server.baseUrl)).toBeUndefined();
    expect(gauge(await collect(), 'chatdash.circuit.open', server.baseUrl)).toBeUndefined();
  });
});
