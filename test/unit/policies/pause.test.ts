import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { timersClock } from '../../../src/coordination/clock.js';
import { MemoryCoordinator } from '../../../src/coordination/memory.js';
import { APIError, APIUserAbortError, RateLimitError } from '../../../src/errors.js';
import type { Call } from '../../../src/pipeline.js';
import { failure, makeCall, outcome, step } from '../../helpers/call.js';

beforeEach(() => void vi.useFakeTimers());
afterEach(() => void vi.useRealTimers());

const clock = timersClock(() => Date.now());

/** What a failed attempt with `status` and `headers` rejects with. */
function answered(call: Call, status: number, headers: Record<string, string> = {}) {
  return APIError.from(status, '', new Headers(headers), {}, { url: call.url, attempts: [] });
}

describe('the pause step', () => {
  it('sends at once when the scope is not paused', async () => {
    const { call } = makeCall({ clock });
    const next = vi.fn(async () => outcome(call));
    await step.pause(call, next);
    expect(next).toHaveBeenCalledOnce();
    expect(call.heldMs).toBe(0);
    expect(call.heldSource).toBeUndefined();
  });

  it('re-reads a pause another call extends: held by 200 ms, extended to 600 ms, sent at 600 ms', async () => {
    const coordinator = new MemoryCoordinator(clock);
    const start = Date.now();
    // Already in flight when the pause starts; its own 429 at 100 ms asks for 500 ms more.
    const inFlight = makeCall({ clock, coordinator });
    const extending = failure(
      step.pause(inFlight.call, () => {
        const error = answered(inFlight.call, 429, { 'retry-after-ms': '500' });
        return new Promise((_, reject) => setTimeout(() => reject(error), 100));
      }),
    );
    // A 429 asking for 200 ms pauses the whole scope.
    const first = makeCall({ clock, coordinator });
    const error = await failure(
      step.pause(first.call, () =>
        Promise.reject(answered(first.call, 429, { 'retry-after-ms': '200' })),
      ),
    );
    expect(error).toBeInstanceOf(RateLimitError);
    expect(first.scope.pausedFor()).toBe(200);

    const held = makeCall({ clock, coordinator });
    let sentAt: number | undefined;
    const sent = step.pause(held.call, async () => {
      sentAt = Date.now() - start;
      return outcome(held.call);
    });
    await vi.advanceTimersByTimeAsync(100);
    expect(await extending).toBeInstanceOf(RateLimitError);
    expect(held.scope.pausedFor()).toBe(500);
    await vi.advanceTimersByTimeAsync(150); // past the first 200 ms: still held
    expect(sentAt).toBeUndefined();
    await vi.advanceTimersByTimeAsync(1_000);
    await sent;
    expect(sentAt).toBe(600);
    expect(held.call.heldMs).toBe(600);
    expect(held.call.heldSource).toBe('rate-limit');
  });

  it('pauses the whole scope after a 429 that asks for a wait, and says so once at warn', async () => {
    const { call, scope, logs } = makeCall({ clock });
    await failure(
      step.pause(call, () => Promise.reject(answered(call, 429, { 'retry-after': '2' }))),
    );
    expect(scope.pausedFor()).toBe(2_000);
    const warnings = logs.filter((l) => l.level === 'warn');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]?.message).toContain('rate limited: holding every request for 2000 ms');
    expect(warnings[0]?.fields).toMatchObject({ status: 429, delayMs: 2_000 });
  });

  it('pauses after a 503 that asks for a wait, but not after a 500 that does, nor a 429 asking for 0 ms', async () => {
    const unavailable = makeCall({ clock });
    await failure(
      step.pause(unavailable.call, () =>
        Promise.reject(answered(unavailable.call, 503, { 'retry-after-ms': '300' })),
      ),
    );
    expect(unavailable.scope.pausedFor()).toBe(300);

    for (const [status, wait] of [
      [500, '300'],
      [429, '0'],
    ] as const) {
      const { call, scope, logs } = makeCall({ clock });
      await failure(
        step.pause(call, () => Promise.reject(answered(call, status, { 'retry-after-ms': wait }))),
      );
      expect(scope.pausedFor(), `${status} asking for ${wait} ms`).toBe(0);
      expect(logs.filter((l) => l.level === 'warn')).toEqual([]);
    }
  });

  it('puts a wait before attempt 2 on the record of attempt 1', async () => {
    const { call, scope } = makeCall({ clock });
    call.attempts.push({
      attempt: 1,
      status: 500,
      durationMs: 3,
      delayMs: 100,
      delaySource: 'backoff',
    });
    call.n = 2;
    scope.pause(250);
    const sent = step.pause(call, async () => outcome(call));
    await vi.advanceTimersByTimeAsync(250);
    await sent;
    expect(call.attempts[0]).toMatchObject({ delayMs: 350, delaySource: 'rate-limit' });
    expect(call.heldMs).toBe(0);
  });

  it('rejects at once with APIUserAbortError when the caller aborts while held, sending nothing', async () => {
    const controller = new AbortController();
    const { call, scope } = makeCall({ clock, settings: { signal: controller.signal } });
    scope.pause(10_000);
    const next = vi.fn(async () => outcome(call));
    const result = failure(step.pause(call, next));
    await vi.advanceTimersByTimeAsync(50);
    controller.abort();
    const error = await result;
    expect(error).toBeInstanceOf(APIUserAbortError);
    expect(next).not.toHaveBeenCalled();
    expect(call.attempts).toEqual([]);
  });
});
