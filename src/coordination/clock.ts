/**
 * The clock every wait and deadline runs on: the time (`now`), the waits
 * (`sleep`: a backoff, a pause, a send slot) and the timers a timeout races
 * against (`timer`/`cancel`). One object, handed to the steps and the
 * coordinator when the client is made, so a simulation that brings its own
 * clock patches no global. Monotonic: a wall clock stepped back by NTP or an
 * operator would hold a 300 ms pause for an hour, and one stepped forward
 * would end a deadline early. Only a `Retry-After` date is read against the
 * wall clock, once, to turn it into a duration.
 */
export interface Clock {
  /** Milliseconds on this clock's own scale. */
  now(): number;
  /** Resolves after `ms`; rejects at once with `signal.reason` when `signal` aborts, leaving no timer or listener behind. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  /** Runs `fn(arg)` after `ms` unless cancelled first (an argument, not a closure: this runs on every attempt). */
  timer<A>(ms: number, fn: (arg: A) => void, arg: A): ClockTimer;
  cancel(timer: ClockTimer | undefined): void;
}

/** A pending `timer`, as its clock made it. */
export type ClockTimer = object | number;

/** A clock whose `sleep` runs on its own `timer`, so a clock needs only say how to tell the time and set a timer. */
export function makeClock(
  now: () => number,
  timer: <A>(ms: number, fn: (arg: A) => void, arg: A) => ClockTimer,
  cancel: (timer: ClockTimer) => void,
): Clock {
  return {
    now,
    timer,
    cancel: (pending) => pending !== undefined && cancel(pending),
    sleep: (ms, signal) =>
      new Promise((resolve, reject) => {
        if (signal?.aborted) return reject(signal.reason as Error);
        const onAbort = () => {
          cancel(pending);
          reject(signal!.reason as Error);
        };
        const pending = timer(
          ms,
          () => {
            signal?.removeEventListener('abort', onAbort);
            resolve();
          },
          undefined,
        );
        signal?.addEventListener('abort', onAbort, { once: true });
      }),
  };
}

/**
 * The process's timers, looked up when used (so a test's fake timers serve
 * it), on a time of the caller's choosing: `performance.now()` by default.
 */
export function timersClock(now: () => number): Clock {
  return makeClock(
    now,
    (ms, fn, arg) => setTimeout(fn, ms, arg),
    (pending) => clearTimeout(pending as ReturnType<typeof setTimeout>),
  );
}

export const monotonic: Clock = timersClock(() => performance.now());
