/**
 * `@opentelemetry/api` is an optional peer dependency: this file loads it, and
 * no other file does, once per process and only for a client with `tracing`
 * or `metrics` on. Without it nothing is loaded and nothing costs.
 */
import type * as OpenTelemetry from '@opentelemetry/api';

export type Api = typeof OpenTelemetry;

/** `null`: looked for and not installed. */
let api: Api | null | undefined;
let loading: Promise<void> | undefined;

/** Starts loading the API once per process; the same promise after, settled once it was tried. */
export function loadOpenTelemetry(): Promise<void> {
  return (loading ??= import('@opentelemetry/api').then(
    (module: unknown) => {
      // A CommonJS build of the API can arrive as `default` through import().
      const found = module as Partial<Api> & { default?: Partial<Api> };
      api = (found.trace ? found : found.default?.trace ? found.default : null) as Api | null;
    },
    () => {
      api = null;
    },
  ));
}

/** The API once loaded; `null` when not installed, `undefined` before it was looked for. */
export function openTelemetry(): Api | null | undefined {
  return api;
}
