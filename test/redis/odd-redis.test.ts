/**
 * A Redis that answers oddly, through a small fake RESP server (node:net):
 * a script answered with the wrong shape (an integer where a list belongs,
 * a list where a number belongs) counts as Redis failing: one warn, the
 * decision made locally, no call harmed, no bare TypeError and no unhandled
 * rejection. A Redis that never answers holds no call past its deadline or
 * its abort, and nothing is sent after the deadline.
 */
import { performance } from 'node:perf_hooks';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ScriptName } from '../../src/coordination/redis-scripts.js';
import { createRedisCoordinator } from '../../src/coordination/redis.js';
import { createChatDashClient, type ChatDashClientOptions } from '../../src/index.js';
import { makeConversation } from '../../src/testing.js';
import { fakeRedis, resp, wellFormed, type FakeRedis, type Reply } from '../helpers/fake-redis.js';
import { loggedClient } from '../helpers/logs.js';
import { connectRedis } from '../helpers/redis.js';
import { httpServer, sendJson } from '../helpers/servers.js';
import { sleep } from '../helpers/settle.js';

const apiKey = 'ck_odd_Rv5Tq8Lm2Xw7Zp';

const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => void unhandled.push(reason);
beforeAll(() => void process.on('unhandledRejection', onUnhandled));
afterAll(() => void process.off('unhandledRejection', onUnhandled));

const opened: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const thing of opened.splice(0).reverse()) await thing.close();
});

/** A coordinator on a connection to `fake`, once that connection is ready. */
async function coordinatorOn(fake: FakeRedis, timeoutMs = 200) {
  const redis = connectRedis(fake.url);
  await new Promise((resolve) => redis.once('ready', resolve));
  const coordinator = createRedisCoordinator({ redis, timeoutMs });
  opened.push(fake, {
    close: async () => {
      await coordinator.close();
      redis.disconnect();
    },
  });
  return coordinator;
}

/**
 * By agent: `ok`; `once500-N` and `once429-N` fail their first request (a
 * 500 asking for no wait, a plain 429) and then answer 200; `dead` always 500.
 */
async function upstream() {
  const failed = new Set<string>();
  return httpServer((req, res) => {
    const agent = req.url!.split('/')[2] ?? '';
    if (agent === 'dead') return sendJson(res, 500, {}, { 'retry-after-ms': '0' });
    const once = /^once(500|429)/.exec(agent);
    if (once && !failed.has(agent)) {
      failed.add(agent);
      return once[1] === '500'
        ? sendJson(res, 500, {}, { 'retry-after-ms': '0' })
        : sendJson(res, 429, {});
    }
    sendJson(res, 200, makeConversation());
  });
}

const everything: ChatDashClientOptions = {
  rateLimit: { perSecond: 1_000, adaptive: true },
  circuitBreaker: { failureThreshold: 2, openMs: 50 },
  logLevel: 'info',
};

/** A list where a number belongs, an integer where a list belongs. */
const MALFORMED: Record<ScriptName, string> = {
  pay: resp.int(7),
  slots: resp.int(7),
  sync: resp.int(7),
  fail: resp.int(7),
  refund: resp.array([resp.int(1), resp.int(2)]),
  halve: resp.bulk('not a number'),
  probe: resp.array([]),
  pause: resp.int(1), // its reply is never read
  succeed: resp.int(1),
  release: resp.int(0),
};

describe('a script answered with the wrong shape', () => {
  const checked: ScriptName[] = ['slots', 'pay', 'refund', 'halve', 'fail', 'probe', 'sync'];
  it.each(checked)(
    '%s: counts as Redis failing: one warn, every call as if Redis were away, no TypeError, no unhandled rejection',
    async (name) => {
      const fake = await fakeRedis((script): Reply =>
        script === name ? MALFORMED[script] : wellFormed(script),
      );
      const coordinator = await coordinatorOn(fake);
      const { baseUrl } = await upstream();
      const chatdash = loggedClient(createChatDashClient, {
        apiKey,
        baseUrl,
        coordinator,
        ...everything,
      });
      await sleep(300); // subscribed, and the state read once
      const params = (agentId: string) => ({ agentId, conversationId: 'c1' });
      const outcomes: string[] = [];
      const note = (p: Promise<unknown>) =>
        p.then(
          () => outcomes.push('ok'),
          (e: Error) => outcomes.push(`${e.name} ${(e as { status?: number }).status ?? ''}`),
        );
      // Slots and, after 25 successes, refunds; a paid retry; a 429 that halves the rate;
      // two failures that open the circuit; then the probe.
      for (let i = 0; i < 30; i++) await note(chatdash.getConversation(params('ok')));
      await note(chatdash.getConversation(params('once500-a')));
      await note(chatdash.getConversation(params('once429-a')));
      await note(chatdash.getConversation(params('dead'), { maxRetries: 0 }));
      await note(chatdash.getConversation(params('dead'), { maxRetries: 0 }));
      await sleep(150);
      await note(chatdash.getConversation(params('ok')));
      await sleep(100);

      expect(fake.runs).toContain(name);
      expect(outcomes).toEqual([
        ...Array<string>(32).fill('ok'),
        'InternalServerError 500',
        'InternalServerError 500',
        'ok',
      ]);
      const lost = chatdash.lines.filter((l) => /sharing lost/.test(l.message));
      expect(lost).toHaveLength(1);
      expect(lost[0]!.message).toContain(`${name}: malformed reply`);
      expect(unhandled).toEqual([]);
    },
    20_000,
  );
});

