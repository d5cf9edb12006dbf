/**
 * What the steps share about a call's time, so that no step imports another:
 * its deadline (`deadlineMs`, the whole call, retries and waits included), its
 * waits on the client's clock, and the record of a wait before an attempt.
 * A wait that would end past the deadline is not started (waiting only to
 * fail helps no one). The deadline's error ends the call as it is: never
 * retried, never wrapped in a second deadline error.
 */
import { APIConnectionTimeoutError, APIUserAbortError } from '../errors.js';
import type { Call } from '../pipeline.js';
import type { DelaySource } from '../types.js';

// Errors that end the call where they are raised: never retried or wrapped again.
const final = new WeakSet<Error>();

export function isFinal(error: unknown): boolean {
  return typeof error === 'object' && error !== null && final.has(error as Error);
}

export function markFinal<E extends Error>(error: E): E {
  final.add(error);
  return error;
}

export function startDeadline(call: Call): void {
  const { deadlineMs } = call.settings;
  call.deadlineAt = deadlineMs === undefined ? undefined : call.client.clock.now() + deadlineMs;
}

/** Milliseconds left before the deadline; Infinity without one. */
export function timeLeft(call: Call): number {
  return call.deadlineAt === undefined ? Infinity : call.deadlineAt - call.client.clock.now();
}

export function deadlineError(call: Call, last?: Error): APIConnectionTimeoutError {
  return markFinal(
    new APIConnectionTimeoutError(
      `Request exceeded its deadline of ${call.settings.deadlineMs} ms: GET ${call.url}`,
      { url: call.url, attempts: call.attempts, ...(last ? { cause: last } : {}) },
    ),
  );
}

export function aborted(call: Call): APIUserAbortError {
  return new APIUserAbortError(`Request was aborted: GET ${call.url}`, {
    url: call.url,
    attempts: call.attempts,
    cause: call.client.redactor.error(call.settings.signal?.reason),
  });
}

/** Waits `ms` unless the wait would end past the deadline (then throws at once); an abort rejects at once. */
export async function wait(call: Call, ms: number, last?: Error): Promise<void> {
  if (ms >= timeLeft(call)) throw deadlineError(call, last);
  await sleep(call, ms);
}

/** Waits `ms` on the client's clock; the caller's abort rejects it at once with `aborted()`. */
export function sleep(call: Call, ms: number): Promise<void> {
  const { signal } = call.settings;
  const slept = call.client.clock.sleep(ms, signal);
  return signal ? slept.catch(() => Promise.reject(aborted(call))) : slept;
}

/**
 * Awaits `answer` (the coordinator asking Redis: a slot, a payment, an
 * admission) for no longer than the call may wait: the deadline rejects it
 * with the deadline's error and an abort rejects it at once, whatever Redis
 * does. What `answer` brings later is dropped.
 */
export function watch<T>(call: Call, answer: T | Promise<T>, last?: Error): Promise<T> {
  const left = timeLeft(call);
  const { signal } = call.settings;
  const { clock } = call.client;
  if (!(answer instanceof Promise) || (left === Infinity && !signal))
    return Promise.resolve(answer);
  return new Promise<T>((resolve, reject) => {
    if (signal?.aborted) return reject(aborted(call));
    if (left <= 0) return reject(deadlineError(call, last));
    const done = () => {
      clock.cancel(timer);
      signal?.removeEventListener('abort', onAbort);
    };
    const onAbort = () => {
      done();
      reject(aborted(call));
    };
    const timer =
      left === Infinity
        ? undefined
        : clock.timer(
            left,
            () => {
              done();
              reject(deadlineError(call, last));
            },
            undefined,
          );
    signal?.addEventListener('abort', onAbort, { once: true });
    answer.then(
      (value) => {
        done();
        resolve(value);
      },
      (error: unknown) => {
        done();
        reject(error as Error);
      },
    );
  });
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

/** Milliseconds as records and logs show them: to a tenth. */
export function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}
