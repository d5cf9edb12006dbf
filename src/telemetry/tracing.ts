/**
 * OpenTelemetry spans, following the stable HTTP client semantic conventions:
 * one INTERNAL span per call, one CLIENT span per attempt, and the active
 * context's `traceparent` on each request. `@opentelemetry/api` is an optional
 * peer dependency, loaded by `otel.ts`; without it, or with `tracing` off,
 * no span is made and nothing costs.
 */
import { VERSION } from '../version.js';

import { ENDPOINT } from '../endpoint.js';
import type { Context, Span } from '@opentelemetry/api';
import { loadOpenTelemetry, openTelemetry } from './otel.js';

// SpanKind and SpanStatusCode values, so that no enum is read from a module that may be absent.
const INTERNAL = 0;
const CLIENT = 2;
const ERROR = 2;

/** Starts loading the API once per process; resolves at once when already tried. */
export const loadTracing = loadOpenTelemetry;

export interface AttemptSpan {
  end(status: number | undefined, errorType: string | undefined): void;
}

export interface CallSpan {
  /** Starts attempt `n`'s CLIENT span and writes the trace context into `headers`. */
  attempt(n: number, headers: Record<string, string>): AttemptSpan;
  end(error: Error | undefined): void;
}

/** The call's INTERNAL span, a child of the caller's active span; `undefined` without the API. */
export function startCall(url: string): CallSpan | undefined {
  const api = openTelemetry();
  if (!api) return undefined;
  const { trace, context, propagation } = api;
  // Note: asked for on every call, not cached: a ProxyTracer keeps the first real
  // tracer it finds, so a cached one would go on recording into a provider the
  // app has since disabled or replaced (and a fresh one costs an allocation).
  const tracer = trace.getTracer('chatdash-client', VERSION);
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
    'url.template': ENDPOINT,
    'server.address': target.hostname.replace(/^\[|\]$/g, ''),
    'server.port': Number(target.port) || (target.protocol === 'https:' ? 443 : 80),
  };
  return {
    attempt(n, headers) {
      const span: Span = tracer.startSpan(
        `GET ${ENDPOINT}`,
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
}

const NOTHING: AttemptSpan = { end() {} };
