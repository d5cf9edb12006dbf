/**
 * The type of `@opentelemetry/api`, on its own: otel.ts loads the API and the
 * lazy chunks (tracing.ts, metrics-instruments.ts) use it, so they need not
 * import the file that loads them.
 */
import type * as OpenTelemetry from '@opentelemetry/api';

export type Api = typeof OpenTelemetry;
