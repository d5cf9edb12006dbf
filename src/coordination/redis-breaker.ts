/**
 * `circuitBreaker` across the fleet. Consecutive failures are counted in
 * Redis; the script that reaches the threshold opens the circuit and
 * publishes it, so every process rejects locally at once, sending nothing.
 * After `openMs` exactly one attempt in the scope is let through as the probe
 * (SET NX on the wait key); its success closes the circuit everywhere, its
 * failure opens it for another `openMs`.
 *
 * A success costs nothing while the count is 0: a process sends the reset only
 * when it knows the count is not, which the failure script publishes when the
 * count leaves 0 (and the reset when it is back).
 */
import type { Admission, AttemptResult, BreakerNumbers } from './coordinator.js';
import type { LocalScope } from './memory.js';
import { numbers, oneNumber } from './redis-replies.js';
import { MAX_TTL_MS } from './redis-scripts.js';
import type { SharedScope } from './redis-scope.js';

const CLOSED: Admission = Object.freeze({ open: false, probe: false });
const PROBE: Admission = Object.freeze({ open: false, probe: true });
/** How long an open circuit's key outlives its wait when `openMs` is long. */
const PROBE_WINDOW_MS = 60_000;

export class SharedBreaker {
  readonly #scope: SharedScope;
  readonly #numbers: BreakerNumbers;
  /** The first client's local view: what decides while Redis is away. */
  readonly #fallback: LocalScope;
  /**
   * How long the circuit key lives: past the wait by enough for a probe to
   * come, and at least the 10 minutes every key gets, so an `openMs` longer
   * than that holds as it does in one process.
   */
  readonly #circuitTtl: number;
  #open = false;
  /** When a probe may go, on the local clock. */
  #openUntil = 0;
  /** The scope's count of failures is known not to be 0. */
  #counting = false;
  /** This process is asking for the probe, or holds it. */
  #probing = false;
  /**
   * This process's own failures since a success it saw or heard of. The
   * shared count says the same only when the `fail` reply arrives; this opens
   * the circuit at once, so the next call is refused as it is in one process.
   */
  #own = 0;

  constructor(scope: SharedScope, numbers: BreakerNumbers, fallback: LocalScope) {
    this.#scope = scope;
    this.#numbers = numbers;
    this.#fallback = fallback;
    this.#circuitTtl = Math.max(MAX_TTL_MS, numbers.openMs + PROBE_WINDOW_MS);
  }

  admit(): Admission | Promise<Admission> {
    const { link, keys, clock } = this.#scope;
    if (!link.up) return this.#fallback.admit();
    if (!this.#open) return CLOSED;
    const now = clock();
    if (now < this.#openUntil) return { open: true, retryAfterMs: this.#openUntil - now };
    if (this.#probing) return { open: true, retryAfterMs: this.#numbers.openMs };
    this.#probing = true;
    const args = [this.#numbers.openMs, this.#circuitTtl];
    return link.run('probe', [keys.circuit, keys.wait], args, oneNumber).then(
      (wait) => {
        if (wait === 0) return PROBE;
        this.#probing = false;
        if (wait < 0) {
          this.#closed();
          return CLOSED;
        }
        this.#openUntil = clock() + wait;
        return { open: true, retryAfterMs: wait };
      },
      () => {
        this.#probing = false;
        return this.#fallback.admit();
      },
    );
  }

  report(result: AttemptResult, probe: boolean): void {
    const { link, keys } = this.#scope;
    if (!link.up) return this.#fallback.report(result, probe);
    const { failures, circuit, wait, channel } = keys;
    if (probe) this.#probing = false;
    if (result === 'neutral') {
      if (probe) link.fire('release', [circuit, wait], []);
    } else if (result === 'success') {
      this.#own = 0;
      if (!this.#counting && !this.#open && !probe) return;
      this.#counting = false;
      this.#closed();
      link.fire('succeed', [failures, circuit, wait], [channel, link.pid]);
    } else {
      this.#counting = true;
      const { failureThreshold, openMs } = this.#numbers;
      // A failed probe, or this process's own failures reaching the threshold,
      // hold this process at once, before Redis answers.
      if (probe || (++this.#own >= failureThreshold && !this.#open)) this.#opened(openMs);
      const args = [failureThreshold, openMs, channel, link.pid, probe ? 1 : 0, this.#circuitTtl];
      link.run('fail', [failures, circuit, wait], args, numbers(2)).then(
        (reply) => {
          if (reply[1] === 1) this.#opened(openMs);
        },
        () => {},
      );
    }
  }

  /** Another process's word: `open` (for `ms`), `close`, `fails` (the count left 0), `zero`. */
  message(type: string, ms: number): void {
    if (type === 'open') this.#opened(ms);
    else if (type === 'close') {
      this.#counting = false;
      this.#own = 0;
      this.#closed();
    } else if (type === 'fails') this.#counting = true;
    else if (type === 'zero') {
      this.#counting = false;
      this.#own = 0;
    }
  }

  /** The state as Redis has it, after a time of not listening. */
  sync(open: boolean, waitMs: number, count: number): void {
    this.#counting = count > 0;
    if (count === 0) this.#own = 0;
    if (open) this.#opened(Math.max(0, waitMs));
    else this.#closed();
  }

  /** Redis is away: the local circuit carries on from the shared one. */
  down(): void {
    this.#probing = false;
    this.#scope.local.breaker?.set(this.#open ? Math.max(this.#openUntil, 1) : 0);
  }

  #opened(ms: number): void {
    this.#openUntil = this.#scope.clock() + ms;
    if (this.#open) return;
    this.#open = true;
    this.#scope.log.warn(`circuit opened: calls fail fast for ${this.#numbers.openMs} ms`, {
      openMs: this.#numbers.openMs,
    });
  }

  #closed(): void {
    this.#openUntil = 0;
    if (!this.#open) return;
    this.#open = false;
    this.#probing = false;
    this.#scope.log.info('circuit closed: calls go through again', {});
  }
}
