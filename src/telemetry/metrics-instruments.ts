/**
 * OpenTelemetry metrics for whoever runs the fleet: how long attempts, calls
 * and the waits before attempts take, how often calls retry and why, and each
 * scope's shared state as observable gauges (the circuit, the pause, the send
 * rate, the retry budget, whether Redis sharing works).
 *
 * Recorded through the meter `chatdash-client` of the registered
 * `MeterProvider`, only when a provider other than the API's no-op one is
 * registered. This file is a lazy chunk: `metrics.ts` imports it only once
 * `@opentelemetry/api` has loaded, so it may take the API as given.
 * Instruments are made once per provider; attribute objects once per client.
 * Nothing here may break a call: every instrument is called inside a `try`.
 */
import type {
  Attributes,
  BatchObservableResult,
  Counter,
  Histogram,
  MeterProvider,
  Observable,
} from '@opentelemetry/api';
import type { DelaySource } from '../types.js';
import type {
  ClientMetrics,
  Recorder,
  ScopeState,
  Sending,
  WatchedScope,
} from './metrics-types.js';
import type { Api } from './otel-api.js';

/** OpenTelemetry's advice for `http.client.request.duration`, in seconds; used for every duration here. */
const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];
/** At most this many distinct attribute sets are kept per client (statuses, error classes). */
const MAX_CACHED = 64;

interface Instruments {
  attempt: Histogram;
  call: Histogram;
  wait: Histogram;
  retries: Counter;
}

/** The instruments of each provider seen (`undefined` for a no-op one); the last one at hand. */
const byProvider = new WeakMap<MeterProvider, Instruments | undefined>();
let last: { provider: MeterProvider; instruments: Instruments | undefined } | undefined;

function instruments(api: Api, version: string): Instruments | undefined {
  const provider = api.metrics.getMeterProvider();
  if (last?.provider === provider) return last.instruments;
  let made = byProvider.get(provider);
  if (!byProvider.has(provider)) {
    try {
      made = create(api, provider, version);
    } catch {
      made = undefined; // a provider that throws records nothing, and breaks nothing
    }
    byProvider.set(provider, made);
  }
  last = { provider, instruments: made };
  return made;
}

function create(api: Api, provider: MeterProvider, version: string): Instruments | undefined {
  const meter = provider.getMeter('chatdash-client', version);
  if (meter === api.createNoopMeter()) return undefined;
  const seconds = (description: string) => ({
    description,
    unit: 's',
    advice: { explicitBucketBoundaries: BUCKETS },
  });
  const gauges = {
    circuit: meter.createObservableGauge('chatdash.circuit.open', {
      description: 'Whether the scope’s circuit is open (1) or closed (0).',
    }),
    pause: meter.createObservableGauge('chatdash.pause.remaining', {
      description: 'Seconds left of the scope’s rate-limit pause; 0 when not paused.',
      unit: 's',
    }),
    rate: meter.createObservableGauge('chatdash.rate_limit.rate', {
      description: 'The send rate the scope may use now (rateLimit, adaptive or not).',
      unit: '{request}/s',
    }),
    budget: meter.createObservableGauge('chatdash.retry_budget.available', {
      description: 'Tokens left in the scope’s retry budget.',
      unit: '{token}',
    }),
    shared: meter.createObservableGauge('chatdash.coordinator.shared', {
      description:
        'Whether sharing through Redis works (1) or the scope falls back to its own state (0).',
    }),
  };
  meter.addBatchObservableCallback(
    (result) => observeScopes(result, gauges),
    Object.values(gauges) as Observable[],
  );
  return {
    attempt: meter.createHistogram(
      'http.client.request.duration',
      seconds('Duration of HTTP client requests.'),
    ),
    call: meter.createHistogram(
      'chatdash.client.call.duration',
      seconds('Duration of a call, from the call to its settling: every attempt and wait.'),
    ),
    wait: meter.createHistogram(
      'chatdash.client.wait.duration',
      seconds('A wait before an attempt: a retry’s delay, a pause, a send slot.'),
    ),
    retries: meter.createCounter('chatdash.client.retries', {
      description: 'Retries sent.',
      unit: '{retry}',
    }),
  };
}

const bySource = Object.fromEntries(
  (['retry-after-ms', 'retry-after', 'backoff', 'rate-limit', 'throttle'] as const).map((s) => [
    s,
    Object.freeze({ 'chatdash.delay_source': s }),
  ]),
) as unknown as Record<DelaySource, Attributes>;

/**
 * One client's metrics: its attribute objects, made once, and its scope's
 * entry for the gauges. `forCall()` is asked at the start of each call.
 */
export class Metrics implements ClientMetrics, Recorder {
  readonly #attempt: Attributes;
  readonly #call: Attributes;
  readonly #ok = new Map<number, Attributes>();
  readonly #failed = new Map<string, Attributes>();
  readonly #calls = new Map<string, Attributes>();
  readonly #api: Api;
  readonly #version: string;
  #instruments: Instruments | undefined;

