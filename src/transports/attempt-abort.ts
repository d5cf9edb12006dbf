/**
 * The client's abort for one attempt, handed to its own transport in place of
 * an AbortSignal. On Node 20 a real AbortSignal costs about as much to make
 * and listen to as the rest of the client's own work per call (each one is an
 * EventTarget made transferable), and undici needs none: the request is told
 * directly. A fetch marked with `ATTEMPT_ABORT` (createUndiciFetch's) gets
 * this handle as `init[ATTEMPT_ABORT]` and no `signal`; Node's own fetch gets
 * it through a one-attempt dispatcher (node-fetch.ts); every other fetch (the
 * app's own, one behind middleware) gets a real AbortSignal. Which of these a
 * client uses is chosen once, when it is made (choose-transport.ts).
 * A global symbol, so the ESM and CJS copies of the package understand each other.
 */
export const ATTEMPT_ABORT = Symbol.for('chatdash-client.attempt-abort');

/** What the transport puts on the handle while its request runs. */
export interface AbortListener {
  aborted(reason: unknown): void;
}

export class AttemptAbort {
  aborted = false;
  reason: unknown = undefined;
  /** The request in flight, told once when the attempt is aborted. */
  listener: AbortListener | undefined = undefined;

  /** As `AbortController.abort()`: without a reason, an `AbortError` DOMException. */
  abort(reason: unknown = new DOMException('This operation was aborted', 'AbortError')): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    const listener = this.listener;
    this.listener = undefined;
    listener?.aborted(reason);
  }
}

/** The fetch takes an `AttemptAbort` in place of a signal. */
export function takesAttemptAbort(fetch: unknown): boolean {
  return (fetch as { [ATTEMPT_ABORT]?: unknown })[ATTEMPT_ABORT] === true;
}
