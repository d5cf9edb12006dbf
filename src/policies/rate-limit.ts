/**
 * `rateLimit`, as a step: each attempt waits for its send slot from the
 * scope's rate (`delaySource: 'throttle'`). The wait counts toward the
 * deadline (a wait that would end past it is refused at once) and an abort
 * ends it at once. After a 429 an adaptive rate halves; an attempt that was
 * waiting for a slot of the old rate takes a new one.
 */
import { RateLimitError } from '../errors.js';
import type { Call, Next, Step } from '../pipeline.js';
import { deadlineError, timeLeft, wait, watch } from './waits.js';
import { addHeld } from './waits.js';

export const rateLimit: Step = (call, next) => {
  const { scope } = call.client;
  const slot = scope.rateLimitSlot();
  // A slot free now costs no promise and no timer beyond the send itself.
  if (slot === 0) return send(call, next);
  return waitForSlot(call, slot, scope.rateLimitGeneration()).then(() => send(call, next));
};

async function waitForSlot(
  call: Call,
  slot: number | Promise<number>,
  generation: number,
): Promise<void> {
  const { scope } = call.client;
  for (let ms = await answer(call, slot); ms > 0;) {
    addHeld(call, ms, 'throttle');
    await wait(call, ms);
    // A 429 while this attempt waited halved the rate and dropped the slots
    // handed out at the old one: this attempt takes a new slot at the new rate.
    if (scope.rateLimitGeneration() === generation) return;
    const again = scope.rateLimitSlot();
    generation = scope.rateLimitGeneration();
    ms = await answer(call, again);
  }
}

/** A slot Redis is asked for: no longer than the deadline, and not past an abort. */
async function answer(call: Call, slot: number | Promise<number>): Promise<number> {
  if (typeof slot === 'number') return slot;
  const ms = await watch(call, slot);
  // The answer came in time, but a wait for it may have used up the deadline.
  if (timeLeft(call) <= 0) throw deadlineError(call);
  return ms;
}

function send(call: Call, next: Next) {
  return next().catch((error: unknown) => {
    if (error instanceof RateLimitError) call.client.scope.tooManyRequests();
    throw error;
  });
}
