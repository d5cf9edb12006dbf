/**
 * `circuitBreaker`, as a step. While the scope's circuit is open, an attempt
 * is refused at once with `CircuitOpenError`, sending nothing (and paying
 * nothing from the retry budget: the error is not retried); after `openMs`
 * one attempt in the whole scope goes through as the probe. Failures are
 * connection errors, timeouts and 5xx but a 503 that pauses; a 2xx or a 4xx
 * (429 included) resets the count; a pausing 503 neither counts nor resets.
 */
import {
  APIConnectionError,
  APIError,
  CircuitOpenError,
  ResponseValidationError,
} from '../errors.js';
import type { Admission, AttemptResult, Scope } from '../coordination/coordinator.js';
import type { Call, Next, Outcome, Step } from '../pipeline.js';
import type { Waits } from './waits.js';
import { serverDelay } from './backoff.js';

/** The breaker step of one client: its scope's circuit admits or refuses each attempt. */
export function breaker(scope: Scope, waits: Waits): Step {
  /** Who probes, asked of Redis: no longer than the deadline, nor past an abort. */
  const asked = (call: Call, admission: Promise<Admission>): Promise<Admission> =>
    waits.watch(call, admission).catch((reason: unknown) => {
      // A probe granted to a call that gave up on it is handed back at once, unsent.
      void admission.then((late) => {
        if (!late.open && late.probe) scope.report('neutral', true);
      });
      throw reason;
    });

  const admitted = (call: Call, next: Next, admission: Admission): Promise<Outcome> => {
    if (admission.open) throw circuitOpen(call, admission.retryAfterMs);
    const probe = admission.probe;
    // The step runs before the pause and the rate limit, so an open circuit
    // refuses a call at once instead of after its wait; an attempt that ends in
    // that wait (deadline, abort) was never sent and says nothing of the upstream.
    const sent = call.attempts.length;
    return next().then(
      (outcome) => {
        scope.report('success', probe);
        return outcome;
      },
      (error: unknown) => {
        scope.report(call.attempts.length > sent ? classify(error) : 'neutral', probe);
        throw error;
      },
    );
  };

  return function breaker(call, next) {
    const admission = scope.admit();
    // Only a shared circuit asking who probes answers later; an open one answers at once.
    return admission instanceof Promise
      ? asked(call, admission).then((answer) => admitted(call, next, answer))
      : admitted(call, next, admission);
  };
}

export function circuitOpen(call: Call, retryAfterMs: number): CircuitOpenError {
  const ms = Math.max(0, Math.ceil(retryAfterMs));
  return new CircuitOpenError(`Circuit open: GET ${call.url} not sent; retry after ${ms} ms`, {
    url: call.url,
    attempts: call.attempts,
    retryAfterMs: ms,
  });
}

export function classify(error: unknown): AttemptResult {
  if (error instanceof APIError) {
    if (error.status < 500) return 'success';
    if (error.status === 503 && (serverDelay(error.headers)?.ms ?? 0) > 0) return 'neutral';
    return 'failure';
  }
  // A body that fails validation still came from a live upstream; an abort is the caller's doing.
  if (error instanceof ResponseValidationError) return 'success';
  return error instanceof APIConnectionError ? 'failure' : 'neutral';
}
