/**
 * `timeoutMs`, per attempt, from sending to the last byte of the body. The
 * timer and the caller's signal settle the attempt at once, whatever the
 * transport does (Node 20's fetch ignores its signal on a truncated 421 and
 * never settles), and abort the transport so no socket outlives the call.
 * When the deadline comes before the timeout, the deadline's error is thrown.
 */
import { APIConnectionTimeoutError } from '../errors.js';
import type { Outcome, Step } from '../pipeline.js';
import { aborted, deadlineError, timeLeft } from './deadline.js';
import { newAttemptAbort } from './transport.js';

export const timeout: Step = (call, next) => {
  const { signal, timeoutMs } = call.settings;
  if (signal?.aborted) return Promise.reject(aborted(call));
  const left = timeLeft(call);
  const byDeadline = left < timeoutMs;
  const controller = newAttemptAbort(call);
  return new Promise<Outcome>((resolve, reject) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    };
    const timer = setTimeout(
      () => {
        done();
        controller.abort();
        reject(
          byDeadline
            ? deadlineError(call)
            : new APIConnectionTimeoutError(
                `Request timed out after ${timeoutMs} ms: GET ${call.url}`,
                { url: call.url, attempts: call.attempts },
              ),
        );
      },
      byDeadline ? Math.max(0, left) : timeoutMs,
    );
    const onAbort = () => {
      done();
      controller.abort(signal?.reason);
      reject(aborted(call));
    };
    signal?.addEventListener('abort', onAbort);
    next().then(
      (outcome) => {
        done();
        resolve(outcome);
      },
      (error: unknown) => {
        done();
        reject(error);
      },
    );
  });
};
