/**
 * The shared pause (the server asked every caller to wait), as a step.
 * Before an attempt: wait while the scope is paused, re-reading the pause
 * after each wait (another call's 429 may have extended it). After a failed attempt: a 429 or 503 that asks for a
 * wait pauses the whole scope, whether or not this call retries (a call out
 * of retries must still pause the rest).
 */
import { APIError } from '../errors.js';
import type { Call, Step } from '../pipeline.js';
import { addHeld, round, wait, watch } from './waits.js';
import { serverDelay } from './backoff.js';

export const pause: Step = (call, next) => {
  // A shared scope that has not read the fleet's state yet: its first attempts wait for it.
  const reading = call.client.scope.reading?.();
  if (reading) return watch(call, reading).then(() => pause(call, next));
  const held = call.client.scope.pausedFor();
  const sent = held > 0 ? hold(call, held).then(next) : next();
  return sent.catch((error: unknown) => {
    notePause(call, error);
    throw error;
  });
};

async function hold(call: Call, first: number): Promise<void> {
  const { clock, scope } = call.client;
  let end = clock.now() + first;
  addHeld(call, first, 'rate-limit');
  for (let held = first; held > 0; held = scope.pausedFor()) {
    // Only what another call's 429 added is a further hold: a timer can fire up to
    // 1 ms before the clock says, and that remainder is the same pause.
    const extended = clock.now() + held - end;
    if (extended >= 1) addHeld(call, extended, 'rate-limit');
    end = Math.max(end, clock.now() + held);
    await wait(call, held);
  }
}

function notePause(call: Call, error: unknown): void {
  if (!(error instanceof APIError) || (error.status !== 429 && error.status !== 503)) return;
  const asked = serverDelay(error.headers);
  // A zero wait holds nothing: no pause, and no warning (the testing mock sends `retry-after-ms: 0`).
  if (!asked || asked.ms <= 0 || !call.client.scope.pause(asked.ms)) return;
  call.client.log.warn(`rate limited: holding every request for ${round(asked.ms)} ms`, {
    url: call.url,
    status: error.status,
    delayMs: round(asked.ms),
    requestId: error.requestId,
  });
}
