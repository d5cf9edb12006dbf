/**
 * `@opentelemetry/api` is an optional peer dependency (a service without
 * tracing or metrics must not pay for it):
 * the packed package, in a fresh consumer, works without it and loads nothing
 * of it, and with it installed loads it lazily, in ESM and in CommonJS, for
 * tracing and for metrics (and not at all with both off). A
 * loader hook (`module.register`) records every module resolution, including
 * those that fail, with the module that asked.
 */
import { mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installPacked, repo, run } from '../helpers/packed.js';

// The package's own dependencies, and nothing from @opentelemetry.
const DEPENDENCIES = ['openapi-fetch', 'ajv-formats', 'ajv'];
let root: string;

/** Resolutions as the hook saw them: what was asked, by whom, and the URL or error code. */
interface Resolution {
  specifier: string;
  parent: string | undefined;
  url?: string;
  error?: string;
}

const hooks = `
let port;
export function initialize(data) { port = data.port; }
export async function resolve(specifier, context, next) {
  try {
    const resolved = await next(specifier, context);
    port.postMessage({ specifier, parent: context.parentURL, url: resolved.url });
    return resolved;
  } catch (error) {
    port.postMessage({ specifier, parent: context.parentURL, error: error.code });
    throw error;
  }
}`;

const register = `
import { register } from 'node:module';
import { MessageChannel } from 'node:worker_threads';
const { port1, port2 } = new MessageChannel();
globalThis.resolutions = [];
port1.on('message', (message) => globalThis.resolutions.push(message));
port1.unref();
register('./hooks.mjs', import.meta.url, { data: { port: port2 }, transferList: [port2] });
// Messages from the hooks' thread arrive a little later than the imports they describe.
globalThis.settled = () => new Promise((resolve) => setTimeout(resolve, 100));`;

/** Runs a consumer script under the recording hook; returns what it printed, parsed. */
async function consumer(file: string, code: string): Promise<Record<string, unknown>> {
  await writeFile(join(root, file), code);
  const { stdout } = await run(process.execPath, ['--import', './register.mjs', file], {
    cwd: root,
  });
  return JSON.parse(stdout) as Record<string, unknown>;
}

const fromPackage = (r: Resolution) => r.parent?.includes('/node_modules/chatdash-client/');

beforeAll(async () => {
  root = await installPacked(DEPENDENCIES);
  await writeFile(join(root, 'package.json'), JSON.stringify({ private: true }));
  await writeFile(join(root, 'hooks.mjs'), hooks);
  await writeFile(join(root, 'register.mjs'), register);
}, 120_000);

afterAll(async () => {
  if (root) await rm(root, { recursive: true, force: true });
});

describe('without @opentelemetry/api installed', () => {
  it('cannot resolve it from the installed package (so the tests below mean something)', () => {
    const required = createRequire(join(root, 'node_modules/chatdash-client/package.json'));
    expect(() => required.resolve('@opentelemetry/api')).toThrow(/Cannot find module/);
  });

  const call = `
const mock = await startMockChatDash({ conversations: [makeConversation()] });
const client = createChatDashClient({ apiKey: 'ck_no_otel', baseUrl: mock.baseUrl });
const conversation = await client.getConversation({ agentId: 'agent_0001', conversationId: 'conv_0001' });
await mock.close();
await globalThis.settled();
const cache = typeof require === 'function' ? Object.keys(require.cache) : [];
console.log(JSON.stringify({ id: conversation._id, resolutions: globalThis.resolutions, cache }));`;

  it.each([
    [
      'ESM',
      'no-otel.mjs',
      `import { createChatDashClient } from 'chatdash-client';
import { makeConversation, startMockChatDash } from 'chatdash-client/testing';
${call}`,
    ],
    [
      'CommonJS',
      'no-otel.cjs',
      `const { createChatDashClient } = require('chatdash-client');
const { makeConversation, startMockChatDash } = require('chatdash-client/testing');
(async () => {${call}})();`,
    ],
  ])(
    'makes a call in %s, tries @opentelemetry/api once and loads nothing under @opentelemetry',
    async (_, file, code) => {
      const { id, resolutions, cache } = (await consumer(file, code)) as {
        id: string;
        resolutions: Resolution[];
        cache: string[];
      };
      expect(id).toBe('conv_0001');
      const asked = resolutions.filter((r) => r.specifier.startsWith('@opentelemetry/'));
      expect(asked).toEqual([
        {
          specifier: '@opentelemetry/api',
          parent: expect.stringContaining('/node_modules/chatdash-client/dist/'),
          error: 'ERR_MODULE_NOT_FOUND',
        },
      ]);
      expect(resolutions.filter((r) => r.url?.includes('@opentelemetry'))).toEqual([]);
      expect(cache.filter((path) => path.includes('@opentelemetry'))).toEqual([]);
    },
  );
});

