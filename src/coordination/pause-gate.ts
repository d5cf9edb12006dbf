/**
 * The shared pause: when the server says "wait" (a 429 or 503 with
 * `retry-after-ms` / `Retry-After` within 0-60 s), every attempt of every call
 * of the scope waits until then, new calls included, instead of each call
 * finding out on its own (octokit/plugin-throttling.js#629 asks for exactly this).
 */
import { monotonic } from './clock.js';

export class PauseGate {
  #until = 0;

  /** Holds every attempt for `ms` from now (a later moment wins). Returns true when this extended the pause. */
  pause(ms: number, now = monotonic.now()): boolean {
    // A zero wait holds nothing: without this check every `retry-after-ms: 0` (what
    // the testing mock's failNext sends) would log a "holding for 0 ms" warning.
    if (ms <= 0 || now + ms <= this.#until) return false;
    this.#until = now + ms;
    return true;
  }

  /** How long an attempt starting now must wait; 0 when there is no pause. */
  remaining(now = monotonic.now()): number {
    return this.#until > now ? this.#until - now : 0;
  }
}
