/**
 * OpenTelemetry spans and trace propagation with the real SDK: an in-memory
 * exporter, the AsyncLocalStorage context manager and the W3C trace-context
 * propagator, against real servers that record the `traceparent` they got.
 * Registration is process-wide, so it lives in this file only (vitest runs
 * each file in its own worker) and is undone after it.
 */
import { context, propagation, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { Attributes } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SamplingDecision,
  SimpleSpanProcessor,
  type ReadableSpan,
  type Sampler,
} from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  APIConnectionTimeoutError,
  APIUserAbortError,
  createChatDashClient,
  NotFoundError,
  transport,
  type ChatDashClientOptions,
} from '../helpers/transport.js';
import { failingOnce, httpServer, sendJson, tcpServer } from '../helpers/servers.js';
import { makeConversation } from '../../src/testing.js';

const apiKey = 'ck_tracing_test_key';
const params = { agentId: 'agent_1', conversationId: 'conv_1' };
const TEMPLATE = '/agents/{agentId}/conversations/{conversationId}';
const ATTEMPT = `GET ${TEMPLATE}`;

const exporter = new InMemorySpanExporter();
/** What the sampler was shown when each span was created. */
const sampled: { name: string; attributes: Attributes }[] = [];
const recordingSampler: Sampler = {
  shouldSample(_context, _traceId, name, _kind, attributes) {
    sampled.push({ name, attributes: { ...attributes } });
    return { decision: SamplingDecision.RECORD_AND_SAMPLED };
  },
  toString: () => 'RecordingSampler',
};
const provider = new BasicTracerProvider({
  sampler: recordingSampler,
  spanProcessors: [new SimpleSpanProcessor(exporter)],
});

beforeAll(() => {
  trace.setGlobalTracerProvider(provider);
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
});
afterAll(async () => {
  trace.disable();
  context.disable();
  propagation.disable();
  await provider.shutdown();
});
beforeEach(() => {
  exporter.reset();
  sampled.length = 0;
});

function client(baseUrl: string, options: ChatDashClientOptions = {}) {
  return createChatDashClient({ apiKey, baseUrl, logLevel: 'off', ...options });
}

function spans() {
  const all = exporter.getFinishedSpans();
  return {
    call: all.filter((s) => s.name === 'chatdash.getConversation'),
    attempts: all.filter((s) => s.name === ATTEMPT),
    all,
  };
}

/** The `traceparent` a CLIENT span's request must carry. */
const traceparentOf = (span: ReadableSpan) =>
  `00-${span.spanContext().traceId}-${span.spanContext().spanId}-01`;

const httpAttributes = (baseUrl: string) => ({
  'http.request.method': 'GET',
  'url.full': `${baseUrl}/agents/agent_1/conversations/conv_1`,
  'url.template': TEMPLATE,
  'server.address': '127.0.0.1',
  'server.port': Number(new URL(baseUrl).port),
});

