/**
 * When to retry and how long to wait. Only failures that another try can
 * cure are retried; the server's own `retry-after-ms` / `Retry-After` wins
 * when it is sane (0-60 s), because it knows when it will be ready; otherwise
 * exponential backoff with jitter, so callers that failed together do not
 * come back together.
 */
import { APIConnectionError, APIError } from '../errors.js';
import type { DelaySource } from '../types.js';

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

export interface Delay {
  ms: number;
  source: DelaySource;
}

/**
 * The wait before retry `n` (1, 2, ...): the server's `retry-after-ms`, else
 * `Retry-After` (seconds or an HTTP date) when it lies within 0-60 s; otherwise
 * 0.5 s x 2^(n-1), capped at 8 s, less up to 25 % jitter.
 */
export function retryDelay(
  n: number,
  headers?: Headers,
  random: () => number = Math.random,
): Delay {
  const asked = headers && serverDelay(headers);
  if (asked) return asked;
  const backoff = Math.min(INITIAL_DELAY_MS * 2 ** (n - 1), MAX_DELAY_MS);
  return { ms: backoff * (1 - 0.25 * random()), source: 'backoff' };
}

/** The server's own wait (`retry-after-ms`, then `Retry-After`) when it lies within 0-60 s. */
export function serverDelay(headers: Headers): Delay | undefined {
  const ms = parseNumber(headers.get('retry-after-ms'));
  if (ms !== undefined) return within(ms, 'retry-after-ms');
  const retryAfter = headers.get('retry-after');
  if (retryAfter === null) return undefined;
  const seconds = parseNumber(retryAfter);
  if (seconds !== undefined) return within(seconds * 1000, 'retry-after');
  const date = Date.parse(retryAfter);
  return Number.isNaN(date) ? undefined : within(date - Date.now(), 'retry-after');
}

function within(ms: number, source: DelaySource): Delay | undefined {
  return ms >= 0 && ms <= MAX_RETRY_AFTER_MS ? { ms, source } : undefined;
}

function parseNumber(value: string | null): number | undefined {
  // Number('') is 0, so a blank header must not count as "retry now".
  if (value === null || value.trim() === '') return undefined;
  const n = Number(value);
  return Number.isFinite(n) ? n : undefined;
}
