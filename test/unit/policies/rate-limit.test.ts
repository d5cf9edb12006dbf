import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { timersClock } from '../../../src/coordination/clock.js';
import type { RateNumbers } from '../../../src/coordination/coordinator.js';
import { MemoryCoordinator } from '../../../src/coordination/memory.js';
import { APIConnectionTimeoutError, APIError } from '../../../src/errors.js';
import { failure, makeCall, outcome, type CallOptions, step, waitsOf } from '../../helpers/call.js';

beforeEach(() => void vi.useFakeTimers());
afterEach(() => void vi.useRealTimers());

const clock = timersClock(() => Date.now());
const tenPerSecond = { perSecond: 10, burst: 1, adaptive: false };

/** Calls of one scope (one coordinator), as one client's calls are. */
function scopeOf(rateLimit: RateNumbers) {
  const coordinator = new MemoryCoordinator(clock);
  return (options: CallOptions = {}) => makeCall({ clock, coordinator, rateLimit, ...options });
}

describe('the rateLimit step', () => {
  it('holds an attempt until its send slot, as a "throttle" wait', async () => {
    const call = scopeOf(tenPerSecond);
    const start = Date.now();
    const sentAt: number[] = [];
    const send = (h: ReturnType<typeof call>) =>
      step.rateLimit(h.call, async () => {
        sentAt.push(Date.now() - start);
        return outcome(h.call);
      });
    const first = call();
    const second = call();
    const both = Promise.all([send(first), send(second)]);
    await vi.advanceTimersByTimeAsync(100);
    await both;
    expect(sentAt).toEqual([0, 100]);
    expect(first.call.heldSource).toBeUndefined();
    expect(second.call).toMatchObject({ heldMs: 100, heldSource: 'throttle' });
  });

  it('refuses a slot that would come after the deadline, at once, sending nothing', async () => {
    const call = scopeOf(tenPerSecond);
    await step.rateLimit(call().call, async () => outcome(call().call));
    const late = call({ settings: { deadlineMs: 50 } });
    waitsOf(late.call).start(late.call);
    const next = vi.fn(async () => outcome(late.call));
    const error = await failure(step.rateLimit(late.call, next));
    expect(error).toBeInstanceOf(APIConnectionTimeoutError);
    expect(error.message).toContain('exceeded its deadline of 50 ms');
    expect(next).not.toHaveBeenCalled();
  });

  it('halves an adaptive rate after a 429, and not after a 500', async () => {
    const waitsAfter = async (status: number) => {
      const call = scopeOf({ ...tenPerSecond, adaptive: true });
      const { call: failed, scope } = call();
      await failure(
        step.rateLimit(failed, () =>
          Promise.reject(
            APIError.from(status, '', new Headers(), {}, { url: failed.url, attempts: [] }),
          ),
        ),
      );
      return [scope.rateLimitSlot(), scope.rateLimitSlot()];
    };
    expect(await waitsAfter(500)).toEqual([100, 200]); // 10 a second
    expect(await waitsAfter(429)).toEqual([200, 400]); // 5 a second, from one new interval on: no burst after a halving
  });
});
