import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { timersClock } from '../../../src/coordination/clock.js';
import { MemoryCoordinator } from '../../../src/coordination/memory.js';
import { APIError, CircuitOpenError } from '../../../src/errors.js';
import { run, type Outcome } from '../../../src/pipeline.js';
import { makeCall, outcome, type Harness, step } from '../../helpers/call.js';

beforeEach(() => void vi.useFakeTimers());
afterEach(() => void vi.useRealTimers());

const clock = timersClock(() => Date.now());
const circuitBreaker = { failureThreshold: 2, openMs: 1_000 };

/** Calls of one scope; `messages(level)` reads what the log of any of them wrote. */
function scope() {
  const coordinator = new MemoryCoordinator(clock);
  const made: Harness[] = [];
  const call = () => {
    const h = makeCall({ clock, coordinator, circuitBreaker });
    made.push(h);
    return h;
  };
  const messages = (level: string) =>
    made.flatMap((h) => h.logs.filter((l) => l.level === level).map((l) => l.message));
  return Object.assign(call, { messages });
}

/** One attempt through the breaker that ends with `status` (200: success). */
function attempt(h: Harness, status: number, headers: Record<string, string> = {}) {
  // An attempt that was sent leaves its record (what the observe step does in the real list).
  const next = vi.fn(async (): Promise<Outcome> => {
    h.call.attempts.push({ attempt: h.call.n, status, durationMs: 1 });
    return status === 200
      ? outcome(h.call)
      : Promise.reject(
          APIError.from(status, '', new Headers(headers), {}, { url: h.call.url, attempts: [] }),
        );
  });
  // Through the runner: an open circuit throws before any await, and the runner makes that a rejection.
  return { result: run([step.breaker], h.call, next).catch((e: unknown) => e), next };
}

describe('the breaker step', () => {
  it('opens after failureThreshold failures in a row, then refuses at once, sending nothing', async () => {
    const call = scope();
    await attempt(call(), 500).result;
    await attempt(call(), 502).result;
    const refused = attempt(call(), 200);
    const error = (await refused.result) as CircuitOpenError;
    expect(error).toBeInstanceOf(CircuitOpenError);
    expect(error.retryAfterMs).toBe(1_000);
    expect(error.message).toMatch(/^Circuit open: GET .* not sent; retry after 1000 ms$/);
    expect(refused.next).not.toHaveBeenCalled();
    expect(call.messages('warn')).toEqual([
      'chatdash-client: circuit opened: calls fail fast for 1000 ms',
    ]);
  });

  it('lets one probe through after openMs, refusing the rest until it ends; its success closes the circuit', async () => {
    const call = scope();
    await attempt(call(), 500).result;
    await attempt(call(), 500).result;
    vi.advanceTimersByTime(1_000);

    let answer!: (o: Outcome) => void;
    const probe = call();
    const probing = run(
      [step.breaker],
      probe.call,
      () => new Promise<Outcome>((r) => (answer = r)),
    );
    const during = attempt(call(), 200);
    expect(await during.result).toBeInstanceOf(CircuitOpenError);
    expect(during.next).not.toHaveBeenCalled();
    answer(outcome(probe.call));
    await probing;

    const after = attempt(call(), 200);
    expect(await after.result).toMatchObject({ response: { status: 200 } });
    expect(call.messages('info')).toEqual([
      'chatdash-client: circuit closed: calls go through again',
    ]);
  });

  it('counts a 4xx (429 included) as a live upstream, and a 503 asking for a wait as neither', async () => {
    const reset = scope();
    for (const status of [500, 429, 500]) await attempt(reset(), status).result;
    expect(await attempt(reset(), 200).result).not.toBeInstanceOf(CircuitOpenError);

    const neutral = scope();
    await attempt(neutral(), 500).result;
    await attempt(neutral(), 503, { 'retry-after': '1' }).result;
    await attempt(neutral(), 500).result;
    expect(await attempt(neutral(), 200).result).toBeInstanceOf(CircuitOpenError);
  });
});
