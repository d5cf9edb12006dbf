/**
 * One clock: every wait of a call (the backoff, the shared pause, the send
 * slot) and every timer it races (the attempt's timeout) runs on the clock
 * the client context was made with. With a clock of the test's own, no global
 * timer is set, and time moves only when the test moves it; this is what lets
 * `npm run fleet:sim` run the steps on simulated time without patching a global.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { makeClock, type ClockTimer } from '../../src/coordination/clock.js';
import { APIError } from '../../src/errors.js';
import type { Call, Outcome } from '../../src/pipeline.js';
import { makeCall, never, outcome, step } from '../helpers/call.js';

interface Pending {
  at: number;
  run: () => void;
  cancelled: boolean;
}

/** A clock whose time moves only by `advance`, with its own list of timers. */
function manualClock() {
  let now = 1_000;
  const pending: Pending[] = [];
  const clock = makeClock(
    () => now,
    (ms, fn, arg) => {
      const timer: Pending = { at: now + ms, run: () => fn(arg), cancelled: false };
      pending.push(timer);
      return timer;
    },
    (timer: ClockTimer) => void ((timer as Pending).cancelled = true),
  );
  const waiting = () => pending.filter((t) => !t.cancelled).map((t) => t.at - now);
  const advance = async (ms: number) => {
    now += ms;
    for (const timer of pending.filter((t) => !t.cancelled && t.at <= now)) {
      timer.cancelled = true;
      timer.run();
    }
    for (let i = 0; i < 10; i++) await Promise.resolve();
  };
  return { clock, waiting, advance };
}

const flush = async () => {
  for (let i = 0; i < 10; i++) await Promise.resolve();
};

function status(call: Call, code: number, headers: Record<string, string> = {}) {
  return APIError.from(code, '', new Headers(headers), {}, { url: call.url, attempts: [] });
}

beforeEach(() => {
  // Any global timer a step set would show up in vi.getTimerCount().
  vi.useFakeTimers();
});
afterEach(() => vi.useRealTimers());

describe('makeClock', () => {
  it('sleeps on its own timer and, on an abort, rejects at once with the reason and cancels it', async () => {
    const { clock, waiting, advance } = manualClock();
    const slept = vi.fn();
    void clock.sleep(250, undefined).then(slept);
    expect(waiting()).toEqual([250]);
    await advance(249);
    expect(slept).not.toHaveBeenCalled();
    await advance(1);
    expect(slept).toHaveBeenCalledOnce();

    const controller = new AbortController();
    const aborted = clock.sleep(1_000, controller.signal);
    controller.abort(new Error('stop'));
    await expect(aborted).rejects.toThrow('stop');
    expect(waiting()).toEqual([]);
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe('the steps wait on the client clock, never on a global timer', () => {
  it('retry: the backoff is a sleep on the client clock', async () => {
    const { clock, waiting, advance } = manualClock();
    const { call } = makeCall({ clock });
    let sent = 0;
    const next = async (): Promise<Outcome> => {
      call.attempts.push({ attempt: call.n, durationMs: 1 });
      if (sent++ === 0) throw status(call, 503);
      return outcome(call);
    };
    const result = step.retry(call, next);
    await flush();
    // The first backoff: 500 ms less up to 25 % jitter.
    expect(waiting()).toHaveLength(1);
    expect(waiting()[0]).toBeGreaterThanOrEqual(375);
    expect(waiting()[0]).toBeLessThanOrEqual(500);
    expect(vi.getTimerCount()).toBe(0);
    await advance(500);
    await expect(result).resolves.toMatchObject({ response: { status: 200 } });
    expect(sent).toBe(2);
  });

  it('pause: a scope paused for 300 ms holds the attempt on the client clock', async () => {
    const { clock, waiting, advance } = manualClock();
    const { call, scope } = makeCall({ clock });
    scope.pause(300);
    const next = vi.fn(async () => outcome(call));
    const result = step.pause(call, next);
    await flush();
    expect(waiting()).toEqual([300]);
    expect(vi.getTimerCount()).toBe(0);
    expect(next).not.toHaveBeenCalled();
    await advance(300);
    await expect(result).resolves.toBeDefined();
    expect(next).toHaveBeenCalledOnce();
  });

  it("timeout: the attempt's timer is the client clock's", async () => {
    const { clock, waiting, advance } = manualClock();
    const { call } = makeCall({ clock, settings: { timeoutMs: 2_000 } });
    const result = step.timeout(call, never);
    result.catch(() => {});
    expect(waiting()).toEqual([2_000]);
    expect(vi.getTimerCount()).toBe(0);
    await advance(2_000);
    await expect(result).rejects.toThrow('timed out after 2000 ms');
  });
});
