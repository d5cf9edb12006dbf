/**
 * `rateLimit`, as a step: each attempt waits for its send slot from the
 * scope's rate (`delaySource: 'throttle'`). The wait counts toward the
 * deadline (a wait that would end past it is refused at once) and an abort
 * ends it at once. After a 429 an adaptive rate halves.
 */
import { RateLimitError } from '../errors.js';
import type { Step } from '../pipeline.js';
import { wait } from './deadline.js';
import { addHeld } from './pause.js';

export const throttle: Step = async (call, next) => {
  const slot = call.client.scope.takeSlot();
  const ms = typeof slot === 'number' ? slot : await slot;
  if (ms > 0) {
    addHeld(call, ms, 'throttle');
    await wait(call, ms);
  }
  try {
    return await next();
  } catch (error) {
    if (error instanceof RateLimitError) call.client.scope.rateLimited();
    throw error;
  }
};
