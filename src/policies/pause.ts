/**
 * The shared rate-limit pause, as a step. Before an attempt: wait while the
 * scope is paused, re-reading the pause after each wait (another call's 429
 * may have extended it). After a failed attempt: a 429 or 503 that asks for a
 * wait pauses the whole scope, whether or not this call retries (a call out
 * of retries must still pause the rest).
 */
import { APIError } from '../errors.js';
import type { Call, Step } from '../pipeline.js';
import type { DelaySource } from '../types.js';
import { wait, watch } from './deadline.js';
import { serverDelay } from './retry.js';

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
  let end = clock() + first;
  addHeld(call, first, 'rate-limit');
  for (let held = first; held > 0; held = scope.pausedFor()) {
    // Only what another call's 429 added is a further hold: a timer can fire up to
    // 1 ms before the clock says, and that remainder is the same pause.
    const extended = clock() + held - end;
    if (extended >= 1) addHeld(call, extended, 'rate-limit');
    end = Math.max(end, clock() + held);
    await wait(call, held);
  }
}

/**
 * A wait before an attempt goes on the record of the attempt before it;
 * attempt 1 has none, so it carries its own (recorded when it is sent: a call
 * aborted while held sent nothing and shows no attempt).
 */
export function addHeld(call: Call, ms: number, source: DelaySource): void {
  const previous = call.attempts.at(-1);
  if (previous) {
    previous.delayMs = round((previous.delayMs ?? 0) + ms);
    previous.delaySource = source;
  } else {
    call.heldMs += ms;
    call.heldSource = source;
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

export function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}
