/**
 * The circuit of a scope. `failureThreshold` consecutive failures open it:
 * attempts are refused without being sent for `openMs`; then exactly one
 * attempt goes through as a probe. The probe's success closes the circuit,
 * its failure opens it for another `openMs`. Pure: it takes the time from its
 * caller.
 */
import {
  CLOSED,
  PROBE,
  type Admission,
  type AttemptResult,
  type BreakerNumbers,
  type ScopeLog,
} from './coordinator.js';

export const DEFAULT_FAILURE_THRESHOLD = 20;
export const DEFAULT_OPEN_MS = 5_000;

export type BreakerChange = 'opened' | 'closed' | undefined;

/**
 * A circuit change, as the operator reads it: the one place it becomes a log
 * line, whichever engine (the memory scope, the shared circuit) made it.
 */
export function logCircuitChange(log: ScopeLog, change: BreakerChange, openMs: number): void {
  if (change === 'opened') log.warn(`circuit opened: calls fail fast for ${openMs} ms`, { openMs });
  else if (change === 'closed') log.info('circuit closed: calls go through again', {});
}

export class Breaker {
  readonly #numbers: BreakerNumbers;
  #failures = 0;
  /** When the open circuit lets a probe through; 0 while closed. */
  #openUntil = 0;
  #probing = false;

  constructor(numbers: BreakerNumbers) {
    this.#numbers = numbers;
  }

  get isOpen(): boolean {
    return this.#openUntil > 0;
  }

  admit(now: number): Admission {
    if (this.#openUntil === 0) return CLOSED;
    if (now < this.#openUntil) return { open: true, retryAfterMs: this.#openUntil - now };
    if (this.#probing) return { open: true, retryAfterMs: this.#numbers.openMs };
    this.#probing = true;
    return PROBE;
  }

  /** Counts an attempt's end; says when this opened or closed the circuit. */
  report(result: AttemptResult, probe: boolean, now: number): BreakerChange {
    if (probe) this.#probing = false;
    if (result === 'neutral') return undefined;
    if (result === 'success') {
      this.#failures = 0;
      if (this.#openUntil === 0) return undefined;
      this.#openUntil = 0;
      return 'closed';
    }
    this.#failures++;
    if (probe || (this.#openUntil === 0 && this.#failures >= this.#numbers.failureThreshold)) {
      const opened = this.#openUntil === 0;
      this.#openUntil = now + this.#numbers.openMs;
      return opened ? 'opened' : undefined;
    }
    return undefined;
  }

  /** Takes another engine's word for the state (a shared circuit's answer). */
  set(openUntil: number): void {
    this.#openUntil = openUntil;
    if (openUntil === 0) this.#failures = 0;
  }
}
