/**
 * The shared pause (the server asked every caller to wait), as a step.
 * Before an attempt: wait while the scope is paused, re-reading the pause
 * after each wait (another call's 429 may have extended it). After a failed attempt: a 429 or 503 that asks for a
 * wait pauses the whole scope, whether or not this call retries (a call out
 * of retries must still pause the rest).
 */
import { APIError } from '../errors.js';
import type { Scope } from '../coordination/coordinator.js';
import type { Call, Outcome, Step } from '../pipeline.js';
import type { Log } from '../telemetry/log.js';
import { addHeld, round, type Waits } from './waits.js';
import { serverDelay } from './backoff.js';

/** The pause step of one client: its scope holds the pause every call of the scope shares. */
export function pause(scope: Scope, waits: Waits, log: Log): Step {
  const { clock } = waits;
  const hold = async (call: Call, first: number): Promise<void> => {
    let end = clock.now() + first;
    addHeld(call, first, 'rate-limit');
    for (let held = first; held > 0; held = scope.pausedFor()) {
      // Only what another call's 429 added is a further hold: a timer can fire up to
      // 1 ms before the clock says, and that remainder is the same pause.
      const extended = clock.now() + held - end;
      if (extended >= 1) addHeld(call, extended, 'rate-limit');
      end = Math.max(end, clock.now() + held);
      await waits.wait(call, held);
    }
  };

  const notePause = (call: Call, error: unknown): void => {
    if (!(error instanceof APIError) || (error.status !== 429 && error.status !== 503)) return;
    const asked = serverDelay(error.headers);
    // A zero wait holds nothing: no pause, and no warning (the testing mock sends `retry-after-ms: 0`).
    if (!asked || asked.ms <= 0 || !scope.pause(asked.ms)) return;
    log.warn(`rate limited: holding every request for ${round(asked.ms)} ms`, {
      url: call.url,
      status: error.status,
      delayMs: round(asked.ms),
      requestId: error.requestId,
    });
  };

  return function pause(call, next): Promise<Outcome> {
    // A shared scope that has not read the fleet's state yet: its first attempts wait for it.
    const reading = scope.reading?.();
    if (reading) return waits.watch(call, reading).then(() => pause(call, next));
    const held = scope.pausedFor();
    const sent = held > 0 ? hold(call, held).then(next) : next();
    return sent.catch((error: unknown) => {
      notePause(call, error);
      throw error;
    });
  };
}
