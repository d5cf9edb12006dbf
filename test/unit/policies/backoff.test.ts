import { describe, expect, it } from 'vitest';
import {
  APIConnectionError,
  APIConnectionTimeoutError,
  APIError,
  APIUserAbortError,
  ChatDashError,
  ResponseValidationError,
} from '../../../src/errors.js';
import { isRetryable, retryDelay } from '../../../src/policies/backoff.js';

const retryDelayMs = (...args: Parameters<typeof retryDelay>) => retryDelay(...args).ms;

const headers = (init: Record<string, string>) => new Headers(init);
const noJitter = () => 0;
const fullJitter = () => 0.999999;

describe('retryDelayMs', () => {
  it('backs off 0.5 s x 2^(n-1), capped at 8 s', () => {
    expect([1, 2, 3, 4, 5, 6, 7].map((n) => retryDelayMs(n, undefined, noJitter))).toEqual([
      500, 1_000, 2_000, 4_000, 8_000, 8_000, 8_000,
    ]);
  });

  it('takes off up to 25 % at random, never more', () => {
    expect(retryDelayMs(1, undefined, fullJitter)).toBeCloseTo(375, 0);
    for (let i = 0; i < 1_000; i++) {
      const delay = retryDelayMs(2);
      expect(delay).toBeGreaterThan(750);
      expect(delay).toBeLessThanOrEqual(1_000);
    }
  });

  it('prefers retry-after-ms over Retry-After', () => {
    expect(retryDelayMs(1, headers({ 'retry-after-ms': '250', 'retry-after': '3' }))).toBe(250);
  });

  it('reads Retry-After in seconds, with fractions', () => {
    expect(retryDelayMs(1, headers({ 'retry-after': '2' }))).toBe(2_000);
    expect(retryDelayMs(1, headers({ 'retry-after': '0.5' }))).toBe(500);
    expect(retryDelayMs(3, headers({ 'retry-after': '0' }))).toBe(0);
  });

  it('reads Retry-After as an HTTP date', () => {
    const inTenSeconds = new Date(Date.now() + 10_500).toUTCString();
    const delay = retryDelayMs(1, headers({ 'retry-after': inTenSeconds }));
    expect(delay).toBeGreaterThan(9_000);
    expect(delay).toBeLessThanOrEqual(10_500);
  });

  it.each([
    ['more than 60 s', { 'retry-after': '61' }],
    ['a date past 60 s', { 'retry-after': new Date(Date.now() + 3_600_000).toUTCString() }],
    ['a date in the past', { 'retry-after': 'Wed, 21 Oct 2015 07:28:00 GMT' }],
    ['negative', { 'retry-after-ms': '-5' }],
    ['blank', { 'retry-after': ' ' }],
    ['garbage', { 'retry-after': 'soon' }],
  ])('falls back to backoff when the server asks for %s', (_, init) => {
    expect(retryDelayMs(2, headers(init), noJitter)).toBe(1_000);
  });

  it('falls through an unreadable retry-after-ms to Retry-After', () => {
    expect(retryDelayMs(1, headers({ 'retry-after-ms': 'x', 'retry-after': '1' }))).toBe(1_000);
  });
});

describe('isRetryable', () => {
  const apiError = (status: number) => new APIError(status, new Headers(), undefined, `${status}`);

  it('retries connection errors, timeouts, 408, 409, 429 and every status >= 500', () => {
    expect(isRetryable(new APIConnectionError('x'))).toBe(true);
    expect(isRetryable(new APIConnectionTimeoutError('x'))).toBe(true);
    for (const status of [408, 409, 429, 500, 502, 503, 504, 599])
      expect(isRetryable(apiError(status))).toBe(true);
  });

  it('never retries other statuses, aborts, validation errors or input errors', () => {
    for (const status of [300, 302, 400, 401, 403, 404, 410, 422])
      expect(isRetryable(apiError(status))).toBe(false);
    expect(isRetryable(new APIUserAbortError('x'))).toBe(false);
    expect(
      isRetryable(
        new ResponseValidationError([], null, 200, new Headers(), {
          url: 'https://x/',
          attempts: [],
        }),
      ),
    ).toBe(false);
    expect(isRetryable(new ChatDashError('bad input'))).toBe(false);
    expect(isRetryable(new TypeError('x'))).toBe(false);
  });
});
