/**
 * `timeoutMs`, per attempt, from sending to the last byte of the body. The
 * timer and the caller's signal settle the attempt at once, whatever the
 * transport does (Node 20's fetch ignores its signal on a truncated 421 and
 * never settles), and abort the transport so no socket outlives the call.
 * When the deadline comes before the timeout, the deadline's error is thrown.
 */
import { APIConnectionTimeoutError } from '../errors.js';
import type { Clock, ClockTimer } from '../coordination/clock.js';
import type { Call, Outcome, Step } from '../pipeline.js';
import type { Transport } from '../transports/transport.js';
import { deadlineError, type Waits } from './waits.js';

/** The timeout step of one client: its transport makes each attempt's abort, `waits` its timer. */
export function timeout(transport: Transport, waits: Waits): Step {
  const { clock } = waits;
  return function timeout(call, next) {
    const { signal, timeoutMs } = call.settings;
    if (signal?.aborted) return Promise.reject(waits.aborted(call));
    const left = waits.timeLeft(call);
    const controller = (call.abort = transport.newAbort());
    return new Promise<Outcome>((resolve, reject) => {
      const watch = new Watch(call, clock, controller, left < timeoutMs, reject);
      watch.timer = clock.timer(watch.byDeadline ? Math.max(0, left) : timeoutMs, expire, watch);
      if (signal) {
        watch.onAbort = () => {
          watch.done();
          watch.controller.abort(signal.reason);
          reject(waits.aborted(call));
        };
        signal.addEventListener('abort', watch.onAbort);
      }
      next().then(
        (outcome) => {
          watch.done();
          resolve(outcome);
        },
        (error: unknown) => {
          watch.done();
          reject(error);
        },
      );
    });
  };
}

/**
 * One attempt's timer and the caller's signal, whichever ends it first. An
 * object and a module-level timer callback rather than closures: this runs on
 * every attempt, and a closure apiece costs more than the rest of the step.
 */
class Watch {
  timer: ClockTimer | undefined = undefined;
  onAbort: (() => void) | undefined = undefined;

  constructor(
    readonly call: Call,
    readonly clock: Clock,
    readonly controller: { abort(reason?: unknown): void },
    readonly byDeadline: boolean,
    readonly reject: (error: unknown) => void,
  ) {}

  done(): void {
    this.clock.cancel(this.timer);
    if (this.onAbort) this.call.settings.signal?.removeEventListener('abort', this.onAbort);
  }
}

function expire(watch: Watch): void {
  const { call } = watch;
  watch.done();
  watch.controller.abort();
  watch.reject(
    watch.byDeadline
      ? deadlineError(call)
      : new APIConnectionTimeoutError(
          `Request timed out after ${call.settings.timeoutMs} ms: GET ${call.url}`,
          { url: call.url, attempts: call.attempts },
        ),
  );
}