describe('OpenTelemetry spans', () => {
  it('makes spans and sends traceparent from the very first call of a process, right after the client is made', async () => {
    const server = await httpServer((_req, res) => sendJson(res, 200, makeConversation()));
    // A fresh copy of the package: its tracing module has not loaded the API yet.
    vi.resetModules();
    const fresh = await import('../helpers/transport.js');
    const first = fresh.createChatDashClient({ apiKey, baseUrl: server.baseUrl });
    await first.getConversation(params);
    const { call, attempts } = spans();
    expect(call).toHaveLength(1);
    expect(attempts).toHaveLength(1);
    expect(server.requests[0]!.headers['traceparent']).toBe(traceparentOf(attempts[0]!));
  });

  it('a success: a call span (INTERNAL), child of the caller, around one CLIENT span with the HTTP attributes, whose traceparent the server got', async () => {
    const server = await httpServer((_req, res) => sendJson(res, 200, makeConversation()));
    const tracer = trace.getTracer('test');
    const caller = await tracer.startActiveSpan('caller', async (span) => {
      await client(server.baseUrl).getConversation(params);
      span.end();
      return span;
    });
    const {
      call: [call],
      attempts: [attempt],
      all,
    } = spans();
    expect(all).toHaveLength(3);
    expect(call!.kind).toBe(SpanKind.INTERNAL);
    expect(call!.parentSpanContext?.spanId).toBe(caller.spanContext().spanId);
    expect(call!.spanContext().traceId).toBe(caller.spanContext().traceId);
    expect(call!.status.code).toBe(SpanStatusCode.UNSET);
    expect(attempt!.kind).toBe(SpanKind.CLIENT);
    expect(attempt!.parentSpanContext?.spanId).toBe(call!.spanContext().spanId);
    expect(attempt!.attributes).toStrictEqual({
      ...httpAttributes(server.baseUrl),
      'http.response.status_code': 200,
    });
    expect(attempt!.status.code).toBe(SpanStatusCode.UNSET);
    expect(server.requests[0]!.headers['traceparent']).toBe(traceparentOf(attempt!));
  });

  it('gives a sampler the method, url.full, server.address and server.port when a CLIENT span is created', async () => {
    const server = await httpServer((_req, res) => sendJson(res, 200, makeConversation()));
    await client(server.baseUrl).getConversation(params);
    const atCreation = sampled.find((s) => s.name === ATTEMPT)!.attributes;
    expect(atCreation).toMatchObject(httpAttributes(server.baseUrl));
  });

  it('a retried 503: two CLIENT spans, the first ERROR with error.type "503", the second with resend_count 1, each traceparent its own', async () => {
    const server = await failingOnce(503, { 'retry-after-ms': '10' });
    await client(server.baseUrl).getConversation(params);
    const {
      call: [call],
      attempts,
    } = spans();
    expect(attempts).toHaveLength(2);
    const [first, second] = attempts as [ReadableSpan, ReadableSpan];
    expect(first.attributes).toStrictEqual({
      ...httpAttributes(server.baseUrl),
      'http.response.status_code': 503,
      'error.type': '503',
    });
    expect(first.status.code).toBe(SpanStatusCode.ERROR);
    expect(second.attributes).toStrictEqual({
      ...httpAttributes(server.baseUrl),
      'http.request.resend_count': 1,
      'http.response.status_code': 200,
    });
    expect(second.status.code).toBe(SpanStatusCode.UNSET);
    for (const span of attempts)
      expect(span.parentSpanContext?.spanId).toBe(call!.spanContext().spanId);
    expect(call!.status.code).toBe(SpanStatusCode.UNSET);
    expect(server.requests.map((r) => r.headers['traceparent'])).toEqual(
      attempts.map(traceparentOf),
    );
  });

  it('a timeout: error.type APIConnectionTimeoutError, no status code, ERROR on both spans', async () => {
    const server = await tcpServer(() => {}); // never answers
    const error = await client(server.baseUrl, { timeoutMs: 200, maxRetries: 0 })
      .getConversation(params)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(APIConnectionTimeoutError);
    const {
      call: [call],
      attempts: [attempt],
    } = spans();
    expect(attempt!.attributes).toStrictEqual({
      ...httpAttributes(server.baseUrl),
      'error.type': 'APIConnectionTimeoutError',
    });
    expect(attempt!.status.code).toBe(SpanStatusCode.ERROR);
    expect(call!.attributes).toStrictEqual({ 'error.type': 'APIConnectionTimeoutError' });
    expect(call!.status).toStrictEqual({
      code: SpanStatusCode.ERROR,
      message: (error as Error).message,
    });
  });

  it('an abort: both spans end, ERROR with error.type APIUserAbortError', async () => {
    const server = await tcpServer(() => {});
    const controller = new AbortController();
    const call = client(server.baseUrl).getConversation(params, { signal: controller.signal });
    setTimeout(() => controller.abort(), 100);
    await expect(call).rejects.toBeInstanceOf(APIUserAbortError);
    const { call: calls, attempts } = spans();
    expect(calls).toHaveLength(1);
    expect(attempts).toHaveLength(1);
    for (const span of [...calls, ...attempts]) {
      expect(span.attributes['error.type']).toBe('APIUserAbortError');
      expect(span.status.code).toBe(SpanStatusCode.ERROR);
    }
  });

  it('a 404: the CLIENT span has status code 404 and error.type "404", the call span NotFoundError, both ERROR', async () => {
    const server = await httpServer((_req, res) => sendJson(res, 404, { error: 'missing' }));
    await expect(client(server.baseUrl).getConversation(params)).rejects.toBeInstanceOf(
      NotFoundError,
    );
    const {
      call: [call],
      attempts,
    } = spans();
    expect(attempts).toHaveLength(1);
    expect(attempts[0]!.attributes).toStrictEqual({
      ...httpAttributes(server.baseUrl),
      'http.response.status_code': 404,
      'error.type': '404',
    });
    expect(attempts[0]!.status.code).toBe(SpanStatusCode.ERROR);
    expect(call!.attributes).toStrictEqual({ 'error.type': 'NotFoundError' });
    expect(call!.status.code).toBe(SpanStatusCode.ERROR);
    expect(server.requests[0]!.headers['traceparent']).toBe(traceparentOf(attempts[0]!));
  });

  it('a 401 whose reason phrase quotes the key: the call span status message has it redacted', async () => {
    const server = await httpServer((req, res) => {
      res.writeHead(401, `denied for ${String(req.headers.authorization)}`);
      res.end();
    });
    // chatdash-client/undici shows the standard phrase for the status, never the server's.
    const phrase = transport === 'undici' ? 'Unauthorized' : 'denied for [redacted]';
    const message = `401 ${phrase}: GET ${server.baseUrl}/agents/agent_1/conversations/conv_1`;
    await expect(client(server.baseUrl).getConversation(params)).rejects.toThrow(message);
    const [call] = spans().call;
    expect(call!.status).toStrictEqual({ code: SpanStatusCode.ERROR, message });
    expect(
      JSON.stringify(spans().all.map((s) => [s.status, s.attributes, s.events])),
    ).not.toContain(apiKey);
  });

  it('tracing: false makes no span and sends no traceparent', async () => {
    const server = await httpServer((_req, res) => sendJson(res, 200, makeConversation()));
    await client(server.baseUrl, { tracing: false }).getConversation(params);
    expect(exporter.getFinishedSpans()).toEqual([]);
    expect(server.requests[0]!.headers).not.toHaveProperty('traceparent');
  });

  it('shows the traceparent it sent in the debug line, by the header allowlist', async () => {
    const server = await httpServer((_req, res) => sendJson(res, 200, makeConversation()));
    const debug = vi.fn();
    const logger = { error: vi.fn(), warn: vi.fn(), info: vi.fn(), debug };
    await client(server.baseUrl, { logLevel: 'debug', logger }).getConversation(params);
    const sent = server.requests[0]!.headers['traceparent'];
    expect(sent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    expect(debug.mock.calls[0]![1]).toMatchObject({ headers: { traceparent: sent } });
  });

  it('follows the provider the app has now: after the provider is replaced, spans go to the new one only', async () => {
    const server = await httpServer((_req, res) => sendJson(res, 200, makeConversation()));
    const chatdash = client(server.baseUrl);
    await chatdash.getConversation(params);
    expect(spans().call).toHaveLength(1);
    const replacement = new InMemorySpanExporter();
    const next = new BasicTracerProvider({
      spanProcessors: [new SimpleSpanProcessor(replacement)],
    });
    trace.disable();
    trace.setGlobalTracerProvider(next);
    try {
      exporter.reset();
      await chatdash.getConversation(params);
      expect(exporter.getFinishedSpans()).toHaveLength(0);
      expect(replacement.getFinishedSpans().map((s) => s.name)).toEqual([
        ATTEMPT,
        'chatdash.getConversation',
      ]);
    } finally {
      trace.disable();
      trace.setGlobalTracerProvider(provider);
      await next.shutdown();
    }
  });
});
