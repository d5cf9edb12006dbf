/**
 * Redis going away and coming back, under load: killed, frozen (SIGSTOP),
 * emptied (FLUSHALL), restarted on the same port. No call fails or waits
 * more than `timeoutMs` longer because of it; each coordinator says once that
 * sharing is lost and once that it is back, and sharing resumes by itself.
 * Each coordinator has its own connection, as each process of a fleet would.
 */
import { makeConversation } from '../../src/testing.js';
import { performance } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import { createRedisCoordinator } from '../../src/coordination/redis.js';
import { createChatDashClient, type ChatDashClientOptions } from '../../src/index.js';
import { runFleet } from '../helpers/fleet.js';
import { loggedClient } from '../helpers/logs.js';
import { connectRedis, redisForFile } from '../helpers/redis.js';
import { httpServer, sendJson } from '../helpers/servers.js';
import { sleep } from '../helpers/settle.js';

const apiKey = 'ck_outage_Hn4Vb7Xc2Lk9Pq';
const params = { agentId: 'agent_1', conversationId: 'conv_1' };
const redis = redisForFile();
const { server } = redis;

/** A client on its own coordinator and connection; its log lines are kept with their time. */
async function member(baseUrl: string, options: ChatDashClientOptions = {}, timeoutMs = 200) {
  const { coordinator } = await redis.coordinator({ timeoutMs });
  return loggedClient(createChatDashClient, {
    apiKey,
    baseUrl,
    coordinator,
    logLevel: 'info',
    ...options,
  });
}

type Member = Awaited<ReturnType<typeof member>>;

/** `inFlight` calls at a time on each member for `ms`; every call's duration and failure. */
async function drive(members: Member[], ms: number, inFlight = 4) {
  const durations: number[] = [];
  const failures: string[] = [];
  const start = performance.now();
  let n = 0;
  await Promise.all(
    members.flatMap((m) =>
      Array.from({ length: inFlight }, async () => {
        while (performance.now() - start < ms) {
          const began = performance.now();
          const call = { ...params, conversationId: String(n++) };
          await m.getConversation(call).catch((e: Error) => failures.push(e.message));
          durations.push(performance.now() - began);
        }
      }),
    ),
  );
  return { durations, failures };
}

/** Mostly 200s; the first attempt of every tenth call a 500 that asks for no wait, so retries pay the budget. */
async function upstream() {
  const failed = new Set<string>();
  return httpServer((req, res) => {
    const id = req.url!.split('/').pop()!;
    if (req.url!.includes('limit')) sendJson(res, 429, {}, { 'retry-after': '1' });
    else if (Number(id) % 10 === 9 && !failed.has(id)) {
      failed.add(id);
      sendJson(res, 500, {}, { 'retry-after-ms': '0' });
    } else sendJson(res, 200, makeConversation());
  });
}

const everything: ChatDashClientOptions = {
  rateLimit: { perSecond: 400 },
  circuitBreaker: { failureThreshold: 50 },
};

/** Two members under load from `everything`, given time to connect and subscribe. */
async function twoMembers(timeoutMs?: number) {
  const { baseUrl } = await upstream();
  const members = [
    await member(baseUrl, everything, timeoutMs),
    await member(baseUrl, everything, timeoutMs),
  ];
  await sleep(300);
  return members;
}

/**
 * Two members under load for 3.5 s; 0.6 s in, `stop` takes Redis away and
 * 1 s later `resume` brings it back. The run, and when Redis was back.
 */
async function throughOutage(stop: () => unknown, resume: () => unknown) {
  const members = await twoMembers();
  let resumedAt = 0;
  const away = (async () => {
    await sleep(600);
    await stop();
    await sleep(1_000);
    await resume();
    resumedAt = performance.now();
  })();
  const run = await drive(members, 3_500);
  await away;
  return { members, run, resumedAt };
}

/**
 * The slowest call an outage may cause here: timeoutMs (200) for Redis, plus
 * the call itself with 8 in flight and a retry on a loaded 2-core machine
 * (1,066 ms was seen under a 1,000 bound with nothing wrong). A call queued
 * on the frozen connection would wait forever, on the killed one for
 * ioredis's 20 reconnects (over 2 s); guards.test.ts checks with a clear
 * margin that only one call waits for Redis at all.
 */
const SLOWEST_CALL_MS = 1_800;

const lost = (m: Member) => m.lines.filter((l) => /sharing lost/.test(l.message));
const back = (m: Member) => m.lines.filter((l) => /sharing is back/.test(l.message));

/** A 429 on `from` holds `to`: sharing works. */
async function pauseTravels(from: Member, to: Member): Promise<void> {
  await expect(
    from.getConversation({ ...params, agentId: 'limit' }, { maxRetries: 0 }),
  ).rejects.toMatchObject({ status: 429 });
  await sleep(100);
  const began = performance.now();
  await to.getConversation(params);
  expect(performance.now() - began).toBeGreaterThan(600);
}

