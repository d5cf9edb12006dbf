/**
 * `dedupe: true`: concurrent calls with the same params share one request
 * (undici's dedupe interceptor does this for a whole dispatcher). One
 * caller's abort rejects only that caller; the shared request is aborted
 * when every caller has gone.
 */
export class Dedupe<T> {
  readonly #inFlight = new Map<
    string,
    { promise: Promise<T>; controller: AbortController; callers: number }
  >();

  run(
    key: string,
    signal: AbortSignal | undefined,
    start: (signal: AbortSignal) => Promise<T>,
    aborted: () => Error,
  ): Promise<T> {
    if (signal?.aborted) return Promise.reject(aborted());
    let shared = this.#inFlight.get(key);
    if (!shared) {
      const controller = new AbortController();
      const promise = start(controller.signal);
      const entry = { promise, controller, callers: 0 };
      shared = entry;
      this.#inFlight.set(key, entry);
      const forget = () => {
        if (this.#inFlight.get(key) === entry) this.#inFlight.delete(key);
      };
      promise.then(forget, forget);
    }
    const entry = shared;
    entry.callers++;
    if (!signal) return entry.promise;
    return new Promise<T>((resolve, reject) => {
      const onAbort = () => {
        reject(aborted());
        if (--entry.callers === 0) {
          // Nobody waits for it any more: stop it, and let the next caller start afresh.
          if (this.#inFlight.get(key) === entry) this.#inFlight.delete(key);
          entry.controller.abort();
        }
      };
      signal.addEventListener('abort', onAbort, { once: true });
      entry.promise.then(
        (value) => {
          signal.removeEventListener('abort', onAbort);
          resolve(value);
        },
        (error: unknown) => {
          signal.removeEventListener('abort', onAbort);
          reject(error);
        },
      );
    });
  }
}
