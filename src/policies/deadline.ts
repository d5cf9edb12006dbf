/**
 * `deadlineMs`: the whole call, retries and waits included. A wait that would
 * end past the deadline is not started (waiting only to fail helps no one),
 * and an attempt is never sent after it. The deadline's error ends the call
 * as it is: never retried, never wrapped in a second deadline error.
 */
import { APIConnectionTimeoutError, APIUserAbortError } from '../errors.js';
import type { Call, Step } from '../pipeline.js';
import { sleep } from './retry.js';

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
  call.deadlineAt = deadlineMs === undefined ? undefined : call.client.clock() + deadlineMs;
}

/** Milliseconds left before the deadline; Infinity without one. */
export function timeLeft(call: Call): number {
  return call.deadlineAt === undefined ? Infinity : call.deadlineAt - call.client.clock();
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
  await sleep(ms, call.settings.signal, () => aborted(call));
}

/**
 * Awaits `answer` (the coordinator asking Redis: a slot, a payment, an
 * admission) for no longer than the call may wait: the deadline rejects it
 * with the deadline's error and an abort rejects it at once, whatever Redis
 * does. What `answer` brings later is dropped.
 */
export function watch<T>(call: Call, answer: Promise<T>, last?: Error): Promise<T> {
  const left = timeLeft(call);
  const { signal } = call.settings;
  if (left === Infinity && !signal) return answer;
  return new Promise<T>((resolve, reject) => {
    if (signal?.aborted) return reject(aborted(call));
    if (left <= 0) return reject(deadlineError(call, last));
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    };
    const onAbort = () => {
      done();
      reject(aborted(call));
    };
    const timer =
      left === Infinity
        ? undefined
        : setTimeout(() => {
            done();
            reject(deadlineError(call, last));
          }, left);
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

/** The step: no attempt is sent once the deadline has passed, nor after the caller aborted. */
export const deadline: Step = (call, next) => {
  if (call.settings.signal?.aborted) throw aborted(call);
  if (timeLeft(call) <= 0) throw deadlineError(call);
  return next();
};
