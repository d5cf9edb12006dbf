/**
 * `timeoutMs`, per attempt, from sending to the last byte of the body. The
 * timer and the caller's signal settle the attempt at once, whatever the
 * transport does (Node 20's fetch ignores its signal on a truncated 421 and
 * never settles), and abort the transport so no socket outlives the call.
 * When the deadline comes before the timeout, the deadline's error is thrown.
 */
import { APIConnectionTimeoutError } from '../errors.js';
import type { ClockTimer } from '../coordination/clock.js';
import type { Call, Outcome, Step } from '../pipeline.js';
import { aborted, deadlineError, timeLeft } from './waits.js';

export const timeout: Step = (call, next) => {
  const { signal, timeoutMs } = call.settings;
  if (signal?.aborted) return Promise.reject(aborted(call));
  const left = timeLeft(call);
  const controller = (call.abort = call.client.transport.newAbort());
  return new Promise<Outcome>((resolve, reject) => {
    const watch = new Watch(call, controller, left < timeoutMs, reject);
    watch.timer = call.client.clock.timer(
      watch.byDeadline ? Math.max(0, left) : timeoutMs,
      expire,
      watch,
    );
    if (signal) {
      watch.onAbort = () => {
        watch.done();
        watch.controller.abort(signal.reason);
        reject(aborted(call));
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
    readonly controller: { abort(reason?: unknown): void },
    readonly byDeadline: boolean,
    readonly reject: (error: unknown) => void,
  ) {}

  done(): void {
    this.call.client.clock.cancel(this.timer);
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
