/**
 * Flow control across a fleet on one Redis: four real processes
 * (test/fixtures/redis-fleet.ts) share one send rate, learn an upstream's
 * limit together, and share one circuit, against upstreams on 127.0.0.1.
 */
import { makeConversation } from '../../src/testing.js';
import { createServer, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import type { FleetPlan } from '../fixtures/redis-fleet.js';
import { expectAllExited, runFleet, sharing } from '../helpers/fleet.js';
import { redisForFile } from '../helpers/redis.js';
import { httpServer, sendJson } from '../helpers/servers.js';

const apiKey = 'ck_flow_Wk3Jd8Rf5Tz1Ms';
const { server: redis } = redisForFile();

/** Starts the fleet once all four processes listen on the scope's channel. */
function fleetOf(baseUrl: string, plan: Omit<FleetPlan, 'baseUrl' | 'apiKey' | 'redisUrl'>) {
  const plans = [0, 1, 2, 3].map(() => ({ ...plan, baseUrl, apiKey, redisUrl: redis.url }));
  return runFleet(plans, { beforeGo: sharing(redis.url, baseUrl, apiKey) });
}

describe('rateLimit across processes', () => {
  it('4 processes x 8 in flight at perSecond 100 for 5 s: 500 requests +/- 10 % plus the burst', async () => {
    const upstream = await httpServer((_, res) => sendJson(res, 200, makeConversation()));
    const fleet = await fleetOf(upstream.baseUrl, {
      inFlight: 8,
      durationMs: 5_500,
      agent: 'a',
      client: { rateLimit: { perSecond: 100 } },
    });
    expectAllExited(fleet);
    const sends = fleet.members.flatMap((m) => m.tally.sends).sort((a, b) => a - b);
    const first = sends[0]!;
    const inFive = sends.filter((at) => at < first + 5_000).length;
    expect(inFive).toBeGreaterThanOrEqual(450);
    expect(inFive).toBeLessThanOrEqual(550 + 10);
    for (const { tally } of fleet.members) expect(tally.errors).toEqual({});
  });

  it('adaptive: learns an upstream that allows 50/s from perSecond 400, with few 429s after 5 s', async () => {
    const admitted: number[] = [];
    const seen: { at: number; limited: boolean }[] = [];
    const upstream = await httpServer((_, res) => {
      const now = performance.now();
      while (admitted.length > 0 && admitted[0]! <= now - 1_000) admitted.shift();
      const limited = admitted.length >= 50;
      seen.push({ at: now, limited });
      if (limited)
        sendJson(res, 429, { message: 'too many' }); // plain: no Retry-After
      else {
        admitted.push(now);
        sendJson(res, 200, makeConversation());
      }
    });
    const fleet = await fleetOf(upstream.baseUrl, {
      inFlight: 8,
      durationMs: 10_500,
      agent: 'a',
      client: { rateLimit: { perSecond: 400, adaptive: true } },
    });
    expectAllExited(fleet);
    const start = seen[0]!.at;
    const later = seen.filter((r) => r.at >= start + 5_000 && r.at < start + 10_000);
    const limited = later.filter((r) => r.limited).length;
    expect(limited / later.length).toBeLessThan(0.05);
    expect((later.length - limited) / 5).toBeGreaterThanOrEqual(35);
    // It did have to learn: the first seconds met the limit.
    expect(seen.filter((r) => r.limited && r.at < start + 5_000).length).toBeGreaterThan(0);
  });
});

describe('circuitBreaker across processes', () => {
  it('on a dead upstream, once open, lets at most one request per openMs through from the whole fleet', async () => {
    const openMs = 1_000;
    const arrivals: number[] = [];
    const sockets = new Set<Socket>();
    // Dead: every connection is cut as soon as a request arrives.
    const dead = createServer((socket) => {
      sockets.add(socket);
      socket.on('error', () => {});
      socket.once('data', () => {
        arrivals.push(Date.now());
        socket.destroy();
      });
      socket.on('close', () => sockets.delete(socket));
    });
    await new Promise<void>((resolve) => dead.listen(0, '127.0.0.1', resolve));
    const baseUrl = `http://127.0.0.1:${(dead.address() as { port: number }).port}`;
    try {
      const fleet = await fleetOf(baseUrl, {
        inFlight: 4,
        durationMs: 4_500,
        agent: 'a',
        client: { maxRetries: 0, circuitBreaker: { failureThreshold: 5, openMs } },
      });
      expectAllExited(fleet);
      const opened = Math.min(
        ...fleet.members.map((m) => m.tally.firstRejectAt).filter((at) => at > 0),
      );
      // Allowing 200 ms for attempts already in flight, and for every process to hear of it.
      const after = arrivals.filter((at) => at > opened + 200).sort((a, b) => a - b);
      expect(after.length).toBeGreaterThanOrEqual(2); // the probes
      for (let i = 1; i < after.length; i++)
        expect(after[i]! - after[i - 1]!).toBeGreaterThan(openMs * 0.9);
      for (const { tally, logs } of fleet.members.map((m) => ({ ...m.tally, tally: m.tally }))) {
        expect(Object.keys(tally.errors).sort()).toEqual([
          'APIConnectionError',
          'CircuitOpenError',
        ]);
        const settled = [...tally.rejectedMs].sort((a, b) => a - b);
        expect(settled[Math.floor(settled.length * 0.99)]).toBeLessThanOrEqual(5);
        expect(logs.filter((l) => /circuit opened/.test(l.message))).toHaveLength(1);
      }
    } finally {
      sockets.forEach((s) => s.destroy());
      dead.close();
    }
  });
});