describe('Redis killed, then restarted on the same port', () => {
  it('fails no call, delays none by more than timeoutMs, warns once, and shares again within 2 s', async () => {
    const {
      members,
      run,
      resumedAt: restartedAt,
    } = await throughOutage(server.kill, server.restart);
    expect(run.failures).toEqual([]);
    expect(Math.max(...run.durations)).toBeLessThan(SLOWEST_CALL_MS);
    for (const m of members) {
      expect(lost(m)).toHaveLength(1);
      expect(back(m)).toHaveLength(1);
      expect(back(m)[0]!.at - restartedAt).toBeLessThan(2_000);
      expect(m.lines.map((l) => l.message).join('\n')).not.toContain(apiKey.slice(3, 9));
    }
    await pauseTravels(members[0]!, members[1]!);
  });
});

describe('Redis frozen with SIGSTOP', () => {
  it('fails no call, delays none by more than timeoutMs, and shares again within 2 s of SIGCONT', async () => {
    const { members, run, resumedAt: thawedAt } = await throughOutage(server.freeze, server.thaw);
    expect(run.failures).toEqual([]);
    expect(Math.max(...run.durations)).toBeLessThan(SLOWEST_CALL_MS);
    for (const m of members) {
      expect(lost(m)).toHaveLength(1);
      expect(lost(m)[0]!.message).toMatch(/no answer within 200 ms/);
      expect(back(m)).toHaveLength(1);
      expect(back(m)[0]!.at - thawedAt).toBeLessThan(2_000);
    }
    await pauseTravels(members[1]!, members[0]!);
  });
});

describe('FLUSHALL', () => {
  it('loses the shared state, never a call, and sharing goes on', async () => {
    // A FLUSHALL is no outage: no line may say sharing was lost. Redis stays up, so a
    // timeoutMs a loaded 2-core machine meets (200 ms was once missed by a slots reply).
    const members = await twoMembers(1_000);
    const flush = sleep(500).then(async () => {
      const admin = connectRedis(server.url);
      await admin.flushall();
      admin.disconnect();
    });
    const run = await drive(members, 1_500);
    await flush;
    expect(run.failures).toEqual([]);
    for (const m of members) expect(lost(m)).toEqual([]);
    await pauseTravels(members[0]!, members[1]!);
  });
});

describe('a coordinator whose Redis is down from the start', () => {
  it('decides locally at once and warns once', async () => {
    const { baseUrl } = await upstream();
    const down = connectRedis('redis://127.0.0.1:9'); // nothing listens on the discard port
    const coordinator = createRedisCoordinator({ redis: down });
    redis.closeAfter(down, coordinator);
    const lines: string[] = [];
    const chatdash = createChatDashClient({
      apiKey,
      baseUrl,
      coordinator,
      ...everything,
      logger: { error() {}, warn: (m: string) => lines.push(m), info() {}, debug() {} },
      tracing: false,
    });
    const began = performance.now();
    await Promise.all(Array.from({ length: 20 }, () => chatdash.getConversation(params)));
    expect(performance.now() - began).toBeLessThan(1_000);
    await sleep(2_600);
    await chatdash.getConversation(params);
    expect(lines.filter((l) => /sharing lost/.test(l))).toHaveLength(1);
  });
});

describe('the send rate while Redis is away', () => {
  it('is each process its share: perSecond divided by the processes it last saw', async () => {
    const upstreamSeen: number[] = [];
    const { baseUrl } = await httpServer((_, res) => {
      upstreamSeen.push(performance.now());
      sendJson(res, 200, makeConversation());
    });
    const options = { rateLimit: { perSecond: 100 } };
    const members = await Promise.all([0, 1, 2, 3].map(() => member(baseUrl, options)));
    await sleep(300);
    let killedAt = 0;
    const outage = sleep(1_000).then(async () => {
      await server.kill();
      killedAt = performance.now();
    });
    const run = await drive(members, 3_200);
    await outage;
    await server.restart();
    expect(run.failures).toEqual([]);
    // Allowing for what was reserved before and each process's burst (10 / 4, at least 1).
    const alone = upstreamSeen.filter((at) => at > killedAt + 200 && at <= killedAt + 2_200);
    expect(alone.length).toBeGreaterThan(140);
    expect(alone.length).toBeLessThan(260); // 4 x 100/s would be 800
  });
});

describe('close()', () => {
  it('lets a process exit by itself', async () => {
    const { baseUrl } = await upstream();
    const plan = {
      baseUrl,
      apiKey,
      redisUrl: server.url,
      inFlight: 4,
      calls: 100,
      agent: 'a',
      client: everything,
    };
    const fleet = await runFleet([plan], { killAfterMs: 20_000 });
    const [one] = fleet.members;
    expect(one!.tally.ok).toBe(100);
    expect({ code: one!.code, signal: one!.signal, stderr: one!.stderr }).toEqual({
      code: 0,
      signal: null,
      stderr: '',
    });
    expect(one!.lingeredMs).toBeLessThan(2_000);
  });
});
