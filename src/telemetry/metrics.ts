/**
 * What every client loads of the OpenTelemetry metrics: the types the call
 * path records through, and the loader of the machinery itself
 * (metrics-instruments.ts). That is a chunk of its own, imported only once
 * `@opentelemetry/api` has been found, so an app without the API, or a client
 * with `metrics: false`, neither loads it nor carries it in its bundle.
 */
import { ENDPOINT } from '../endpoint.js';
import { VERSION } from '../version.js';
import type { ClientMetrics, WatchedScope } from './metrics-types.js';
import { loadOpenTelemetry, openTelemetry } from './otel.js';

export type {
  ClientMetrics,
  Recorder,
  ScopeState,
  Sending,
  WatchedScope,
} from './metrics-types.js';

/**
 * Loads the API and, when it is installed, the metrics chunk, then makes a
 * client's metrics (its gauges report from then on). Resolves to `undefined`
 * without the API; never rejects, as metrics must never break a client. The
 * chunk is handed the API and the two constants it needs: it imports nothing
 * at run time that the main entry loads too, as a module shared by both would
 * be split into a chunk of its own in an app's bundle, loaded by every app.
 */
export function loadMetrics(
  baseUrl: string,
  scope: WatchedScope,
  apiKey: string,
): Promise<ClientMetrics | undefined> {
  return loadOpenTelemetry()
    .then(() => {
      const api = openTelemetry();
      return api
        ? import('./metrics-instruments.js').then(
            (chunk) => new chunk.Metrics(api, [ENDPOINT, VERSION], baseUrl, scope, apiKey),
          )
        : undefined;
    })
    .catch(() => undefined);
}
