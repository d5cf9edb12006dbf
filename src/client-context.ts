/**
 * What every call of one client shares, made from the client's settings: its
 * transport, headers, redactor, log, scope and clock. The one place it is
 * built: the client makes its own here, the policy tests' hand-made calls and
 * `npm run fleet:sim` make theirs here too, so none of them can drift.
 */
import { monotonic, type Clock } from './coordination/clock.js';
import { OPEN_SCOPE, type Scope, type ScopeConfig } from './coordination/coordinator.js';
import { MemoryCoordinator } from './coordination/memory.js';
import type { Resolved } from './options.js';
import type { ClientContext } from './pipeline.js';
import { Waits } from './policies/waits.js';
import { Redactor } from './redact.js';
import { Log } from './telemetry/log.js';
import { chooseTransport } from './transports/choose-transport.js';
import { VERSION } from './version.js';

export interface ContextParts {
  /** The clock every wait and deadline runs on; the process's monotonic clock by default. */
  clock?: Clock;
  /** The retry jitter's source; `Math.random` by default (fleet:sim brings a seeded one). */
  random?: () => number;
  /** Opens the scope another way than from `settings.coordinator` (fleet:sim's simulated fleet). */
  openScope?: (config: ScopeConfig) => Scope;
}

/** A client's context, with the deadline and the waits of its calls on its clock. */
export interface ClientSetup extends ClientContext {
  readonly waits: Waits;
}

export function clientContext(settings: Resolved, parts: ContextParts = {}): ClientSetup {
  const clock = parts.clock ?? monotonic;
  const redactor = new Redactor(settings.apiKey);
  const log = new Log(settings.logLevel, settings.logger, redactor);
  const config: ScopeConfig = {
    budget: settings.retryBudget,
    rateLimit: settings.rateLimit,
    circuitBreaker: settings.circuitBreaker,
    log,
    logger: settings.logger,
  };
  const coordinator = settings.coordinator ?? new MemoryCoordinator(clock);
  const scope = parts.openScope
    ? parts.openScope(config)
    : coordinator[OPEN_SCOPE](new URL(settings.baseUrl).origin, settings.apiKey, config);
  return {
    transport: chooseTransport(settings.fetch, settings.middleware),
    // One plain object, copied per attempt: Node's fetch validates it once per call,
    // where openapi-fetch's header merging builds and validates a Headers object first.
    headers: {
      Accept: 'application/json',
      'User-Agent': USER_AGENT,
      ...settings.headers,
      Authorization: settings.apiKey,
    },
    redactor,
    log,
    scope,
    clock,
    waits: new Waits(clock, redactor),
    random: parts.random ?? (() => Math.random()),
    validate: settings.validate,
    onValidationIssue: settings.onValidationIssue,
    middleware: settings.middleware,
    tracing: settings.tracing,
  };
}

const USER_AGENT = `chatdash-client/${VERSION}${
  typeof process === 'object' && process.versions?.node ? ` node/${process.versions.node}` : ''
}`;
