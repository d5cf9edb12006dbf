/**
 * The behaviour cases of sections 13 and 14 that differ by client library
 * or topology, each small: a pause travels to another process (and survives
 * SCRIPT FLUSH), the circuit opens for the call right after the threshold,
 * a shared rate holds two processes to it, and close() leaves the caller's
 * connection working.
 */
import { performance } from 'node:perf_hooks';
import { expect, onTestFinished } from 'vitest';
import { createRedisCoordinator } from '../../src/coordination/redis.js';
import {
  createChatDashClient,
  type ChatDashClientOptions,
  type Coordinator,
} from '../../src/index.js';
import { makeConversation } from '../../src/testing.js';
import { loggedClient } from './logs.js';
import type { Connected } from './redis-libraries.js';
import { httpServer, sendJson } from './servers.js';
import { sleep } from './settle.js';

export const apiKey = 'ck_live_Zq8WmRtPxYvBnKdLsJhGfTcE';
export const params = { agentId: 'agent_1', conversationId: 'conv_1' };

/** A client whose log lines are kept and whose requests are timed as they leave. */
export function client(baseUrl: string, options: ChatDashClientOptions = {}) {
  const sends: number[] = [];
  const chatdash = loggedClient(createChatDashClient, {
    apiKey,
    baseUrl,
    logLevel: 'info',
    fetch: (input, init) => {
      sends.push(performance.now());
      return fetch(input, init);
    },
    ...options,
  });
  return Object.assign(chatdash, { sends });
}

/** Two processes' worth: a connection and a coordinator each; `close` (also run when the test ends) closes both. */
export async function pair(connect: () => Promise<Connected>, prefix?: string) {
  const conns = [await connect(), await connect()];
  const coordinators: Coordinator[] = conns.map(({ redis }) =>
    createRedisCoordinator({ redis, ...(prefix ? { prefix } : {}) }),
  );
  let closed: Promise<void> | undefined;
  const close = () =>
    (closed ??= (async () => {
      for (const c of coordinators) await c.close();
      for (const c of conns) await c.close();
    })());
  // Closed even when the test fails before it closes them, so no subscriber outlives its test.
  onTestFinished(close);
  await sleep(300); // their subscribers connect and subscribe
  return { conns, coordinators, close };
}

/**
 * A's 429 (Retry-After: 1) holds B from within 400 ms of it (generous, for a loaded machine) until the pause
 * ends, and no log line warns that sharing is lost.
 */
export async function pauseTravels(a: Coordinator, b: Coordinator): Promise<void> {
  let limited = false;
  const upstream = await httpServer((req, res) => {
    if (req.url!.includes('limit') && !limited) {
      limited = true;
      sendJson(res, 429, {}, { 'retry-after': '1' });
    } else sendJson(res, 200, makeConversation());
  });
  const ca = client(upstream.baseUrl, { coordinator: a });
  const cb = client(upstream.baseUrl, { coordinator: b });
  const start = performance.now();
  // Two callers with a short rest between calls: about 300 sends a second, plenty to see a gap,
  // without taking a core from the files that run beside this one.
  const running = Array.from({ length: 2 }, async () => {
    while (performance.now() - start < 1_700) {
      await cb.getConversation(params);
      await sleep(5);
    }
  });
  await sleep(200);
  const error = await ca.getConversation({ ...params, agentId: 'limit' }, { maxRetries: 0 }).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toMatchObject({ name: 'RateLimitError' });
  const t0 = ca.sends[0]!;
  await Promise.all(running);
  const late = cb.sends.filter((at) => at > t0 + 400 && at < t0 + 900);
  expect(late.map((at) => Math.round(at - t0))).toEqual([]);
  expect(cb.sends.some((at) => at < t0)).toBe(true);
  expect(cb.sends.some((at) => at > t0 + 1_000)).toBe(true);
  const lost = [...ca.lines, ...cb.lines].filter(
    (l) => l.level === 'warn' && l.message.includes('redis coordinator'),
  );
  expect(lost).toEqual([]);
}

/**
 * Two processes calling, 8 in flight each, until `stop`, every result kept. Each
 * caller rests 10 ms between calls: some 1,500 calls a second is load enough to
 * see a call fail, and leaves the CPU to the files that run beside this one.
 */
export function calling(coordinators: Coordinator[], baseUrl: string) {
  let stopped = false;
  const results: PromiseSettledResult<unknown>[] = [];
  const runs = coordinators.flatMap((coordinator) => {
    const chatdash = client(baseUrl, { coordinator });
    return Array.from({ length: 8 }, async () => {
      while (!stopped) {
        results.push(...(await Promise.allSettled([chatdash.getConversation(params)])));
        await sleep(10);
      }
    });
  });
  return {
    results,
    stop: async () => {
      stopped = true;
      await Promise.all(runs);
    },
  };
}

/**
 * failureThreshold 3 on an upstream that answers 500: three calls, one at a
 * time, reach it; the fourth is refused with CircuitOpenError, sending nothing.
 */
export async function breakerCountsAtOnce(coordinator: Coordinator): Promise<void> {
  let requests = 0;
  const upstream = await httpServer((_, res) => {
    requests++;
    sendJson(res, 500, {});
  });
  const chatdash = client(upstream.baseUrl, {
    coordinator,
    maxRetries: 0,
    circuitBreaker: { failureThreshold: 3, openMs: 5_000 },
  });
  for (let i = 0; i < 3; i++)
    await expect(chatdash.getConversation(params)).rejects.toMatchObject({ status: 500 });
  await expect(chatdash.getConversation(params)).rejects.toMatchObject({
    name: 'CircuitOpenError',
  });
  expect(requests).toBe(3);
}
