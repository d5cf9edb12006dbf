/**
 * The shapes the call path records metrics through, apart from both the hook
 * (metrics.ts) and the lazy chunk (metrics-instruments.ts), so that the chunk
 * and the hook that loads it do not import each other.
 */
import type { Attempt, DelaySource } from '../types.js';

/**
 * A scope's state as its gauges show it, read without changing anything:
 * what a coordinator's `Scope.state()` answers.
 */
export interface ScopeState {
  /** Open, or half-open with its probe not back yet. */
  circuitOpen: boolean;
  /** Milliseconds left of the pause; 0 when there is none. */
  pausedMs: number;
  /** Attempts per second the scope may send now; undefined without `rateLimit`. */
  rate: number | undefined;
  /** Tokens in the retry budget; undefined without one. */
  budget: number | undefined;
  /** Whether sharing through Redis works now; undefined for the memory coordinator. */
  shared: boolean | undefined;
}

/** What the gauges read: a coordinator's scope. */
export interface WatchedScope {
  state?(): ScopeState | undefined;
}

/** What `sending` reads of a call: the attempts so far, and how long attempt 1 was held, and why. */
export interface Sending {
  readonly attempts: readonly Attempt[];
  readonly heldMs: number;
  readonly heldSource: DelaySource | undefined;
}

/** Records one call: its attempts, the waits before them, and the call itself. */
export interface Recorder {
  /** An attempt is about to be sent: a retry, and the wait before it, are recorded now. */
  sending(call: Sending): void;
  /** An attempt ended: its status when it had an answer, `error.type` as on its span. */
  attempt(ms: number, status: number | undefined, errorType: string | undefined): void;
  /** The call settled, with the error it rejected with, if any; `started`: its `performance.now()`. */
  call(started: number, error: Error | undefined): void;
}

/** One client's metrics, once loaded. */
export interface ClientMetrics {
  /** This client's recorder for one call, or `undefined` when no provider records it. */
  forCall(): Recorder | undefined;
}