describe('a Redis that never answers (coordinator timeoutMs 2,500)', () => {
  /** A fake whose state is read, and which then answers nothing of `stalled`. */
  async function stalledOn(stalled: ScriptName[]) {
    const fake = await fakeRedis((script) =>
      stalled.includes(script) ? undefined : wellFormed(script),
    );
    const coordinator = await coordinatorOn(fake, 2_500);
    const seen: number[] = [];
    const { baseUrl } = await httpServer((req, res) => {
      seen.push(performance.now());
      if (req.url!.includes('/fails/')) sendJson(res, 500, {}, { 'retry-after-ms': '0' });
      else sendJson(res, 200, makeConversation());
    });
    await sleep(300);
    return { coordinator, baseUrl, seen };
  }

  const params = { agentId: 'fails', conversationId: 'c1' };
  const ok = { agentId: 'a1', conversationId: 'c1' };

  it('a throttle wait for a slot: deadlineMs 400 ends the call on time and nothing is sent after', async () => {
    const { coordinator, baseUrl, seen } = await stalledOn(['slots']);
    const chatdash = createChatDashClient({
      apiKey,
      baseUrl,
      coordinator,
      rateLimit: { perSecond: 50 },
      logLevel: 'off',
    });
    const began = performance.now();
    await expect(chatdash.getConversation(ok, { deadlineMs: 400 })).rejects.toMatchObject({
      name: 'APIConnectionTimeoutError',
      message: expect.stringMatching(/deadline of 400 ms/),
    });
    const took = performance.now() - began;
    expect(took).toBeGreaterThanOrEqual(390);
    expect(took).toBeLessThan(1_500); // Redis answers, or gives up, only after 2,500 ms
    await sleep(2_800); // past the coordinator's timeout: the slot falls back locally
    expect(seen).toEqual([]);
  });

  it('a throttle wait for a slot: an abort at 150 ms ends the call at once', async () => {
    const { coordinator, baseUrl, seen } = await stalledOn(['slots']);
    const chatdash = createChatDashClient({
      apiKey,
      baseUrl,
      coordinator,
      rateLimit: { perSecond: 50 },
      logLevel: 'off',
    });
    const began = performance.now();
    const signal = AbortSignal.timeout(150);
    await expect(chatdash.getConversation(ok, { signal })).rejects.toMatchObject({
      name: 'APIUserAbortError',
    });
    expect(performance.now() - began).toBeLessThan(1_500);
    await sleep(2_800);
    expect(seen).toEqual([]);
  });

  it('a budget payment: deadlineMs 400 ends the call on time and the retry is never sent', async () => {
    const { coordinator, baseUrl, seen } = await stalledOn(['pay']);
    const chatdash = createChatDashClient({ apiKey, baseUrl, coordinator, logLevel: 'off' });
    const began = performance.now();
    await expect(chatdash.getConversation(params, { deadlineMs: 400 })).rejects.toMatchObject({
      name: 'APIConnectionTimeoutError',
      message: expect.stringMatching(/deadline of 400 ms/),
    });
    expect(performance.now() - began).toBeLessThan(1_500);
    await sleep(2_800);
    expect(seen).toHaveLength(1); // the first attempt; its retry waited on Redis and gave up
  });

  it('a budget payment: an abort at 150 ms ends the call at once, and the retry is never sent', async () => {
    const { coordinator, baseUrl, seen } = await stalledOn(['pay']);
    const chatdash = createChatDashClient({ apiKey, baseUrl, coordinator, logLevel: 'off' });
    const began = performance.now();
    const signal = AbortSignal.timeout(150);
    await expect(chatdash.getConversation(params, { signal })).rejects.toMatchObject({
      name: 'APIUserAbortError',
    });
    expect(performance.now() - began).toBeLessThan(1_500);
    await sleep(2_800);
    expect(seen).toHaveLength(1);
  });
});
