/**
 * `deadlineMs` and the caller's abort, as a step: no attempt is sent once the
 * deadline has passed, nor after the caller aborted. The deadline itself (its
 * start, the time left, its error) is in waits.ts, which every step shares.
 */
import type { Step } from '../pipeline.js';
import { deadlineError, type Waits } from './waits.js';

/** The step: no attempt is sent once the deadline has passed, nor after the caller aborted. */
export function deadline(waits: Waits): Step {
  return function deadline(call, next) {
    if (call.settings.signal?.aborted) throw waits.aborted(call);
    if (waits.timeLeft(call) <= 0) throw deadlineError(call);
    return next();
  };
}
