/**
 * A fleet on one Redis: four real processes (test/fixtures/redis-fleet.ts)
 * against one node:http upstream on 127.0.0.1 that counts what reaches it.
 * The rate-limit pause and the retry budget are shared across processes.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { makeConversation } from '../../src/testing.js';
import { performance } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import type { FleetPlan } from '../fixtures/redis-fleet.js';
import { expectAllExited, runFleet, sharing } from '../helpers/fleet.js';
import { redisForFile } from '../helpers/redis.js';
import { httpServer, sendJson } from '../helpers/servers.js';

const apiKey = 'ck_fleet_Qm9vLmJhcl9zZWNyZXQ';
const { server: redis } = redisForFile();

/**
 * How long the other processes may take to hear of a pause, from the moment
 * the 429 reached process 0: its body is read, the pause published, and each
 * other process woken. Each of those hops takes a few ms on a quiet machine
 * and 150+ ms at a load of 15 on 2 cores (measured); the in-process test in
 * coordinator.test.ts holds the publish/subscribe hop to 150 ms.
 */
const LEARN_MS = 600;

/** An upstream that records when each request arrived and which agent it was for. */
async function upstream(handler: (agent: string, res: ServerResponse, n: number) => void) {
  const seen: { at: number; agent: string }[] = [];
  const server = await httpServer((req: IncomingMessage, res) => {
    const agent = decodeURIComponent(req.url!.split('/')[2] ?? '');
    seen.push({ at: performance.now(), agent });
    handler(agent, res, seen.length - 1);
  });
  return { ...server, seen };
}

describe('the rate-limit pause across processes', () => {
  it('holds every process when one gets 429 Retry-After: 2, and every call completes after', async () => {
    let limited = false;
    const server = await upstream((agent, res) => {
      if (agent === 'limit' && !limited) {
        limited = true;
        sendJson(res, 429, { message: 'slow down' }, { 'retry-after': '2' });
      } else sendJson(res, 200, makeConversation());
    });
    const plan = (i: number): FleetPlan => ({
      baseUrl: server.baseUrl,
      apiKey,
      redisUrl: redis.url,
      inFlight: 2,
      durationMs: 3_500,
      agent: 'ok',
      // Process 0 starts with the call that gets the 429, once the others are sending.
      ...(i === 0 ? { firstAgent: 'limit', firstAfterMs: 300 } : {}),
    });
    const fleet = await runFleet([0, 1, 2, 3].map(plan), {
      beforeGo: sharing(redis.url, server.baseUrl, apiKey),
    });
    expectAllExited(fleet);
    // When process 0 got the 429, and what every process sent after it, by each one's own record.
    const t0 = fleet.members[0]!.tally.limited[0]!;
    const sends = fleet.members.flatMap((m) => m.tally.sends.map((at) => at - t0));
    // Allowing LEARN_MS to hear of it, no process sends until the pause ends.
    expect(sends.filter((at) => at > LEARN_MS && at < 1_950)).toEqual([]);
    expect(sends.filter((at) => at >= 1_950).length).toBeGreaterThan(20);
    // The others were sending before the 429: the pause is what stopped them.
    expect(fleet.members.slice(1).every((m) => m.tally.sends.some((at) => at < t0))).toBe(true);
    for (const { tally } of fleet.members) {
      expect(tally.errors).toEqual({});
      expect(tally.ok).toBe(tally.made);
    }
  });
});

describe('the retry budget across processes', () => {
  const failing = () =>
    upstream((_, res) => sendJson(res, 500, { message: 'down' }, { 'retry-after-ms': '0' }));
  const plan = (baseUrl: string, redisUrl?: string): FleetPlan => ({
    baseUrl,
    apiKey,
    ...(redisUrl ? { redisUrl } : {}),
    inFlight: 1,
    calls: 250,
    agent: 'a',
  });

  it('1,000 calls into a 500 from 4 processes send at most 1,150 requests through one Redis bucket', async () => {
    const server = await failing();
    const fleet = await runFleet(
      [0, 1, 2, 3].map(() => plan(server.baseUrl, redis.url)),
      { beforeGo: sharing(redis.url, server.baseUrl, apiKey) },
    );
    expectAllExited(fleet);
    expect(fleet.members.map((m) => m.tally.errors)).toEqual(
      Array(4).fill({ InternalServerError: 250 }),
    );
    expect(server.seen.length).toBeGreaterThanOrEqual(1_100);
    expect(server.seen.length).toBeLessThanOrEqual(1_150);
  });

  it('the same fleet on the default in-process coordinator sends 1,400 (four budgets)', async () => {
    const server = await failing();
    const fleet = await runFleet([0, 1, 2, 3].map(() => plan(server.baseUrl)));
    expectAllExited(fleet);
    expect(server.seen.length).toBe(1_400);
  });
});
