/**
 * The send rate of a scope: a GCRA (generic cell rate algorithm, the virtual
 * scheduling form), which hands each attempt the moment it may be sent
 * instead of rejecting it. With `adaptive`, the rate learns the upstream's
 * limit: a 429 halves it (at most once a second: a burst of 429s is one
 * signal), and each second without one adds a twentieth of `perSecond` back.
 * Pure: it takes the time from its caller, so a test or a simulation drives it.
 */
import type { RateNumbers } from './coordinator.js';

/** How long a halving holds before the rate may climb again, and the step of the climb. */
export const ADAPTIVE_WINDOW_MS = 1_000;
export const ADAPTIVE_STEPS = 20;
export const MIN_RATE = 1;

export class RateLimiter {
  readonly #numbers: RateNumbers;
  #rate: number;
  /** The theoretical arrival time of the next attempt. */
  #tat = 0;
  #lastHalved = -Infinity;
  #lastRaised = 0;
  /**
   * Bumped when the rate drops. A slot handed out under an older generation
   * is dropped: whoever holds it (an attempt waiting for it, or a process's
   * batch of slots) takes a new one at the new rate.
   */
  generation = 0;

  constructor(numbers: RateNumbers, now: number) {
    this.#numbers = numbers;
    this.#rate = numbers.perSecond;
    this.#lastRaised = now;
  }

  /** Attempts per second the scope may send now. */
  get rate(): number {
    return this.#rate;
  }

  /** The rate at `now`, with the climb since the last halving, changing nothing (for metrics). */
  rateAt(now: number): number {
    if (!this.#numbers.adaptive || this.#rate >= this.#numbers.perSecond) return this.#rate;
    const seconds = Math.max(0, Math.floor((now - this.#lastRaised) / ADAPTIVE_WINDOW_MS));
    const step = this.#numbers.perSecond / ADAPTIVE_STEPS;
    return Math.min(this.#numbers.perSecond, this.#rate + seconds * step);
  }

  /** Reserves `count` consecutive slots; the wait (ms) until the first of them. */
  take(now: number, count = 1): number {
    this.#climb(now);
    const interval = 1_000 / this.#rate;
    const tat = Math.max(this.#tat, now);
    const first = Math.max(tat - this.#tolerance(interval), now);
    this.#tat = tat + count * interval;
    return first - now;
  }

  /**
   * The upstream said 429. True when this halved the rate. A 429 within a
   * second of the last halving is the same signal (the answers to what was
   * sent at the old rate), but it still starts the quiet second over.
   */
  halve(now: number): boolean {
    if (!this.#numbers.adaptive) return false;
    this.#climb(now);
    this.#lastRaised = now;
    if (now - this.#lastHalved < ADAPTIVE_WINDOW_MS) return false;
    this.#lastHalved = now;
    // Never below 1/s, nor above a perSecond set lower than that.
    this.#rate = Math.max(Math.min(MIN_RATE, this.#numbers.perSecond), this.#rate / 2);
    // Slots handed out at the old rate are dropped (their holders take new
    // ones, see `generation`), and the scope was just told it sends too fast:
    // no burst now, the next slot is one interval at the new rate away.
    const interval = 1_000 / this.#rate;
    this.#tat = now + interval + this.#tolerance(interval);
    this.generation++;
    return true;
  }

  #climb(now: number): void {
    if (!this.#numbers.adaptive || this.#rate >= this.#numbers.perSecond) return;
    const seconds = Math.floor((now - this.#lastRaised) / ADAPTIVE_WINDOW_MS);
    if (seconds <= 0) return;
    this.#lastRaised += seconds * ADAPTIVE_WINDOW_MS;
    const step = this.#numbers.perSecond / ADAPTIVE_STEPS;
    this.#rate = Math.min(this.#numbers.perSecond, this.#rate + seconds * step);
  }

  /** How far ahead of its schedule the scope may send: the burst, which follows the current rate. */
  #tolerance(interval: number): number {
    const burst = Math.max(1, (this.#numbers.burst * this.#rate) / this.#numbers.perSecond);
    return (burst - 1) * interval;
  }
}
