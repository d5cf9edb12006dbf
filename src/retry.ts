/**
 * When to retry and how long to wait: DESIGN.md section 4.
 */
import { APIConnectionError, APIError, APIUserAbortError } from './errors.js';

const MAX_RETRY_AFTER_MS = 60_000;
const INITIAL_DELAY_MS = 500;
const MAX_DELAY_MS = 8_000;

/** GET is idempotent: connection failures (timeouts included), 408, 409, 429 and 5xx are worth another try. */
export function isRetryable(error: unknown): boolean {
  if (error instanceof APIConnectionError) return true;
  if (!(error instanceof APIError)) return false;
  const { status } = error;
  return status === 408 || status === 409 || status === 429 || status >= 500;
}

/**
 * The wait before retry `n` (1, 2, ...): the server's `retry-after-ms`, else
 * `Retry-After` (seconds or an HTTP date) when it lies within 0-60 s; otherwise
 * 0.5 s x 2^(n-1), capped at 8 s, less up to 25 % jitter.
 */
export function retryDelayMs(
  n: number,
  headers?: Headers,
  random: () => number = Math.random,
): number {
  const asked = headers ? serverDelayMs(headers) : undefined;
  if (asked !== undefined && asked >= 0 && asked <= MAX_RETRY_AFTER_MS) return asked;
  const backoff = Math.min(INITIAL_DELAY_MS * 2 ** (n - 1), MAX_DELAY_MS);
  return backoff * (1 - 0.25 * random());
}

function serverDelayMs(headers: Headers): number | undefined {
  const ms = parseNumber(headers.get('retry-after-ms'));
  if (ms !== undefined) return ms;
  const retryAfter = headers.get('retry-after');
  if (retryAfter === null) return undefined;
  const seconds = parseNumber(retryAfter);
  if (seconds !== undefined) return seconds * 1000;
  const date = Date.parse(retryAfter);
  return Number.isNaN(date) ? undefined : date - Date.now();
}

function parseNumber(value: string | null): number | undefined {
  // Number('') is 0, so a blank header must not count as "retry now".
  if (value === null || value.trim() === '') return undefined;
  const n = Number(value);
  return Number.isFinite(n) ? n : undefined;
}

/** Waits `ms`, or rejects at once with APIUserAbortError when `signal` aborts; leaves no timer behind. */
export function sleep(ms: number, signal: AbortSignal | undefined, target: string): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortError(target, signal));
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortError(target, signal));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

export function abortError(target: string, signal: AbortSignal | undefined): APIUserAbortError {
  return new APIUserAbortError(`Request was aborted: ${target}`, { cause: signal?.reason });
}
