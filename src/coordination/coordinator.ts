/**
 * The coordinator: where the state that calls share lives (the rate-limit
 * pause, the retry budget, the send rate and the circuit). Policies read and
 * write that state only through a `Scope`, so the in-process engine and the
 * Redis engine are one interface with two implementations, and a new policy
 * adds a method here, not a branch in the call loop.
 *
 * A scope is what the upstream limits: one origin and one key. Clients on the
 * same coordinator with the same origin and key share one scope.
 */
import type { BudgetNumbers } from './budget.js';
import type { Coordinator } from '../types.js';

/** `rateLimit`, filled in. */
export interface RateNumbers {
  perSecond: number;
  burst: number;
  adaptive: boolean;
}

/** `circuitBreaker`, filled in. */
export interface BreakerNumbers {
  failureThreshold: number;
  openMs: number;
}

/** Where a coordinator tells the operator that sharing was lost or is back. */
export interface ScopeLog {
  /** False when the client's `logLevel` drops the level's lines. */
  readonly warnOn?: boolean;
  readonly infoOn?: boolean;
  warn(message: string, fields: Record<string, unknown>): void;
  info(message: string, fields: Record<string, unknown>): void;
}

/** What a client asks of its scope; each client brings its own numbers. */
export interface ScopeConfig {
  budget: BudgetNumbers | false;
  rateLimit: RateNumbers | false;
  circuitBreaker: BreakerNumbers | false;
  log: ScopeLog;
  /** The logger behind `log`: a line for many clients is written once per logger. */
  logger?: unknown;
}

/** The circuit's answer before an attempt. */
export type Admission =
  | { readonly open: false; readonly probe: boolean }
  | { readonly open: true; readonly retryAfterMs: number };

/** How an attempt ended, as the circuit counts it. */
export type AttemptResult = 'success' | 'failure' | 'neutral';

/**
 * One scope's shared state. Hot-path questions (`pausedFor`, `admit`, and
 * `takeSlot` while the process holds slots) answer from local state, so a call
 * in steady state costs no round trip whatever the engine.
 */
export interface Scope {
  /** Milliseconds until the scope's pause ends; 0 when there is none. */
  pausedFor(): number;
  /**
   * While a new shared scope reads the fleet's state for the first time (a
   * pause another process is holding): a promise that settles once it has,
   * or after the coordinator's `timeoutMs`. Undefined once read, and always
   * for an in-process scope.
   */
  reading?(): Promise<void> | undefined;
  /** Pauses the whole scope for `ms`; true when this extended the pause. */
  pause(ms: number): boolean;
  /** Pays for one retry; false (nothing taken) when the budget cannot. */
  payRetry(afterTimeout: boolean): boolean | Promise<boolean>;
  /** A call succeeded: the budget gets its refund. */
  refund(): void;
  /** A retry paid for was refused by the open circuit, unsent: what it paid goes back. */
  unpay(afterTimeout: boolean): void;
  /** Tokens left in the budget, as this process last knew it (for logs). */
  budgetTokens(): number;
  /** Milliseconds to wait for a send slot (0: send now). Only with `rateLimit`. */
  takeSlot(): number | Promise<number>;
  /**
   * Bumped each time the rate drops. An attempt that waited for a slot while
   * it changed waited for a slot of the old rate, and takes a new one: slots
   * handed out at the old rate are dropped, not sent on top of the new rate.
   */
  rateGeneration(): number;
  /** The upstream answered 429: an adaptive rate halves. */
  rateLimited(): void;
  /**
   * Whether an attempt may be sent. Only with `circuitBreaker`. A promise only
   * when a shared circuit must ask who sends the probe; an open circuit
   * answers at once.
   */
  admit(): Admission | Promise<Admission>;
  /** How an admitted attempt ended; `probe` as `admit` said. */
  report(result: AttemptResult, probe: boolean): void;
}

/** Clients call this through a global symbol, so a coordinator made by the ESM copy of the package serves a client of the CJS copy. */
export const OPEN_SCOPE = Symbol.for('chatdash-client.coordinator.open-scope');

/** What every coordinator is, besides the public `close()`. */
export interface CoordinatorEngine extends Coordinator {
  [OPEN_SCOPE](origin: string, apiKey: string, config: ScopeConfig): Scope;
}

export function isEngine(value: unknown): value is CoordinatorEngine {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as Partial<CoordinatorEngine>)[OPEN_SCOPE] === 'function'
  );
}
