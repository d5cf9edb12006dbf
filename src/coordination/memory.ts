/**
 * The in-process coordinator: the default, one per client unless the app
 * shares one between clients with `createMemoryCoordinator()`. Every decision
 * is local and synchronous.
 */
import { Breaker, logCircuitChange } from './breaker.js';
import { RetryBudget } from './budget.js';
import { monotonic, type Clock } from './clock.js';
import {
  CLOSED,
  OPEN_SCOPE,
  type Admission,
  type AttemptResult,
  type CoordinatorEngine,
  type Scope,
  type ScopeConfig,
  type ScopeState,
} from './coordinator.js';
import { sameNumbers } from './options.js';
import { PauseGate } from './pause-gate.js';
import { RateLimiter } from './rate-limiter.js';
import type { Coordinator } from '../types.js';

/** Makes an in-process coordinator that several clients of one process can share. */
export function createMemoryCoordinator(): Coordinator {
  return new MemoryCoordinator(monotonic);
}

export class MemoryCoordinator implements CoordinatorEngine {
  // Keyed by origin, then by key: in memory, beside the clients that hold the key anyway.
  readonly #scopes = new Map<string, Map<string, MemoryScope>>();
  readonly #clock: Clock;

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  [OPEN_SCOPE](origin: string, apiKey: string, config: ScopeConfig): Scope {
    let byKey = this.#scopes.get(origin);
    if (!byKey) this.#scopes.set(origin, (byKey = new Map()));
    let scope = byKey.get(apiKey);
    if (!scope) byKey.set(apiKey, (scope = new MemoryScope(this.#clock)));
    return scope.handle(config);
  }

  close(): Promise<void> {
    for (const byKey of this.#scopes.values())
      for (const scope of byKey.values()) scope.closed = true;
    return Promise.resolve();
  }
}

/**
 * One scope's state. Each client gets a handle with its own numbers on the
 * same state; the first client to ask for a budget sets its numbers for the
 * scope. A rate and a circuit are one upstream's limit: a client that brings
 * other numbers for them than an earlier one is refused.
 */
export class MemoryScope {
  readonly gate = new PauseGate();
  budget: RetryBudget | undefined;
  rate: RateLimiter | undefined;
  breaker: Breaker | undefined;
  readonly clock: Clock;
  /** Its coordinator was closed: its metrics stop. */
  closed = false;
  #rateNumbers: ScopeConfig['rateLimit'] = false;
  #breakerNumbers: ScopeConfig['circuitBreaker'] = false;

  constructor(clock: Clock) {
    this.clock = clock;
  }

  handle(config: ScopeConfig): LocalScope {
    const rate = sameNumbers('rateLimit', this.#rateNumbers, config.rateLimit);
    this.#breakerNumbers = sameNumbers(
      'circuitBreaker',
      this.#breakerNumbers,
      config.circuitBreaker,
    );
    this.#rateNumbers = rate;
    if (config.budget) this.budget ??= new RetryBudget(config.budget);
    if (config.rateLimit) this.rate ??= new RateLimiter(config.rateLimit, this.clock.now());
    if (config.circuitBreaker) this.breaker ??= new Breaker(config.circuitBreaker);
    return new LocalScope(this, config);
  }
}

/** A client's view of a memory scope: every answer local and synchronous. */
export class LocalScope implements Scope {
  readonly #state: MemoryScope;
  readonly #config: ScopeConfig;

  constructor(state: MemoryScope, config: ScopeConfig) {
    this.#state = state;
    this.#config = config;
  }

  pausedFor(): number {
    return this.#state.gate.remaining(this.#state.clock.now());
  }

  pause(ms: number): boolean {
    return this.#state.gate.pause(ms, this.#state.clock.now());
  }

  payRetry(afterTimeout: boolean): boolean {
    return !this.#config.budget || this.#state.budget!.tryPay(afterTimeout);
  }

  refund(): void {
    if (this.#config.budget) this.#state.budget!.refill();
  }

  unpay(afterTimeout: boolean): void {
    if (this.#config.budget) this.#state.budget!.giveBack(afterTimeout);
  }

  budgetTokens(): number {
    return this.#state.budget?.tokens ?? Infinity;
  }

  rateLimitSlot(): number {
    return this.#config.rateLimit ? this.#state.rate!.take(this.#state.clock.now()) : 0;
  }

  rateLimitGeneration(): number {
    return this.#state.rate?.generation ?? 0;
  }

  tooManyRequests(): void {
    if (this.#config.rateLimit) this.#state.rate!.halve(this.#state.clock.now());
  }

  admit(): Admission {
    return this.#config.circuitBreaker
      ? this.#state.breaker!.admit(this.#state.clock.now())
      : CLOSED;
  }

  state(): ScopeState | undefined {
    const state = this.#state;
    if (state.closed) return undefined;
    const now = state.clock.now();
    return {
      circuitOpen: state.breaker?.isOpen ?? false,
      pausedMs: state.gate.remaining(now),
      rate: this.#config.rateLimit ? state.rate!.rateAt(now) : undefined,
      budget: this.#config.budget ? state.budget!.tokens : undefined,
      shared: undefined,
    };
  }

  report(result: AttemptResult, probe: boolean): void {
    if (!this.#config.circuitBreaker) return;
    const change = this.#state.breaker!.report(result, probe, this.#state.clock.now());
    logCircuitChange(this.#config.log, change, this.#config.circuitBreaker.openMs);
  }
}