describe('without @opentelemetry/api, and tracing and metrics both off', () => {
  it('does not even look for it', async () => {
    const { id, resolutions } = (await consumer(
      'both-off.mjs',
      `import { createChatDashClient } from 'chatdash-client';
import { makeConversation, startMockChatDash } from 'chatdash-client/testing';
const mock = await startMockChatDash({ conversations: [makeConversation()] });
const client = createChatDashClient({ apiKey: 'ck_off', baseUrl: mock.baseUrl, tracing: false, metrics: false });
const conversation = await client.getConversation({ agentId: 'agent_0001', conversationId: 'conv_0001' });
await mock.close();
await globalThis.settled();
console.log(JSON.stringify({ id: conversation._id, resolutions: globalThis.resolutions }));`,
    )) as { id: string; resolutions: Resolution[] };
    expect(id).toBe('conv_0001');
    expect(resolutions.filter((r) => r.specifier.startsWith('@opentelemetry/'))).toEqual([]);
  });
});

describe('with @opentelemetry/api installed', () => {
  beforeAll(async () => {
    await mkdir(join(root, 'node_modules/@opentelemetry'), { recursive: true });
    for (const name of ['api', 'sdk-trace-base', 'sdk-metrics']) {
      const from = join('node_modules/@opentelemetry', name);
      await symlink(join(repo, from), join(root, from), 'dir');
    }
  });

  // A client with tracing and metrics off never asks for the API; one with metrics on loads it
  // and records; one with tracing on makes spans.
  const calls = `
const exporter = new InMemorySpanExporter();
trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }));
class Reader extends MetricReader {
  onForceFlush() { return Promise.resolve(); }
  onShutdown() { return Promise.resolve(); }
}
const reader = new Reader();
metrics.setGlobalMeterProvider(new MeterProvider({ readers: [reader] }));
const mock = await startMockChatDash({ conversations: [makeConversation()] });
const params = { agentId: 'agent_0001', conversationId: 'conv_0001' };
await createChatDashClient({ apiKey: 'ck_otel', baseUrl: mock.baseUrl, tracing: false, metrics: false }).getConversation(params);
await globalThis.settled();
const beforeTracing = globalThis.resolutions.slice();
const recordedBefore = (await reader.collect()).resourceMetrics.scopeMetrics.length;
await createChatDashClient({ apiKey: 'ck_otel', baseUrl: mock.baseUrl, tracing: false }).getConversation(params);
const spansBefore = exporter.getFinishedSpans().length;
await createChatDashClient({ apiKey: 'ck_otel', baseUrl: mock.baseUrl }).getConversation(params);
await mock.close();
await globalThis.settled();
const spans = exporter.getFinishedSpans().map((s) => s.name);
const { resourceMetrics } = await reader.collect();
const recorded = resourceMetrics.scopeMetrics.flatMap((s) =>
  s.metrics.map((m) => s.scope.name + ' ' + m.descriptor.name + ' ' + m.dataPoints.length));
console.log(JSON.stringify({ beforeTracing, after: globalThis.resolutions, spans, spansBefore, recordedBefore, recorded }));`;

  it.each([
    [
      'ESM',
      'otel.mjs',
      `import { metrics, trace } from '@opentelemetry/api';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import { createChatDashClient } from 'chatdash-client';
import { makeConversation, startMockChatDash } from 'chatdash-client/testing';
${calls}`,
    ],
    [
      'CommonJS',
      'otel.cjs',
      `const { metrics, trace } = require('@opentelemetry/api');
const { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } = require('@opentelemetry/sdk-trace-base');
const { MeterProvider, MetricReader } = require('@opentelemetry/sdk-metrics');
const { createChatDashClient } = require('chatdash-client');
const { makeConversation, startMockChatDash } = require('chatdash-client/testing');
(async () => {${calls}})();`,
    ],
  ])(
    'loads it in %s only for a client with tracing or metrics on, records metrics and makes spans',
    async (_, file, code) => {
      const { beforeTracing, after, spans, spansBefore, recordedBefore, recorded } =
        (await consumer(file, code)) as {
          beforeTracing: Resolution[];
          after: Resolution[];
          spans: string[];
          spansBefore: number;
          recordedBefore: number;
          recorded: string[];
        };
      expect(recordedBefore).toBe(0);
      expect(spansBefore).toBe(0); // the metrics-only client made no span
      // Both clients with metrics on recorded into the same series (one attribute set each).
      expect(recorded).toEqual(
        expect.arrayContaining([
          'chatdash-client http.client.request.duration 1',
          'chatdash-client chatdash.client.call.duration 1',
        ]),
      );
      expect(beforeTracing.filter(fromPackage).map((r) => r.specifier)).not.toContain(
        '@opentelemetry/api',
      );
      expect(after.filter(fromPackage)).toContainEqual({
        specifier: '@opentelemetry/api',
        parent: expect.stringContaining('/node_modules/chatdash-client/dist/'),
        url: expect.stringContaining('/node_modules/@opentelemetry/api/'),
      });
      expect(spans).toEqual([
        'GET /agents/{agentId}/conversations/{conversationId}',
        'chatdash.getConversation',
      ]);
    },
  );
});
