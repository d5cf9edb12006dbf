/**
 * The shared rate-limit gate on its own, with an explicit clock: no network, no timers.
 */
import { describe, expect, it } from 'vitest';
import { RateLimitGate } from '../../src/coordination/pause-gate.js';

const t0 = 1_000_000;

describe('RateLimitGate', () => {
  it('holds nothing until a server asks for a pause', () => {
    expect(new RateLimitGate().remaining(t0)).toBe(0);
  });

  it('holds every attempt until the moment the server named, counting down', () => {
    const gate = new RateLimitGate();
    expect(gate.pause(1_000, t0)).toBe(true);
    expect(gate.remaining(t0)).toBe(1_000);
    expect(gate.remaining(t0 + 400)).toBe(600);
    expect(gate.remaining(t0 + 1_000)).toBe(0);
    expect(gate.remaining(t0 + 5_000)).toBe(0);
  });

  it('lets a later moment extend the pause, and never shortens it', () => {
    const gate = new RateLimitGate();
    gate.pause(1_000, t0);
    expect(gate.pause(200, t0 + 100)).toBe(false);
    expect(gate.remaining(t0 + 100)).toBe(900);
    expect(gate.pause(2_000, t0 + 500)).toBe(true);
    expect(gate.remaining(t0 + 500)).toBe(2_000);
  });

  it('treats a zero wait as no pause (a retry-after-ms: 0 is not worth a warning)', () => {
    const gate = new RateLimitGate();
    expect(gate.pause(0, t0)).toBe(false);
    expect(gate.remaining(t0)).toBe(0);
  });
});
