/**
 * OpenTelemetry spans, following the stable HTTP client semantic conventions:
 * one INTERNAL span per call, one CLIENT span per attempt, and the active
 * context's `traceparent` on each request. A lazy chunk: `otel.ts` imports it
 * only once `@opentelemetry/api` has loaded, and hands it the API and the two
 * constants it needs, so that it imports nothing at run time that the main
 * entry loads too (a module shared by both would be split into a chunk of its
 * own in an app's bundle, loaded by every app). Without the API, or with
 * `tracing` off, no span is made and nothing costs.
 */
import type { Context, Span } from '@opentelemetry/api';
import type { Api } from './otel-api.js';

// SpanKind and SpanStatusCode values, so that no enum is read from a module that may be absent.
const INTERNAL = 0;
const CLIENT = 2;
const ERROR = 2;

export interface AttemptSpan {
  end(status: number | undefined, errorType: string | undefined): void;
}

export interface CallSpan {
  /** Starts attempt `n`'s CLIENT span and writes the trace context into `headers`. */
  attempt(n: number, headers: Record<string, string>): AttemptSpan;
  end(error: Error | undefined): void;
}

/**
 * For the loaded API: what starts a call's INTERNAL span, a child of the
 * caller's active span. `template` and `version`: the endpoint's URL template
 * and this package's version.
 */
export function callSpans(
  api: Api,
  template: string,
  version: string,
): (url: string) => CallSpan | undefined {
  const { trace, context, propagation } = api;
  return (url) => {
    // Note: asked for on every call, not cached: a ProxyTracer keeps the first real
    // tracer it finds, so a cached one would go on recording into a provider the
    // app has since disabled or replaced (and a fresh one costs an allocation).
    const tracer = trace.getTracer('chatdash-client', version);
    const active = context.active();
    const call = tracer.startSpan('chatdash.getConversation', { kind: INTERNAL }, active);
    if (!call.isRecording()) {
      // No provider (the common case in production without tracing): no spans to
      // make, only an upstream trace context to pass on, if there is one.
      if (!api.isSpanContextValid(call.spanContext())) return undefined;
      return {
        attempt(_, headers) {
          propagation.inject(active, headers);
          return NOTHING;
        },
        end() {},
      };
    }
    const callContext: Context = trace.setSpan(active, call);
    const target = new URL(url);
    const attributes = {
      'http.request.method': 'GET',
      'url.full': url,
      'url.template': template,
      'server.address': target.hostname.replace(/^\[|\]$/g, ''),
      'server.port': Number(target.port) || (target.protocol === 'https:' ? 443 : 80),
    };
    return {
      attempt(n, headers) {
        const span: Span = tracer.startSpan(
          `GET ${template}`,
          {
            kind: CLIENT,
            attributes: n > 1 ? { ...attributes, 'http.request.resend_count': n - 1 } : attributes,
          },
          callContext,
        );
        propagation.inject(trace.setSpan(callContext, span), headers);
        return {
          end(status, errorType) {
            if (status !== undefined) span.setAttribute('http.response.status_code', status);
            if (errorType !== undefined) {
              span.setAttribute('error.type', errorType);
              span.setStatus({ code: ERROR });
            }
            span.end();
          },
        };
      },
      end(error) {
        if (error) {
          call.setAttribute('error.type', error.name);
          call.setStatus({ code: ERROR, message: error.message });
        }
        call.end();
      },
    };
  };
}

const NOTHING: AttemptSpan = { end() {} };
