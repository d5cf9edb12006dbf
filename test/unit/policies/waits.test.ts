import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { timersClock } from '../../../src/coordination/clock.js';
import {
  APIConnectionTimeoutError,
  APIUserAbortError,
  InternalServerError,
} from '../../../src/errors.js';
import { run } from '../../../src/pipeline.js';
import { isFinal, markFinal } from '../../../src/policies/waits.js';
import { apiKey, failure, makeCall, outcome, step, waitsOf } from '../../helpers/call.js';

beforeEach(() => void vi.useFakeTimers());
afterEach(() => void vi.useRealTimers());

const clock = timersClock(() => Date.now());

describe('the deadline', () => {
  it('starts on the client clock when the call starts, and is absent without deadlineMs', () => {
    const timed = makeCall({ clock, settings: { deadlineMs: 1_500 } }).call;
    waitsOf(timed).start(timed);
    expect(timed.deadlineAt).toBe(Date.now() + 1_500);
    vi.advanceTimersByTime(400);
    expect(waitsOf(timed).timeLeft(timed)).toBe(1_100);

    const open = makeCall({ clock }).call;
    waitsOf(open).start(open);
    expect(open.deadlineAt).toBeUndefined();
    expect(waitsOf(open).timeLeft(open)).toBe(Infinity);
  });

  it('refuses a wait that would end past it at once, instead of waiting only to fail', async () => {
    const { call } = makeCall({ clock, settings: { deadlineMs: 300 } });
    waitsOf(call).start(call);
    const before = Date.now();
    const last = new InternalServerError(500, new Headers(), {}, '500', {
      url: call.url,
      attempts: [],
    });
    const error = await failure(waitsOf(call).wait(call, 500, last));
    expect(Date.now()).toBe(before);
    expect(error).toBeInstanceOf(APIConnectionTimeoutError);
    expect(error.message).toBe(`Request exceeded its deadline of 300 ms: GET ${call.url}`);
    expect(error.cause).toBe(last);
    expect(isFinal(error)).toBe(true);
  });

  it('waits out a wait that ends before it', async () => {
    const { call } = makeCall({ clock, settings: { deadlineMs: 300 } });
    waitsOf(call).start(call);
    let done = false;
    const waited = waitsOf(call)
      .wait(call, 250)
      .then(() => (done = true));
    await vi.advanceTimersByTimeAsync(249);
    expect(done).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    await waited;
    expect(done).toBe(true);
  });

  it('refuses a rate-limit pause that would end past it, sending nothing', async () => {
    const { call, scope } = makeCall({ clock, settings: { deadlineMs: 300 } });
    waitsOf(call).start(call);
    scope.pause(500);
    const next = vi.fn(async () => outcome(call));
    const error = await failure(step.pause(call, next));
    expect(error).toBeInstanceOf(APIConnectionTimeoutError);
    expect(error.message).toContain('exceeded its deadline of 300 ms');
    expect(next).not.toHaveBeenCalled();
  });
});

describe('the deadline step', () => {
  it('sends while time is left', async () => {
    const { call } = makeCall({ clock, settings: { deadlineMs: 1_000 } });
    waitsOf(call).start(call);
    const next = vi.fn(async () => outcome(call));
    await expect(run([step.deadline], call, next)).resolves.toMatchObject({
      text: '{"_id":"conv_1"}',
    });
    expect(next).toHaveBeenCalledOnce();
  });

  it('sends no attempt once the deadline has passed, with a final error that is not retried', async () => {
    const { call } = makeCall({ clock, settings: { deadlineMs: 1_000 } });
    waitsOf(call).start(call);
    vi.advanceTimersByTime(1_000);
    const next = vi.fn(async () => outcome(call));
    const error = await failure(run([step.deadline], call, next));
    expect(error).toBeInstanceOf(APIConnectionTimeoutError);
    expect(error.message).toBe(`Request exceeded its deadline of 1000 ms: GET ${call.url}`);
    expect(isFinal(error)).toBe(true);
    expect(next).not.toHaveBeenCalled();
  });

  it('sends no attempt after the caller aborted; the reason is kept without the key', async () => {
    const controller = new AbortController();
    controller.abort(new Error(`stop ${apiKey}`));
    const { call } = makeCall({ clock, settings: { signal: controller.signal } });
    const next = vi.fn(async () => outcome(call));
    const error = await failure(run([step.deadline], call, next));
    expect(error).toBeInstanceOf(APIUserAbortError);
    expect((error.cause as Error).message).toBe('stop [redacted]');
    expect(next).not.toHaveBeenCalled();
  });

  it('marks an error final only when asked', () => {
    const plain = new Error('x');
    expect(isFinal(plain)).toBe(false);
    expect(markFinal(plain)).toBe(plain);
    expect(isFinal(plain)).toBe(true);
    expect(isFinal(undefined)).toBe(false);
  });
});

describe('watch: an answer from the coordinator, waited for within the call', () => {
  const never = new Promise<number>(() => {});

  it('ends at the deadline with the deadline error, however long the answer takes', async () => {
    const { call } = makeCall({ clock, settings: { deadlineMs: 400 } });
    waitsOf(call).start(call);
    const watched = waitsOf(call).watch(call, never);
    const settled = expect(watched).rejects.toBeInstanceOf(APIConnectionTimeoutError);
    vi.advanceTimersByTime(399);
    await Promise.resolve();
    vi.advanceTimersByTime(1);
    await settled;
    expect(isFinal(await watched.catch((e: unknown) => e))).toBe(true);
  });

  it('ends at once on an abort', async () => {
    const controller = new AbortController();
    const { call } = makeCall({ clock, settings: { signal: controller.signal } });
    const watched = waitsOf(call).watch(call, never);
    controller.abort();
    await expect(watched).rejects.toBeInstanceOf(APIUserAbortError);
  });

  it('hands on an answer that comes in time, and its failure, and leaves no timer behind', async () => {
    const { call } = makeCall({ clock, settings: { deadlineMs: 400 } });
    waitsOf(call).start(call);
    await expect(waitsOf(call).watch(call, Promise.resolve(7))).resolves.toBe(7);
    await expect(waitsOf(call).watch(call, Promise.reject(new Error('local')))).rejects.toThrow(
      'local',
    );
    expect(vi.getTimerCount()).toBe(0);
    const open = makeCall({ clock }).call;
    const answer = Promise.resolve(1);
    expect(waitsOf(open).watch(open, answer)).toBe(answer); // nothing to watch for: no promise, no timer
  });
});
