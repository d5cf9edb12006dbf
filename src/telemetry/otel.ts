/**
 * `@opentelemetry/api` is an optional peer dependency: this file loads it, and
 * no other file does, once per process and only for a client with `tracing`
 * or `metrics` on, and with it the spans' code (tracing.ts, a lazy chunk).
 * Without it neither is loaded and nothing costs.
 */
import { ENDPOINT } from '../endpoint.js';
import { VERSION } from '../version.js';
import type { Api } from './otel-api.js';
import type { CallSpan } from './tracing.js';

/** `null`: looked for and not installed. */
let api: Api | null | undefined;
let loading: Promise<void> | undefined;
let spans: ((url: string) => CallSpan | undefined) | undefined;

/** Starts loading the API once per process; the same promise after, settled once it was tried. */
export function loadOpenTelemetry(): Promise<void> {
  return (loading ??= import('@opentelemetry/api')
    .then(async (module: unknown) => {
      // A CommonJS build of the API can arrive as `default` through import().
      const found = module as Partial<Api> & { default?: Partial<Api> };
      const loaded = (
        found.trace ? found : found.default?.trace ? found.default : null
      ) as Api | null;
      api = loaded;
      if (loaded) spans = (await import('./tracing.js')).callSpans(loaded, ENDPOINT, VERSION);
    })
    .catch(() => {
      api ??= null;
    }));
}

/** The call's INTERNAL span, a child of the caller's active span; `undefined` without the API. */
export function startCall(url: string): CallSpan | undefined {
  return spans?.(url);
}

/** The API once loaded; `null` when not installed, `undefined` before it was looked for. */
export function openTelemetry(): Api | null | undefined {
  return api;
}
