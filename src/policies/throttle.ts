/**
 * `rateLimit`, as a step: each attempt waits for its send slot from the
 * scope's rate (`delaySource: 'throttle'`). The wait counts toward the
 * deadline (a wait that would end past it is refused at once) and an abort
 * ends it at once. After a 429 an adaptive rate halves; an attempt that was
 * waiting for a slot of the old rate takes a new one.
 */
import { RateLimitError } from '../errors.js';
import type { Step } from '../pipeline.js';
import { wait } from './deadline.js';
import { addHeld } from './pause.js';

export const throttle: Step = async (call, next) => {
  const { scope } = call.client;
  for (;;) {
    const generation = scope.rateGeneration();
    const slot = scope.takeSlot();
    const ms = typeof slot === 'number' ? slot : await slot;
    if (ms <= 0) break;
    addHeld(call, ms, 'throttle');
    await wait(call, ms);
    // The rate dropped during the wait: this slot was one of the old rate's, so take a new one.
    if (scope.rateGeneration() === generation) break;
  }
  try {
    return await next();
  } catch (error) {
    if (error instanceof RateLimitError) call.client.scope.rateLimited();
    throw error;
  }
};
