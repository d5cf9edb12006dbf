/**
 * Issue 11's rows for `npm run bench`: what logging and tracing cost a call.
 * Kept apart from run.ts, which only spreads `rows` into its clients and runs
 * `during(name)` around each measurement.
 *
 * - without: `logLevel: 'off'`, `tracing: false` (the baseline);
 * - warn, API, no provider: the defaults, with `@opentelemetry/api` installed
 *   and nothing registered (a service that has not set up OpenTelemetry);
 * - no-op exporter: what the Node SDK registers (a provider with a batch
 *   processor, the W3C propagator, the AsyncLocalStorage context manager),
 *   exporting nowhere. Registration is process-wide, so it holds only while
 *   its own row runs.
 */
import { context, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { ExportResultCode, W3CTraceContextPropagator } from '@opentelemetry/core';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { createChatDashClient } from '../src/index.js';
import { loadOpenTelemetry as loadTracing, startCall } from '../src/telemetry/otel.js';

export const WITHOUT = 'chatdash-client, logging off, tracing: false';
export const NO_PROVIDER = 'chatdash-client, logging at warn, tracing API but no provider';
export const NO_OP_EXPORTER = 'chatdash-client, a provider with a no-op exporter';

export function observabilityRows(
  apiKey: string,
  baseUrl: string,
  params: { agentId: string; conversationId: string },
): Record<string, () => Promise<unknown>> {
  const without = createChatDashClient({ apiKey, baseUrl, logLevel: 'off', tracing: false });
  const warn = createChatDashClient({ apiKey, baseUrl, logLevel: 'warn', tracing: true });
  const exported = createChatDashClient({ apiKey, baseUrl, logLevel: 'warn', tracing: true });
  return {
    [WITHOUT]: () => without.getConversation(params),
    [NO_PROVIDER]: () => warn.getConversation(params),
    [NO_OP_EXPORTER]: () => exported.getConversation(params),
  };
}

const provider = new BasicTracerProvider({
  spanProcessors: [
    new BatchSpanProcessor({
      export: (_spans, done) => done({ code: ExportResultCode.SUCCESS }),
      shutdown: async () => {},
    }),
  ],
});

/** Registers what a row needs for as long as it runs; returns the undo. */
export function during(name: string): () => void {
  if (name !== NO_OP_EXPORTER) return () => {};
  trace.setGlobalTracerProvider(provider);
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  return () => {
    trace.disable();
    propagation.disable();
    context.disable();
  };
}

/**
 * The extra CPU per request of each row over the baseline (the median of
 * per-round ratios), then the same question at a finer grain: on a shared
 * machine whole rounds differ by more than 2 %, so the one thing the
 * no-provider row adds on a successful call (logging at warn writes nothing
 * then) is timed on its own: the tracing path with the API loaded and no provider.
 */
export async function observabilityCost(
  runs: Record<string, { cpuUs: number }[]>,
  median: (values: number[]) => number,
): Promise<string> {
  const base = runs[WITHOUT] ?? [];
  const lines = [NO_PROVIDER, NO_OP_EXPORTER].map((name) => {
    const ratio = median((runs[name] ?? []).map((r, i) => r.cpuUs / base[i]!.cpuUs));
    return `- ${name}: ${ratio >= 1 ? '+' : ''}${((ratio - 1) * 100).toFixed(1)} % CPU per request vs "${WITHOUT}"`;
  });
  const baseUs = median(base.map((r) => r.cpuUs));
  const pathUs = await noProviderPathUs();
  lines.push(
    `- the no-provider tracing path alone (loadTracing, startCall, one attempt span, both ends): ` +
      `${pathUs.toFixed(2)} µs per call, ${((pathUs / baseUs) * 100).toFixed(2)} % of "${WITHOUT}"'s ${baseUs.toFixed(0)} µs`,
  );
  return lines.join('\n');
}

/** CPU µs per call of what a tracing client does per call when no provider is registered. */
async function noProviderPathUs(calls = 200_000): Promise<number> {
  await loadTracing();
  const url = 'http://127.0.0.1:1/agents/agent_1/conversations/conv_1';
  const run = () => {
    for (let i = 0; i < calls; i++) {
      void loadTracing();
      const call = startCall(url);
      call?.attempt(1, { accept: 'application/json' }).end(200, undefined);
      call?.end(undefined);
    }
  };
  run(); // warm-up
  const cpu = process.cpuUsage();
  run();
  const used = process.cpuUsage(cpu);
  return (used.user + used.system) / calls;
}