  /** `template` and `version`: the endpoint's URL template and this package's version. */
  constructor(
    api: Api,
    [template, version]: readonly [string, string],
    baseUrl: string,
    scope: WatchedScope,
    apiKey: string,
  ) {
    this.#api = api;
    this.#version = version;
    const url = new URL(baseUrl);
    const address = url.hostname.replace(/^\[|\]$/g, '');
    this.#call = Object.freeze({ 'server.address': address });
    this.#attempt = Object.freeze({
      'http.request.method': 'GET',
      'server.address': address,
      'server.port': Number(url.port) || (url.protocol === 'https:' ? 443 : 80),
      'url.template': template,
    });
    watchScope(scope, url.origin, apiKey, address);
    // The gauges report from the client's creation (this chunk loads with it), not from its first call.
    this.forCall();
  }

  forCall(): Recorder | undefined {
    this.#instruments = instruments(this.#api, this.#version);
    return this.#instruments ? this : undefined;
  }

  sending(call: Sending): void {
    const set = this.#instruments;
    if (!set) return;
    const previous = call.attempts.at(-1);
    const heldMs = call.heldMs;
    const source = previous ? previous.delaySource : call.heldSource;
    if (source === undefined) return;
    try {
      if (previous) set.retries.add(1, bySource[source]);
      set.wait.record((previous ? (previous.delayMs ?? 0) : heldMs) / 1000, bySource[source]);
    } catch {
      // an instrument that throws costs the metric, never the call
    }
  }

  attempt(ms: number, status: number | undefined, errorType: string | undefined): void {
    const set = this.#instruments;
    if (!set) return;
    try {
      set.attempt.record(ms / 1000, this.#attemptAttributes(status, errorType));
    } catch {
      // as above
    }
  }

  call(started: number, error: Error | undefined): void {
    const set = this.#instruments;
    if (!set) return;
    try {
      set.call.record(
        (performance.now() - started) / 1000,
        error ? this.#callAttributes(error.name) : this.#call,
      );
    } catch {
      // as above
    }
  }

  #attemptAttributes(status: number | undefined, errorType: string | undefined): Attributes {
    if (errorType === undefined && status !== undefined) {
      return cached(this.#ok, status, () => ({
        ...this.#attempt,
        'http.response.status_code': status,
      }));
    }
    return cached(this.#failed, `${status} ${errorType}`, () => ({
      ...this.#attempt,
      ...(status === undefined ? {} : { 'http.response.status_code': status }),
      'error.type': errorType ?? '_OTHER',
    }));
  }

  #callAttributes(name: string): Attributes {
    return cached(this.#calls, name, () => ({ ...this.#call, 'error.type': name }));
  }
}

function cached<K>(map: Map<K, Attributes>, key: K, make: () => Attributes): Attributes {
  let found = map.get(key);
  if (found) return found;
  found = Object.freeze(make());
  if (map.size < MAX_CACHED) map.set(key, found);
  return found;
}

/** A scope the gauges report on: held weakly, so no gauge keeps a client alive. */
interface Watched {
  scope: WeakRef<WatchedScope>;
  attributes: Attributes;
  /** The same scope, for telling two clients of one scope apart from two scopes. */
  label: string;
}

const watched = new Set<Watched>();
const forget = new FinalizationRegistry<Watched>((entry) => watched.delete(entry));

/**
 * Adds a client's scope to the gauges, labelled with the first 12 hex
 * characters of SHA-256(origin, key), as the Redis coordinator names the
 * scope. Node's crypto through `getBuiltinModule` (no import of a Node module
 * in the main entry), so the label is there before the first call; Web Crypto,
 * a moment later, where that is missing.
 */
function watchScope(scope: WatchedScope, origin: string, apiKey: string, address: string): void {
  if (!scope.state) return;
  const ref = new WeakRef(scope);
  const add = (id: string) => {
    const held = ref.deref();
    if (!held) return;
    const entry: Watched = {
      scope: ref,
      attributes: Object.freeze({ 'server.address': address, 'chatdash.scope': id }),
      label: `${address} ${id}`,
    };
    watched.add(entry);
    forget.register(held, entry);
  };
  const text = `${origin}\n${apiKey}`;
  const node = (globalThis as { process?: NodeLike }).process?.getBuiltinModule?.('node:crypto');
  if (node) return add(node.createHash('sha256').update(text).digest('hex').slice(0, 12));
  globalThis.crypto?.subtle?.digest('SHA-256', new TextEncoder().encode(text)).then(
    (digest) =>
      add([...new Uint8Array(digest, 0, 6)].map((b) => b.toString(16).padStart(2, '0')).join('')),
    () => {},
  );
}

interface NodeLike {
  getBuiltinModule?(id: 'node:crypto'): {
    createHash(algorithm: string): {
      update(text: string): { digest(encoding: 'hex'): string };
    };
  };
}

interface Gauges {
  circuit: Observable;
  pause: Observable;
  rate: Observable;
  budget: Observable;
  shared: Observable;
}

function observeScopes(result: BatchObservableResult, gauges: Gauges): void {
  const seen = new Set<string>();
  for (const entry of watched) {
    let state: ScopeState | undefined;
    try {
      const scope = entry.scope.deref();
      state = scope?.state?.();
      if (!scope) watched.delete(entry);
    } catch {
      state = undefined;
    }
    // Several clients of one scope: reported once.
    if (!state || seen.has(entry.label)) continue;
    seen.add(entry.label);
    const { attributes } = entry;
    result.observe(gauges.circuit, state.circuitOpen ? 1 : 0, attributes);
    result.observe(gauges.pause, state.pausedMs / 1000, attributes);
    if (state.rate !== undefined) result.observe(gauges.rate, state.rate, attributes);
    if (state.budget !== undefined) result.observe(gauges.budget, state.budget, attributes);
    if (state.shared !== undefined) result.observe(gauges.shared, state.shared ? 1 : 0, attributes);
  }
}
