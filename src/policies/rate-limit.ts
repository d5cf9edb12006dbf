/**
 * `rateLimit`, as a step: each attempt waits for its send slot from the
 * scope's rate (`delaySource: 'throttle'`). The wait counts toward the
 * deadline (a wait that would end past it is refused at once) and an abort
 * ends it at once. After a 429 an adaptive rate halves; an attempt that was
 * waiting for a slot of the old rate takes a new one.
 */
import { RateLimitError } from '../errors.js';
import type { Scope } from '../coordination/coordinator.js';
import type { Call, Next, Step } from '../pipeline.js';
import { addHeld, deadlineError, type Waits } from './waits.js';

/** The rateLimit step of one client: its scope hands out the send slots. */
export function rateLimit(scope: Scope, waits: Waits): Step {
  const waitForSlot = async (
    call: Call,
    slot: number | Promise<number>,
    generation: number,
  ): Promise<void> => {
    for (let ms = await answer(call, slot); ms > 0;) {
      addHeld(call, ms, 'throttle');
      await waits.wait(call, ms);
      // A 429 while this attempt waited halved the rate and dropped the slots
      // handed out at the old one: this attempt takes a new slot at the new rate.
      if (scope.rateLimitGeneration() === generation) return;
      const again = scope.rateLimitSlot();
      generation = scope.rateLimitGeneration();
      ms = await answer(call, again);
    }
  };

  /** A slot Redis is asked for: no longer than the deadline, and not past an abort. */
  const answer = async (call: Call, slot: number | Promise<number>): Promise<number> => {
    if (typeof slot === 'number') return slot;
    const ms = await waits.watch(call, slot);
    // The answer came in time, but a wait for it may have used up the deadline.
    if (waits.timeLeft(call) <= 0) throw deadlineError(call);
    return ms;
  };

  const send = (next: Next) =>
    next().catch((error: unknown) => {
      if (error instanceof RateLimitError) scope.tooManyRequests();
      throw error;
    });

  return function rateLimit(call, next) {
    const slot = scope.rateLimitSlot();
    // A slot free now costs no promise and no timer beyond the send itself.
    if (slot === 0) return send(next);
    return waitForSlot(call, slot, scope.rateLimitGeneration()).then(() => send(next));
  };
}
