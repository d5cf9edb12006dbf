/**
 * The send rate (`rateLimit`) on its own, with an explicit clock: no network, no timers.
 */
import { describe, expect, it } from 'vitest';
import { checkRateLimit } from '../../src/coordination/options.js';
import { RateLimiter } from '../../src/coordination/rate-limiter.js';

const t0 = 1_000_000;

/** `rateLimit` as the client fills it in. */
function numbers(options: { perSecond: number; burst?: number; adaptive?: boolean }) {
  const filled = checkRateLimit(options, 'test');
  if (!filled) throw new Error('expected rate numbers');
  return filled;
}

function rate(perSecond: number, extra: { burst?: number; adaptive?: boolean } = {}, now = t0) {
  return new RateLimiter(numbers({ perSecond, ...extra }), now);
}

/** Takes one slot after another; how many start within `ms` of `from` (a slot on the edge counts). */
function slotsWithin(send: RateLimiter, ms: number, from = t0): number {
  let n = 0;
  while (send.take(from) <= ms + 1e-6) n++;
  return n;
}

describe('RateLimiter', () => {
  it('defaults the burst to a tenth of perSecond, at least 1', () => {
    expect(numbers({ perSecond: 100 }).burst).toBe(10);
    expect(numbers({ perSecond: 5 }).burst).toBe(1);
    expect(numbers({ perSecond: 0.5 }).burst).toBe(1);
    expect(numbers({ perSecond: 100, burst: 3 }).burst).toBe(3);
  });

  it('sends the burst at once, then one slot per interval', () => {
    const send = rate(100);
    for (let i = 0; i < 10; i++) expect(send.take(t0)).toBe(0);
    expect(send.take(t0)).toBeCloseTo(10, 6);
    expect(send.take(t0)).toBeCloseTo(20, 6);
    expect(send.take(t0 + 15)).toBeCloseTo(15, 6); // its slot is t0 + 30
  });

  it('hands out perSecond slots a second plus the burst, however many ask', () => {
    expect(slotsWithin(rate(100), 5_000)).toBe(100 * 5 + 10);
    expect(slotsWithin(rate(7), 3_000)).toBe(7 * 3 + 1);
  });

  it('keeps no more than the burst after a quiet spell', () => {
    const send = rate(100);
    slotsWithin(send, 1_000);
    // An hour later the scope may send its burst again, not an hour's worth.
    expect(slotsWithin(send, 1, t0 + 3_600_000)).toBe(10);
  });

  it('lets a process take several slots at once and schedules the next after them', () => {
    const send = rate(100, { burst: 1 });
    expect(send.take(t0, 5)).toBe(0);
    expect(send.take(t0)).toBeCloseTo(50, 6);
  });

  it('never halves without adaptive', () => {
    const send = rate(100);
    expect(send.halve(t0)).toBe(false);
    expect(send.rate).toBe(100);
    expect(send.generation).toBe(0);
  });

  it('halves on a 429 at most once a second: a burst of 429s is one signal', () => {
    const send = rate(100, { adaptive: true });
    expect(send.halve(t0)).toBe(true);
    expect(send.rate).toBe(50);
    expect(send.halve(t0 + 10)).toBe(false);
    expect(send.halve(t0 + 999)).toBe(false);
    expect(send.rate).toBe(50);
    expect(send.halve(t0 + 1_500)).toBe(true);
    expect(send.rate).toBe(25);
  });

  it('never halves below 1/s, nor above a perSecond set under 1/s', () => {
    const send = rate(4, { adaptive: true });
    for (let i = 0; i < 5; i++) send.halve(t0 + i * 1_000);
    expect(send.rate).toBe(1);
    const slow = rate(0.5, { adaptive: true });
    slow.halve(t0);
    expect(slow.rate).toBe(0.5);
  });

  it('drops the slots handed out at the old rate and sends no burst right after a halving', () => {
    const send = rate(100, { adaptive: true });
    let last = 0;
    for (let i = 0; i < 40; i++) last = send.take(t0);
    expect(last).toBeCloseTo(300, 6); // reserved up to t0 + 300 at 100/s
    const generation = send.generation;
    expect(send.halve(t0 + 1)).toBe(true);
    expect(send.generation).toBe(generation + 1);
    // The next slot is one interval at 50/s away, not after the 30 reserved ones.
    expect(send.take(t0 + 1)).toBeCloseTo(20, 6);
    expect(send.take(t0 + 1)).toBeCloseTo(40, 6);
  });

  it('lets the burst follow the current rate', () => {
    const send = rate(100, { adaptive: true });
    send.halve(t0);
    // 0.9 s later (no climb yet): a burst of 5 at 50/s, then 20 ms apart.
    const at = t0 + 900;
    for (let i = 0; i < 5; i++) expect(send.take(at)).toBe(0);
    expect(send.take(at)).toBeCloseTo(20, 6);
  });

  it('adds perSecond / 20 for each second without a 429, up to perSecond', () => {
    const send = rate(100, { adaptive: true });
    send.halve(t0);
    send.take(t0 + 999);
    expect(send.rate).toBe(50);
    send.take(t0 + 1_000);
    expect(send.rate).toBe(55);
    send.take(t0 + 3_500);
    expect(send.rate).toBe(65);
    send.take(t0 + 60_000);
    expect(send.rate).toBe(100);
  });

  it('starts the quiet second over on a 429 that does not halve', () => {
    const send = rate(100, { adaptive: true });
    send.halve(t0);
    expect(send.halve(t0 + 900)).toBe(false);
    send.take(t0 + 1_800);
    expect(send.rate).toBe(50);
    send.take(t0 + 1_900);
    expect(send.rate).toBe(55);
  });
});
