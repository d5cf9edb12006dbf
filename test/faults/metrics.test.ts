/**
 * OpenTelemetry metrics with the real SDK: a MeterProvider with an in-memory
 * reader (delta temporality, so each test reads only what it recorded) and,
 * beside it, a periodic reader whose exporter throws, against real servers.
 * Registration is process-wide, so it lives in this file only (vitest runs
 * each file in its own worker) and is undone after it.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { metrics, type MeterProvider as ApiMeterProvider } from '@opentelemetry/api';
import {
  MeterProvider,
  PeriodicExportingMetricReader,
  type PushMetricExporter,
} from '@opentelemetry/sdk-metrics';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { makeConversation } from '../../src/testing.js';
import {
  collect as read,
  gauge as gaugeOf,
  histogram,
  TestReader,
  type Collected,
} from '../helpers/metrics.js';
import { failingOnce, httpServer, sendJson, tcpServer } from '../helpers/servers.js';
import {
  createChatDashClient,
  createMemoryCoordinator,
  type ChatDashClientOptions,
} from '../helpers/transport.js';

const apiKey = 'ck_metrics_test_key_5f2a9c';
const params = { agentId: 'agent_1', conversationId: 'conv_1' };
const TEMPLATE = '/agents/{agentId}/conversations/{conversationId}';

const reader = new TestReader();
let exports = 0;
const throwingExporter: PushMetricExporter = {
  export() {
    exports++;
    throw new Error('exporter down');
  },
  forceFlush: () => Promise.resolve(),
  shutdown: () => Promise.resolve(),
};
const provider = new MeterProvider({
  readers: [
    reader,
    new PeriodicExportingMetricReader({ exporter: throwingExporter, exportIntervalMillis: 100 }),
  ],
});
const getMeter = vi.spyOn(provider, 'getMeter');

beforeAll(() => {
  metrics.setGlobalMeterProvider(provider);
});
afterAll(async () => {
  metrics.disable();
  await provider.shutdown().catch(() => {});
});
beforeEach(async () => {
  await reader.collect(); // drops what earlier tests recorded
});

const collect = () => read(reader);
const gauge = (all: Collected, name: string, baseUrl: string, key = apiKey) =>
  gaugeOf(all, name, baseUrl, key);

function client(baseUrl: string, options: ChatDashClientOptions = {}) {
  return createChatDashClient({ apiKey, baseUrl, logLevel: 'off', ...options });
}

const attemptAttributes = (baseUrl: string) => ({
  'http.request.method': 'GET',
  'server.address': '127.0.0.1',
  'server.port': Number(new URL(baseUrl).port),
  'url.template': TEMPLATE,
});

const ok = (_req: unknown, res: Parameters<typeof sendJson>[0]) =>
  sendJson(res, 200, makeConversation());

describe('OpenTelemetry metrics', () => {
  it('a success: one attempt (status 200), one call, no wait, no retry, and the scope’s gauges', async () => {
    const server = await httpServer(ok);
    await client(server.baseUrl).getConversation(params);
    const all = await collect();
    const attempts = histogram(all, 'http.client.request.duration');
    expect(attempts).toEqual([
      {
        attributes: { ...attemptAttributes(server.baseUrl), 'http.response.status_code': 200 },
        count: 1,
        sum: expect.any(Number),
      },
    ]);
    expect(attempts[0]!.sum).toBeGreaterThan(0);
    expect(attempts[0]!.sum).toBeLessThan(10); // seconds, not milliseconds
    const calls = histogram(all, 'chatdash.client.call.duration');
    expect(calls).toEqual([
      { attributes: { 'server.address': '127.0.0.1' }, count: 1, sum: expect.any(Number) },
    ]);
    expect(calls[0]!.sum).toBeGreaterThanOrEqual(attempts[0]!.sum);
    expect(all['chatdash.client.wait.duration'] ?? []).toEqual([]);
    expect(all['chatdash.client.retries'] ?? []).toEqual([]);
    expect(gauge(all, 'chatdash.circuit.open', server.baseUrl)).toBe(0);
    expect(gauge(all, 'chatdash.pause.remaining', server.baseUrl)).toBe(0);
    expect(gauge(all, 'chatdash.retry_budget.available', server.baseUrl)).toBe(500);
    // No rateLimit, no Redis: those two are absent.
    expect(gauge(all, 'chatdash.rate_limit.rate', server.baseUrl)).toBeUndefined();
    expect(gauge(all, 'chatdash.coordinator.shared', server.baseUrl)).toBeUndefined();
  });

  it('makes the instruments once per meter provider, not once per call or per client', async () => {
    const server = await httpServer(ok);
    await client(server.baseUrl).getConversation(params);
    const before = getMeter.mock.calls.length;
    expect(before).toBe(1);
    for (let i = 0; i < 3; i++) await client(server.baseUrl).getConversation(params);
    expect(getMeter.mock.calls.length).toBe(before);
    expect(histogram(await collect(), 'http.client.request.duration')[0]!.count).toBe(4);
  });

  it('reports a new client’s scope from its creation, before any call, in a fresh copy of the package', async () => {
    const server = await httpServer(ok);
    vi.resetModules();
    const fresh = await import('../helpers/transport.js');
    const made = fresh.createChatDashClient({ apiKey, baseUrl: server.baseUrl, logLevel: 'off' });
    // The API loads in the background: poll, within a generous bound.
    const circuit = async () => gauge(await collect(), 'chatdash.circuit.open', server.baseUrl);
    let open = await circuit();
    for (const until = Date.now() + 10_000; open === undefined && Date.now() < until;) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      open = await circuit();
    }
    expect(open).toBe(0);
    expect(server.requests).toEqual([]);
    expect(made.baseUrl).toBe(server.baseUrl);
  });

  it.each([
    ['backoff', {}],
    ['retry-after-ms', { 'retry-after-ms': '10' }],
    ['retry-after', { 'retry-after': '0' }],
  ] as const)(
    'a retry after a 500 with delaySource %s: counted, and its wait recorded',
    async (source, headers) => {
      const server = await failingOnce(500, headers);
      const { attempts } = await client(server.baseUrl).getConversationWithResponse(params);
      expect(attempts[0]!.delaySource).toBe(source);
      const all = await collect();
      expect(all['chatdash.client.retries']).toEqual([
        { attributes: { 'chatdash.delay_source': source }, value: 1 },
      ]);
      const waits = histogram(all, 'chatdash.client.wait.duration');
      expect(waits).toEqual([
        {
          attributes: { 'chatdash.delay_source': source },
          count: 1,
          sum: attempts[0]!.delayMs! / 1000,
        },
      ]);
      expect(
        histogram(all, 'http.client.request.duration').map((p) => [p.attributes, p.count]),
      ).toEqual([
        [
          {
            ...attemptAttributes(server.baseUrl),
            'http.response.status_code': 500,
            'error.type': '500',
          },
          1,
        ],
        [{ ...attemptAttributes(server.baseUrl), 'http.response.status_code': 200 }, 1],
      ]);
      // The call succeeded in the end: no error.type.
      expect(histogram(all, 'chatdash.client.call.duration')).toMatchObject([
        { attributes: { 'server.address': '127.0.0.1' }, count: 1 },
      ]);
    },
  );

  it('a retry held by another call’s pause (delaySource rate-limit), and a first attempt held by it', async () => {
    // conv_paused answers 429 asking for 1.5 s at once; conv_slow answers 500 after 100 ms, then 200.
    let slow = 0;
    const server = await httpServer((req, res) => {
      if (req.url!.includes('conv_paused'))
        return sendJson(res, 429, {}, { 'retry-after-ms': '1500' });
      if (slow++ === 0) return void setTimeout(() => sendJson(res, 500, {}), 100);
      sendJson(res, 200, makeConversation());
    });
    const c = client(server.baseUrl);
    const retried = c.getConversationWithResponse({ agentId: 'a', conversationId: 'conv_slow' });
    await new Promise((resolve) => setTimeout(resolve, 20));
    await expect(
      c.getConversation({ agentId: 'a', conversationId: 'conv_paused' }, { maxRetries: 0 }),
    ).rejects.toThrow();
    const held = c.getConversationWithResponse({ agentId: 'a', conversationId: 'conv_held' });
    const [{ attempts }, heldResult] = await Promise.all([retried, held]);
    expect(attempts[0]!.delaySource).toBe('rate-limit');
    expect(heldResult.attempts[0]!.delaySource).toBe('rate-limit');
    const all = await collect();
    expect(all['chatdash.client.retries']).toEqual([
      { attributes: { 'chatdash.delay_source': 'rate-limit' }, value: 1 },
    ]);
    // Two waits: the retry's, and the held first attempt's.
    const [wait] = histogram(all, 'chatdash.client.wait.duration');
    expect(wait).toMatchObject({ attributes: { 'chatdash.delay_source': 'rate-limit' }, count: 2 });
    expect(wait!.sum).toBeCloseTo(
      (attempts[0]!.delayMs! + heldResult.attempts[0]!.delayMs!) / 1000,
      3,
    );
    expect(wait!.sum).toBeGreaterThan(2); // about 1.4 s + 1.5 s
  });

  it('a retry that waits for its send slot (delaySource throttle)', async () => {
    const server = await failingOnce(500);
    const c = client(server.baseUrl, { rateLimit: { perSecond: 1, burst: 1 } });
    const { attempts } = await c.getConversationWithResponse(params);
    expect(attempts[0]!.delaySource).toBe('throttle');
    const all = await collect();
    expect(all['chatdash.client.retries']).toEqual([
      { attributes: { 'chatdash.delay_source': 'throttle' }, value: 1 },
    ]);
    expect(histogram(all, 'chatdash.client.wait.duration')).toMatchObject([
      { attributes: { 'chatdash.delay_source': 'throttle' }, count: 1 },
    ]);
    expect(gauge(all, 'chatdash.rate_limit.rate', server.baseUrl)).toBe(1);
  });

  it('a 404: the attempt with status 404 and error.type "404", the call with error.type NotFoundError', async () => {
    const server = await httpServer((_req, res) =>
      sendJson(res, 404, { message: 'no such conversation' }),
    );
    await expect(client(server.baseUrl).getConversation(params)).rejects.toThrow();
    const all = await collect();
    expect(histogram(all, 'http.client.request.duration')).toMatchObject([
      {
        attributes: {
          ...attemptAttributes(server.baseUrl),
          'http.response.status_code': 404,
          'error.type': '404',
        },
        count: 1,
      },
    ]);
    expect(histogram(all, 'chatdash.client.call.duration')).toMatchObject([
      { attributes: { 'server.address': '127.0.0.1', 'error.type': 'NotFoundError' }, count: 1 },
    ]);
    expect(all['chatdash.client.retries'] ?? []).toEqual([]);
  });

  it('a refused connection: no status, error.type APIConnectionError, on the attempts and the call', async () => {
    const server = await httpServer(ok);
    const { baseUrl } = server;
    await server.close();
    await expect(client(baseUrl, { maxRetries: 1 }).getConversation(params)).rejects.toThrow();
    const all = await collect();
    expect(histogram(all, 'http.client.request.duration')).toMatchObject([
      {
        attributes: { ...attemptAttributes(baseUrl), 'error.type': 'APIConnectionError' },
        count: 2,
      },
    ]);
    expect(histogram(all, 'http.client.request.duration')[0]!.attributes).not.toHaveProperty(
      'http.response.status_code',
    );
    expect(histogram(all, 'chatdash.client.call.duration')).toMatchObject([
      {
        attributes: { 'server.address': '127.0.0.1', 'error.type': 'APIConnectionError' },
        count: 1,
      },
    ]);
    expect(all['chatdash.client.retries']).toEqual([
      { attributes: { 'chatdash.delay_source': 'backoff' }, value: 1 },
    ]);
  });

  it('a timeout: error.type APIConnectionTimeoutError, the attempt lasting about timeoutMs', async () => {
    const server = await tcpServer(() => {}); // reads the request, never answers
    await expect(
      client(server.baseUrl, { timeoutMs: 200, maxRetries: 0 }).getConversation(params),
    ).rejects.toThrow();
    const all = await collect();
    const [attempt] = histogram(all, 'http.client.request.duration');
    expect(attempt).toMatchObject({
      attributes: {
        ...attemptAttributes(server.baseUrl),
        'error.type': 'APIConnectionTimeoutError',
      },
      count: 1,
    });
    expect(attempt!.sum).toBeGreaterThanOrEqual(0.19);
    expect(attempt!.sum).toBeLessThan(5);
    expect(histogram(all, 'chatdash.client.call.duration')).toMatchObject([
      {
        attributes: { 'server.address': '127.0.0.1', 'error.type': 'APIConnectionTimeoutError' },
        count: 1,
      },
    ]);
  });

  it('the circuit: 0, then 1 once it opens (a refused call has no attempt), then 0 once the probe succeeds', async () => {
    let failing = true;
    const server = await httpServer((_req, res) =>
      failing ? sendJson(res, 500, {}) : sendJson(res, 200, makeConversation()),
    );
    const c = client(server.baseUrl, {
      maxRetries: 0,
      circuitBreaker: { failureThreshold: 2, openMs: 300 },
    });
    await c.getConversation(params).catch(() => {});
    expect(gauge(await collect(), 'chatdash.circuit.open', server.baseUrl)).toBe(0);
    await c.getConversation(params).catch(() => {});
    await expect(c.getConversation(params)).rejects.toThrow(/circuit/i);
    const open = await collect();
    expect(gauge(open, 'chatdash.circuit.open', server.baseUrl)).toBe(1);
    expect(histogram(open, 'http.client.request.duration')[0]!.count).toBe(1); // the refused call sent nothing
    expect(
      histogram(open, 'chatdash.client.call.duration', { 'error.type': 'CircuitOpenError' }),
    ).toMatchObject([{ count: 1 }]);
    failing = false;
    await new Promise((resolve) => setTimeout(resolve, 350));
    await c.getConversation(params);
    expect(gauge(await collect(), 'chatdash.circuit.open', server.baseUrl)).toBe(1 - 1);
  });

  it('a pause: the seconds left, then 0', async () => {
    const server = await httpServer((_req, res) =>
      sendJson(res, 429, {}, { 'retry-after-ms': '600' }),
    );
    await expect(
      client(server.baseUrl, { maxRetries: 0 }).getConversation(params),
    ).rejects.toThrow();
    const paused = gauge(await collect(), 'chatdash.pause.remaining', server.baseUrl)!;
    expect(paused).toBeGreaterThan(0.1);
    expect(paused).toBeLessThanOrEqual(0.6);
    await new Promise((resolve) => setTimeout(resolve, 650));
    expect(gauge(await collect(), 'chatdash.pause.remaining', server.baseUrl)).toBe(0);
  });

  it('the adaptive rate: perSecond until a 429, then half of it', async () => {
    const server = await httpServer((_req, res, n) =>
      n === 0 ? sendJson(res, 200, makeConversation()) : sendJson(res, 429, {}),
    );
    const c = client(server.baseUrl, {
      maxRetries: 0,
      rateLimit: { perSecond: 40, adaptive: true },
    });
    await c.getConversation(params);
    expect(gauge(await collect(), 'chatdash.rate_limit.rate', server.baseUrl)).toBe(40);
    await expect(c.getConversation(params)).rejects.toThrow();
    const rate = gauge(await collect(), 'chatdash.rate_limit.rate', server.baseUrl)!;
    expect(rate).toBeGreaterThanOrEqual(20);
    expect(rate).toBeLessThan(40); // climbs back by 2/s each quiet second
  });

  it('the retry budget: capacity, then less for each retry paid', async () => {
    const server = await httpServer((_req, res) => sendJson(res, 503, {}));
    const c = client(server.baseUrl, {
      maxRetries: 2,
      retryBudget: { capacity: 30, retryCost: 5 },
    });
    await c.getConversation(params).catch(() => {}); // fails before the first collection: warm
    await collect();
    await expect(c.getConversation(params)).rejects.toThrow();
    const all = await collect();
    expect(gauge(all, 'chatdash.retry_budget.available', server.baseUrl)).toBe(30 - 4 * 5);
    expect(all['chatdash.client.retries']).toEqual([
      { attributes: { 'chatdash.delay_source': 'backoff' }, value: 2 },
    ]);
  });

  it('a client with retryBudget: false reports no budget', async () => {
    const server = await httpServer(ok);
    await client(server.baseUrl, { retryBudget: false }).getConversation(params);
    const all = await collect();
    expect(gauge(all, 'chatdash.circuit.open', server.baseUrl)).toBe(0);
    expect(gauge(all, 'chatdash.retry_budget.available', server.baseUrl)).toBeUndefined();
  });

  it('never shows the key: not in a name, an attribute or a value', async () => {
    const server = await httpServer((_req, res, n) =>
      n === 0 ? sendJson(res, 503, {}) : sendJson(res, 404, {}),
    );
    const key = 'ck_SECRET_4c1d7e8f9a0b';
    await expect(
      createChatDashClient({
        apiKey: key,
        baseUrl: server.baseUrl,
        logLevel: 'off',
        rateLimit: { perSecond: 50 },
      }).getConversation(params),
    ).rejects.toThrow();
    const all = await collect();
    expect(gauge(all, 'chatdash.circuit.open', server.baseUrl, key)).toBe(0);
    const text = JSON.stringify(all);
    expect(text).toContain('chatdash.scope');
    for (const piece of [key, key.slice(3), key.slice(-8)]) expect(text).not.toContain(piece);
  });

  it('metrics: false records nothing and reports no gauge', async () => {
    const server = await httpServer(ok);
    await client(server.baseUrl, { metrics: false }).getConversation(params);
    const all = await collect();
    expect(histogram(all, 'http.client.request.duration')).toEqual([]);
    expect(histogram(all, 'chatdash.client.call.duration')).toEqual([]);
    expect(gauge(all, 'chatdash.circuit.open', server.baseUrl)).toBeUndefined();
  });

  it('a client whose coordinator is closed stops reporting its scope', async () => {
    const server = await httpServer(ok);
    const coordinator = createMemoryCoordinator();
    await client(server.baseUrl, { coordinator }).getConversation(params);
    expect(gauge(await collect(), 'chatdash.circuit.open', server.baseUrl)).toBe(0);
    await coordinator.close();
    expect(gauge(await collect(), 'chatdash.circuit.open', server.baseUrl)).toBeUndefined();
  });

  it('a client that was garbage-collected stops reporting: no gauge callback keeps it alive', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const server = await httpServer(ok);
    await (async () => {
      await client(server.baseUrl).getConversation(params);
    })();
    expect(gauge(await collect(), 'chatdash.circuit.open', server.baseUrl)).toBe(0);
    await server.close();
    for (let i = 0; i < 10; i++) {
      gc();
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(gauge(await collect(), 'chatdash.circuit.open', server.baseUrl)).toBeUndefined();
  });

  it('an exporter that throws breaks no call', async () => {
    const server = await httpServer(ok);
    const c = client(server.baseUrl);
    const before = exports;
    const until = Date.now() + 10_000;
    while (exports < before + 2 && Date.now() < until) await c.getConversation(params);
    expect(exports).toBeGreaterThanOrEqual(before + 2);
  });
});

describe('an instrument that throws', () => {
  it('breaks no call, and the gauge callback that throws neither', async () => {
    const server = await failingOnce(500, { 'retry-after-ms': '1' });
    const thrown: string[] = [];
    const fail = (what: string) => () => {
      thrown.push(what);
      throw new Error(`${what} broke`);
    };
    const instrument = { record: fail('record'), add: fail('add') };
    const throwing = {
      getMeter: () => ({
        createHistogram: () => instrument,
        createCounter: () => instrument,
        createObservableGauge: () => ({}),
        addBatchObservableCallback: () => {},
      }),
    } as unknown as ApiMeterProvider;
    metrics.disable();
    metrics.setGlobalMeterProvider(throwing);
    try {
      const { data, attempts } = await client(server.baseUrl).getConversationWithResponse(params);
      expect(data).toMatchObject({ _id: expect.any(String) });
      expect(attempts).toHaveLength(2);
      await expect(
        client(server.baseUrl, { maxRetries: 0 }).getConversation(params),
      ).resolves.toBeDefined();
      expect(new Set(thrown)).toEqual(new Set(['record', 'add']));
    } finally {
      metrics.disable();
      metrics.setGlobalMeterProvider(provider);
    }
    // Back on the SDK provider: recorded again.
    await client(server.baseUrl).getConversation(params);
    expect(histogram(await collect(), 'http.client.request.duration').length).toBeGreaterThan(0);
  });

  it('a provider whose getMeter throws records nothing and breaks nothing', async () => {
    const server = await httpServer(ok);
    metrics.disable();
    metrics.setGlobalMeterProvider({
      getMeter: () => {
        throw new Error('no meter');
      },
    });
    try {
      await expect(client(server.baseUrl).getConversation(params)).resolves.toBeDefined();
    } finally {
      metrics.disable();
      metrics.setGlobalMeterProvider(provider);
    }
  });
});
