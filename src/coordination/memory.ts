/**
 * The in-process coordinator: the default, one per client unless the app
 * shares one between clients with `createMemoryCoordinator()`. Every decision
 * is local and synchronous.
 */
import { Breaker } from './breaker.js';
import { RetryBudget } from './budget.js';
import { monotonic, type Clock } from './clock.js';
import {
  OPEN_SCOPE,
  type Admission,
  type AttemptResult,
  type CoordinatorEngine,
  type Scope,
  type ScopeConfig,
} from './coordinator.js';
import { sameNumbers } from './options.js';
import { RateLimitGate } from './pause-gate.js';
import { SendRate } from './rate.js';
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
  readonly gate = new RateLimitGate();
  budget: RetryBudget | undefined;
  rate: SendRate | undefined;
  breaker: Breaker | undefined;
  readonly clock: Clock;
  #numbers: Pick<ScopeConfig, 'rateLimit' | 'circuitBreaker'> = {
    rateLimit: false,
    circuitBreaker: false,
  };

  constructor(clock: Clock) {
    this.clock = clock;
  }

  handle(config: ScopeConfig): LocalScope {
    this.#numbers = {
      rateLimit: sameNumbers('rateLimit', this.#numbers.rateLimit, config.rateLimit),
      circuitBreaker: sameNumbers(
        'circuitBreaker',
        this.#numbers.circuitBreaker,
        config.circuitBreaker,
      ),
    };
    if (config.budget) this.budget ??= new RetryBudget(config.budget);
    if (config.rateLimit) this.rate ??= new SendRate(config.rateLimit, this.clock());
    if (config.circuitBreaker) this.breaker ??= new Breaker(config.circuitBreaker);
    return new LocalScope(this, config);
  }
}

const CLOSED: Admission = Object.freeze({ open: false, probe: false });

/** A client's view of a memory scope: every answer local and synchronous. */
export class LocalScope implements Scope {
  readonly #state: MemoryScope;
  readonly #config: ScopeConfig;

  constructor(state: MemoryScope, config: ScopeConfig) {
    this.#state = state;
    this.#config = config;
  }

  pausedFor(): number {
    return this.#state.gate.remaining(this.#state.clock());
  }

  pause(ms: number): boolean {
    return this.#state.gate.pause(ms, this.#state.clock());
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

  takeSlot(): number {
    return this.#config.rateLimit ? this.#state.rate!.take(this.#state.clock()) : 0;
  }

  rateGeneration(): number {
    return this.#state.rate?.generation ?? 0;
  }

  rateLimited(): void {
    if (this.#config.rateLimit) this.#state.rate!.halve(this.#state.clock());
  }

  admit(): Admission {
    return this.#config.circuitBreaker ? this.#state.breaker!.admit(this.#state.clock()) : CLOSED;
  }

  report(result: AttemptResult, probe: boolean): void {
    if (!this.#config.circuitBreaker) return;
    const change = this.#state.breaker!.report(result, probe, this.#state.clock());
    if (change === 'opened')
      this.#config.log.warn(
        `circuit opened: calls fail fast for ${this.#config.circuitBreaker.openMs} ms`,
        {
          openMs: this.#config.circuitBreaker.openMs,
        },
      );
    else if (change === 'closed')
      this.#config.log.info('circuit closed: calls go through again', {});
  }
}
