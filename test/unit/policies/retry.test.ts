import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { timersClock } from '../../../src/coordination/clock.js';
import {
  APIConnectionError,
  APIConnectionTimeoutError,
  APIError,
  APIUserAbortError,
  ResponseValidationError,
} from '../../../src/errors.js';
import type { Call, Outcome } from '../../../src/pipeline.js';
import { markFinal } from '../../../src/policies/waits.js';
import { failure, makeCall, outcome, type CallOptions, step, waitsOf } from '../../helpers/call.js';

beforeEach(() => {
  vi.useFakeTimers();
  vi.spyOn(Math, 'random').mockReturnValue(0); // backoff without jitter: 500, 1000, 2000 ms
});
afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

const clock = timersClock(() => Date.now());

function status(call: Call, code: number, headers: Record<string, string> = {}) {
  return APIError.from(code, '', new Headers(headers), {}, { url: call.url, attempts: [] });
}

/**
 * A stub for the rest of the attempt: each run records its attempt (as the
 * observe step does) and settles with the next scripted result, noting when it ran.
 */
function attempts(call: Call, ...script: (Error | 'ok')[]) {
  const sentAt: number[] = [];
  const start = Date.now();
  const next = vi.fn(async (): Promise<Outcome> => {
    sentAt.push(Date.now() - start);
    const result = script[sentAt.length - 1] ?? 'ok';
    call.attempts.push({ attempt: call.n, durationMs: 1 });
    if (result === 'ok') return outcome(call);
    throw result;
  });
  return { next, sentAt };
}

function harness(options: CallOptions = {}) {
  return makeCall({ clock, ...options });
}

describe('the retry step', () => {
  it('retries a 500 after the backoff, records the wait on the failed attempt, and says so at info', async () => {
    const { call, logs } = harness();
    const { next, sentAt } = attempts(call, status(call, 500), 'ok');
    const result = step.retry(call, next);
    await vi.advanceTimersByTimeAsync(499);
    expect(next).toHaveBeenCalledOnce();
    await vi.advanceTimersByTimeAsync(1);
    await expect(result).resolves.toMatchObject({ response: { status: 200 } });
    expect(sentAt).toEqual([0, 500]);
    expect(call.n).toBe(2);
    expect(call.attempts[0]).toMatchObject({ attempt: 1, delayMs: 500, delaySource: 'backoff' });
    const info = logs.filter((l) => l.level === 'info');
    expect(info).toHaveLength(1);
    expect(info[0]?.message).toContain(`retrying GET ${call.url} in 500 ms`);
    expect(info[0]?.fields).toMatchObject({ attempt: 2, delayMs: 500, delaySource: 'backoff' });
  });

  it('waits what a 429 asks for in retry-after-ms instead of the backoff', async () => {
    const { call } = harness();
    const { next, sentAt } = attempts(call, status(call, 429, { 'retry-after-ms': '1250' }));
    const result = step.retry(call, next);
    await vi.advanceTimersByTimeAsync(2_000);
    await result;
    expect(sentAt).toEqual([0, 1_250]);
    expect(call.attempts[0]).toMatchObject({ delayMs: 1_250, delaySource: 'retry-after-ms' });
  });

  it('makes 1 + maxRetries attempts, then throws the last error', async () => {
    const { call } = harness({ settings: { maxRetries: 2 } });
    const errors = [1, 2, 3].map(() => status(call, 503));
    const { next, sentAt } = attempts(call, ...errors);
    const result = failure(step.retry(call, next));
    await vi.advanceTimersByTimeAsync(10_000);
    expect(await result).toBe(errors[2]);
    expect(sentAt).toEqual([0, 500, 1_500]);
  });

  it('never retries a 404, an invalid body, an abort or a final error', async () => {
    const { call: c } = harness();
    const context = { url: c.url, attempts: [] };
    for (const error of [
      status(c, 404),
      new ResponseValidationError([], '', 200, new Headers(), context),
      new APIUserAbortError('aborted', context),
      markFinal(new APIConnectionError('middleware threw', context)),
    ]) {
      const { call } = harness();
      const { next } = attempts(call, error);
      expect(await failure(step.retry(call, next)), error.name).toBe(error);
      expect(next).toHaveBeenCalledOnce();
    }
  });

  it('refuses a retry whose wait would end past the deadline, at once, with the last error as cause', async () => {
    const { call } = harness({ settings: { deadlineMs: 300 } });
    waitsOf(call).start(call);
    const last = status(call, 500);
    const { next } = attempts(call, last);
    const before = Date.now();
    const error = await failure(step.retry(call, next));
    expect(Date.now()).toBe(before);
    expect(error).toBeInstanceOf(APIConnectionTimeoutError);
    expect(error.message).toContain('exceeded its deadline of 300 ms');
    expect(error.cause).toBe(last);
    expect(next).toHaveBeenCalledOnce();
  });

  it('waits out a scope pause longer than its backoff, as a rate-limit wait', async () => {
    const { call, scope } = harness();
    const { next, sentAt } = attempts(call, status(call, 500), 'ok');
    const failed = next.getMockImplementation()!;
    next.mockImplementationOnce(async () => {
      scope.pause(2_000); // another call's 429 during this attempt
      return failed();
    });
    const result = step.retry(call, next);
    await vi.advanceTimersByTimeAsync(3_000);
    await result;
    expect(sentAt).toEqual([0, 2_000]);
    expect(call.attempts[0]).toMatchObject({ delayMs: 2_000, delaySource: 'rate-limit' });
  });

  it('stops retrying when the retry budget is spent, and says so at warn; a success refunds it', async () => {
    const budget = { capacity: 5, retryCost: 5, timeoutCost: 10 };
    const { call, scope, logs } = harness({ budget });
    const { next } = attempts(call, status(call, 500), status(call, 500), 'ok');
    const result = failure(step.retry(call, next));
    await vi.advanceTimersByTimeAsync(10_000);
    expect(await result).toBeInstanceOf(APIError);
    expect(next).toHaveBeenCalledTimes(2);
    expect(scope.budgetTokens()).toBe(0);
    expect(logs.filter((l) => l.level === 'warn').map((l) => l.message)).toEqual([
      'chatdash-client: retry budget exhausted: not retrying',
    ]);

    const ok = harness({ budget });
    ok.scope.payRetry(false);
    await step.retry(ok.call, attempts(ok.call, 'ok').next);
    expect(ok.scope.budgetTokens()).toBe(1);
  });

  it('rejects at once with APIUserAbortError when the caller aborts during the backoff', async () => {
    const controller = new AbortController();
    const { call } = harness({ settings: { signal: controller.signal } });
    const { next } = attempts(call, status(call, 500));
    const result = failure(step.retry(call, next));
    await vi.advanceTimersByTimeAsync(100);
    controller.abort();
    expect(await result).toBeInstanceOf(APIUserAbortError);
    expect(next).toHaveBeenCalledOnce();
  });
});
