import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { timersClock } from '../../../src/coordination/clock.js';
import { APIConnectionTimeoutError, APIUserAbortError } from '../../../src/errors.js';
import { isFinal } from '../../../src/policies/waits.js';
import type { Call } from '../../../src/pipeline.js';
import { failure, makeCall, never, outcome, step, waitsOf } from '../../helpers/call.js';

beforeEach(() => void vi.useFakeTimers());
afterEach(() => void vi.useRealTimers());

const clock = timersClock(() => Date.now());
/** The signal of the attempt's abort (a client with a plain fetch makes AbortControllers). */
const attemptSignal = (call: Call) => (call.abort as AbortController | undefined)?.signal;

describe('the timeout step', () => {
  it('rejects with APIConnectionTimeoutError after timeoutMs and aborts the attempt signal', async () => {
    const { call } = makeCall({ clock, settings: { timeoutMs: 100 } });
    const result = failure(step.timeout(call, never));
    const signal = attemptSignal(call)!;
    expect(signal.aborted).toBe(false);
    await vi.advanceTimersByTimeAsync(99);
    expect(signal.aborted).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    const error = await result;
    expect(error).toBeInstanceOf(APIConnectionTimeoutError);
    expect(error.message).toBe(`Request timed out after 100 ms: GET ${call.url}`);
    expect(isFinal(error)).toBe(false); // a timed-out attempt is retried
    expect(signal.aborted).toBe(true);
  });

  it('gives a fresh signal to every attempt', async () => {
    const { call } = makeCall({ clock, settings: { timeoutMs: 100 } });
    const first = failure(step.timeout(call, never));
    const firstSignal = attemptSignal(call);
    await vi.advanceTimersByTimeAsync(100);
    await first;
    await step.timeout(call, async () => outcome(call));
    expect(attemptSignal(call)).not.toBe(firstSignal);
    expect(attemptSignal(call)?.aborted).toBe(false);
  });

  it('throws the deadline error, final, when the deadline comes before the timeout', async () => {
    const { call } = makeCall({ clock, settings: { timeoutMs: 1_000, deadlineMs: 250 } });
    waitsOf(call).start(call);
    const result = failure(step.timeout(call, never));
    await vi.advanceTimersByTimeAsync(250);
    const error = await result;
    expect(error).toBeInstanceOf(APIConnectionTimeoutError);
    expect(error.message).toBe(`Request exceeded its deadline of 250 ms: GET ${call.url}`);
    expect(isFinal(error)).toBe(true);
    expect(attemptSignal(call)?.aborted).toBe(true);
  });

  it('rejects at once with APIUserAbortError when the caller aborts, passing the reason to the transport', async () => {
    const controller = new AbortController();
    const { call } = makeCall({ clock, settings: { signal: controller.signal } });
    const result = failure(step.timeout(call, never));
    const reason = new Error('caller gave up');
    controller.abort(reason);
    expect(await result).toBeInstanceOf(APIUserAbortError);
    expect(attemptSignal(call)?.aborted).toBe(true);
    expect(attemptSignal(call)?.reason).toBe(reason);
  });

  it('sends nothing when the caller has already aborted', async () => {
    const { call } = makeCall({ clock, settings: { signal: AbortSignal.abort() } });
    const next = vi.fn(never);
    expect(await failure(step.timeout(call, next))).toBeInstanceOf(APIUserAbortError);
    expect(next).not.toHaveBeenCalled();
  });

  it('passes the outcome and the transport error through, leaving no timer or listener behind', async () => {
    const controller = new AbortController();
    const listen = vi.spyOn(controller.signal, 'addEventListener');
    const unlisten = vi.spyOn(controller.signal, 'removeEventListener');
    const { call } = makeCall({ clock, settings: { signal: controller.signal } });
    const ok = outcome(call);
    await expect(step.timeout(call, async () => ok)).resolves.toBe(ok);
    expect(vi.getTimerCount()).toBe(0);
    const broken = new Error('reset');
    expect(await failure(step.timeout(call, () => Promise.reject(broken)))).toBe(broken);
    expect(vi.getTimerCount()).toBe(0);
    expect(listen).toHaveBeenCalledTimes(2);
    expect(unlisten).toHaveBeenCalledTimes(2);
    expect(attemptSignal(call)?.aborted).toBe(false);
  });
});
