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

export class SendRate {
  readonly #numbers: RateNumbers;
  #rate: number;
  /** The theoretical arrival time of the next attempt. */
  #tat = 0;
  #lastHalved = -Infinity;
  #lastRaised = 0;
  /** Bumped when the rate drops: slots handed out at the old rate are dropped. */
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

  /** Reserves `count` consecutive slots; the wait (ms) until the first of them. */
  take(now: number, count = 1): number {
    this.#climb(now);
    const interval = 1_000 / this.#rate;
    const burst = this.#burst();
    const tolerance = (burst - 1) * interval;
    const tat = Math.max(this.#tat, now);
    const first = Math.max(tat - tolerance, now);
    this.#tat = tat + count * interval;
    return first - now;
  }

  /** The upstream said 429. True when this halved the rate. */
  halve(now: number): boolean {
    if (!this.#numbers.adaptive || now - this.#lastHalved < ADAPTIVE_WINDOW_MS) return false;
    this.#lastHalved = now;
    this.#lastRaised = now;
    this.#rate = Math.max(MIN_RATE, this.#rate / 2);
    // What was reserved at the old rate is not honoured: the next slot starts now.
    this.#tat = Math.min(this.#tat, now + 1_000 / this.#rate);
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

  /** The burst follows the current rate. */
  #burst(): number {
    return Math.max(1, (this.#numbers.burst * this.#rate) / this.#numbers.perSecond);
  }
}
