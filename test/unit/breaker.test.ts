/**
 * The circuit (`circuitBreaker`) on its own with an explicit clock, how an
 * attempt's end counts for it, and the in-process scope that holds it: no
 * network, no timers.
 */
import { describe, expect, it } from 'vitest';
import { timersClock } from '../../src/coordination/clock.js';
import { Breaker } from '../../src/coordination/breaker.js';
import { OPEN_SCOPE, type ScopeConfig } from '../../src/coordination/coordinator.js';
import { MemoryCoordinator } from '../../src/coordination/memory.js';
import {
  APIConnectionError,
  APIConnectionTimeoutError,
  APIError,
  APIUserAbortError,
  ResponseValidationError,
} from '../../src/errors.js';
import { classify } from '../../src/policies/breaker.js';

const t0 = 1_000_000;
const numbers = { failureThreshold: 3, openMs: 5_000 };

function failTimes(breaker: Breaker, n: number, now = t0) {
  const changes = [];
  for (let i = 0; i < n; i++) changes.push(breaker.report('failure', false, now));
  return changes;
}

describe('Breaker', () => {
  it('opens after failureThreshold consecutive failures and refuses until openMs has passed', () => {
    const breaker = new Breaker(numbers);
    expect(failTimes(breaker, 2)).toEqual([undefined, undefined]);
    expect(breaker.admit(t0)).toEqual({ open: false, probe: false });
    expect(breaker.report('failure', false, t0)).toBe('opened');
    expect(breaker.admit(t0)).toEqual({ open: true, retryAfterMs: 5_000 });
    expect(breaker.admit(t0 + 4_000)).toEqual({ open: true, retryAfterMs: 1_000 });
  });

  it('counts only consecutive failures: a success resets the count, a neutral end does neither', () => {
    const breaker = new Breaker(numbers);
    failTimes(breaker, 2);
    breaker.report('success', false, t0);
    expect(failTimes(breaker, 2)).toEqual([undefined, undefined]);
    breaker.report('neutral', false, t0);
    expect(breaker.report('failure', false, t0)).toBe('opened');
  });

  it('lets exactly one probe through after openMs', () => {
    const breaker = new Breaker(numbers);
    failTimes(breaker, 3);
    expect(breaker.admit(t0 + 5_000)).toEqual({ open: false, probe: true });
    expect(breaker.admit(t0 + 5_000)).toMatchObject({ open: true });
    expect(breaker.admit(t0 + 6_000)).toMatchObject({ open: true });
  });

  it('closes on the probe’s success, and then needs failureThreshold failures again', () => {
    const breaker = new Breaker(numbers);
    failTimes(breaker, 3);
    breaker.admit(t0 + 5_000);
    expect(breaker.report('success', true, t0 + 5_010)).toBe('closed');
    expect(breaker.admit(t0 + 5_010)).toEqual({ open: false, probe: false });
    expect(failTimes(breaker, 2, t0 + 5_020)).toEqual([undefined, undefined]);
    expect(breaker.admit(t0 + 5_020)).toEqual({ open: false, probe: false });
  });

  it('reopens for another openMs on the probe’s failure, without saying "opened" again', () => {
    const breaker = new Breaker(numbers);
    failTimes(breaker, 3);
    breaker.admit(t0 + 5_000);
    expect(breaker.report('failure', true, t0 + 5_100)).toBeUndefined();
    expect(breaker.admit(t0 + 5_100)).toEqual({ open: true, retryAfterMs: 5_000 });
    expect(breaker.admit(t0 + 10_099)).toMatchObject({ open: true });
    expect(breaker.admit(t0 + 10_100)).toEqual({ open: false, probe: true });
  });

  it('lets another probe through when the probe ended neutral (aborted by its caller)', () => {
    const breaker = new Breaker(numbers);
    failTimes(breaker, 3);
    breaker.admit(t0 + 5_000);
    expect(breaker.report('neutral', true, t0 + 5_001)).toBeUndefined();
    expect(breaker.admit(t0 + 5_002)).toEqual({ open: false, probe: true });
  });

  it('is not held open longer by failures of attempts sent before it opened', () => {
    const breaker = new Breaker(numbers);
    failTimes(breaker, 3);
    failTimes(breaker, 5, t0 + 4_000);
    expect(breaker.admit(t0 + 5_000)).toEqual({ open: false, probe: true });
  });
});

