/**
 * What the steps share about a call's time, so that no step imports another:
 * its deadline (`deadlineMs`, the whole call, retries and waits included), its
 * waits on the client's clock (`Waits`, made once per client), and the record
 * of a wait before an attempt.
 * A wait that would end past the deadline is not started (waiting only to
 * fail helps no one). The deadline's error ends the call as it is: never
 * retried, never wrapped in a second deadline error.
 */
import type { Clock } from '../coordination/clock.js';
import { APIConnectionTimeoutError, APIUserAbortError } from '../errors.js';
import type { Call } from '../pipeline.js';
import type { Redactor } from '../redact.js';
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

/**
 * A call's deadline and waits on one client's clock, made once per client and
 * handed to the steps that wait (the deadline is per call: `call.deadlineAt`).
 */
export class Waits {
  constructor(
    readonly clock: Clock,
    private readonly redactor: Redactor,
  ) {}

  /** Starts the call's deadline, if it has one. */
  start(call: Call): void {
    const { deadlineMs } = call.settings;
    call.deadlineAt = deadlineMs === undefined ? undefined : this.clock.now() + deadlineMs;
  }

  /** Milliseconds left before the deadline; Infinity without one. */
  timeLeft(call: Call): number {
    return call.deadlineAt === undefined ? Infinity : call.deadlineAt - this.clock.now();
  }

  aborted(call: Call): APIUserAbortError {
    return new APIUserAbortError(`Request was aborted: GET ${call.url}`, {
      url: call.url,
      attempts: call.attempts,
      cause: this.redactor.error(call.settings.signal?.reason),
    });
  }

  /** Waits `ms` unless the wait would end past the deadline (then throws at once); an abort rejects at once. */
  async wait(call: Call, ms: number, last?: Error): Promise<void> {
    if (ms >= this.timeLeft(call)) throw deadlineError(call, last);
    await this.sleep(call, ms);
  }

  /** Waits `ms` on the client's clock; the caller's abort rejects it at once with `aborted()`. */
  sleep(call: Call, ms: number): Promise<void> {
    const { signal } = call.settings;
    const slept = this.clock.sleep(ms, signal);
    return signal ? slept.catch(() => Promise.reject(this.aborted(call))) : slept;
  }

  /**
   * Awaits `answer` (the coordinator asking Redis: a slot, a payment, an
   * admission) for no longer than the call may wait: the deadline rejects it
   * with the deadline's error and an abort rejects it at once, whatever Redis
   * does. What `answer` brings later is dropped.
   */
  watch<T>(call: Call, answer: T | Promise<T>, last?: Error): Promise<T> {
    const left = this.timeLeft(call);
    const { signal } = call.settings;
    const { clock } = this;
    if (!(answer instanceof Promise) || (left === Infinity && !signal))
      return Promise.resolve(answer);
    return new Promise<T>((resolve, reject) => {
      if (signal?.aborted) return reject(this.aborted(call));
      if (left <= 0) return reject(deadlineError(call, last));
      const done = () => {
        clock.cancel(timer);
        signal?.removeEventListener('abort', onAbort);
      };
      const onAbort = () => {
        done();
        reject(this.aborted(call));
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
}

export function deadlineError(call: Call, last?: Error): APIConnectionTimeoutError {
  return markFinal(
    new APIConnectionTimeoutError(
      `Request exceeded its deadline of ${call.settings.deadlineMs} ms: GET ${call.url}`,
      { url: call.url, attempts: call.attempts, ...(last ? { cause: last } : {}) },
    ),
  );
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