describe('classify (how an attempt’s end counts for the circuit)', () => {
  const context = { url: 'https://x/', attempts: [] };
  const status = (code: number, headers: Record<string, string> = {}) =>
    APIError.from(code, '', new Headers(headers), null, context);

  it.each([
    ['a 500', status(500), 'failure'],
    ['a 502', status(502), 'failure'],
    ['a 503 without a wait', status(503), 'failure'],
    [
      'a 503 asking for a wait past 60 s (no pause)',
      status(503, { 'retry-after': '120' }),
      'failure',
    ],
    ['a connection error', new APIConnectionError('refused', context), 'failure'],
    ['a timeout', new APIConnectionTimeoutError('timed out', context), 'failure'],
    ['a 503 that pauses (Retry-After)', status(503, { 'retry-after': '1' }), 'neutral'],
    ['a 503 that pauses (retry-after-ms)', status(503, { 'retry-after-ms': '250' }), 'neutral'],
    ['an abort by the caller', new APIUserAbortError('aborted', context), 'neutral'],
    ['a 429', status(429, { 'retry-after': '1' }), 'success'],
    ['a 404', status(404), 'success'],
    ['a 400', status(400), 'success'],
    [
      'a 200 that fails validation',
      new ResponseValidationError([], null, 200, new Headers(), context),
      'success',
    ],
  ])('counts %s as %s', (_, error, expected) => {
    expect(classify(error)).toBe(expected);
  });
});

describe('the in-process scope', () => {
  const quiet = { warn: () => {}, info: () => {} };
  const config = (log: ScopeConfig['log'] = quiet): ScopeConfig => ({
    budget: { capacity: 10, retryCost: 5, timeoutCost: 10 },
    rateLimit: false,
    circuitBreaker: numbers,
    log,
  });

  it('is shared by clients with the same origin and key, and by nobody else', () => {
    let now = t0;
    const coordinator = new MemoryCoordinator(timersClock(() => now));
    const a = coordinator[OPEN_SCOPE]('http://127.0.0.1:1', 'key-one', config());
    const b = coordinator[OPEN_SCOPE]('http://127.0.0.1:1', 'key-one', config());
    const otherKey = coordinator[OPEN_SCOPE]('http://127.0.0.1:1', 'key-two', config());
    const otherOrigin = coordinator[OPEN_SCOPE]('http://127.0.0.1:2', 'key-one', config());
    a.pause(1_000);
    expect(b.pausedFor()).toBe(1_000);
    expect(otherKey.pausedFor()).toBe(0);
    expect(otherOrigin.pausedFor()).toBe(0);
    expect(a.payRetry(false)).toBe(true);
    expect(b.payRetry(false)).toBe(true);
    expect(a.payRetry(false)).toBe(false);
    expect(otherKey.payRetry(false)).toBe(true);
    for (let i = 0; i < 3; i++) a.report('failure', false);
    expect(b.admit()).toMatchObject({ open: true });
    expect(otherKey.admit()).toEqual({ open: false, probe: false });
    now += 5_000;
    expect(b.admit()).toEqual({ open: false, probe: true });
    expect(a.admit()).toMatchObject({ open: true });
  });

  it('warns once when the circuit opens and says when it closes', () => {
    let now = t0;
    const lines: string[] = [];
    const log = {
      warn: (message: string) => lines.push(`warn ${message}`),
      info: (message: string) => lines.push(`info ${message}`),
    };
    const scope = new MemoryCoordinator(timersClock(() => now))[OPEN_SCOPE](
      'http://h',
      'k',
      config(log),
    );
    for (let i = 0; i < 6; i++) scope.report('failure', false);
    now += 5_000;
    expect(scope.admit()).toEqual({ open: false, probe: true });
    scope.report('failure', true); // the probe failed: open again, no second warning
    now += 5_000;
    expect(scope.admit()).toEqual({ open: false, probe: true });
    scope.report('success', true);
    expect(lines).toEqual([
      'warn circuit opened: calls fail fast for 5000 ms',
      'info circuit closed: calls go through again',
    ]);
  });
});
