/**
 * `rateLimit` across the fleet: one GCRA per scope in Redis, on Redis's own
 * clock. A process reserves a few consecutive slots at a time (as many as it
 * has attempts waiting, at most a tenth of the rate) and hands them out
 * locally, each attempt waiting for its own slot's moment; so the round trips
 * grow with the rate, not with the number of calls.
 *
 * With `adaptive`, a 429 halves the scope's rate in Redis and bumps a
 * generation that every process hears: slots reserved at the old rate are
 * dropped. While Redis is away, a process sends at its share of the last rate
 * it saw: that rate divided by the processes it last saw (each reservation is
 * also a heartbeat), at least 1/s.
 */
import type { RateNumbers } from './coordinator.js';
import { SendRate } from './rate.js';
import { numbers, oneNumber } from './redis-replies.js';
import type { SharedScope } from './redis-scope.js';

/** What `slots` answers: first slot's wait, interval, generation, rate, processes. */
type Slots = [number, number, number, number, number];

/** A process reserves at most this share of the rate at a time. */
const SLOT_SHARE = 0.1;
/** A process that reserved nothing for this long no longer counts toward the fleet. */
const SEEN_WINDOW_MS = 10_000;
/** A reserved slot this far in the past is not used. */
const STALE_MS = 500;

export class SharedRate {
  readonly #scope: SharedScope;
  readonly #numbers: RateNumbers;
  /** Reserved slots not yet handed out, as moments on the local clock, in order. */
  #slots: number[] = [];
  #waiting: ((ms: number) => void)[] = [];
  #fetching = false;
  /** Slots asked for since the last reservation, and how many that one took. */
  #demand = 0;
  #batch = 1;
  /** Drops of the rate this process has heard of, and the scope's generation in Redis as last heard. */
  #generation = 0;
  #heard = 0;
  /** The scope's rate and the processes in it, as last seen. */
  #rate: number;
  #processes = 1;
  #fallback: SendRate | undefined;
  #fallbackShare = 0;

  constructor(scope: SharedScope, numbers: RateNumbers) {
    this.#scope = scope;
    this.#numbers = numbers;
    this.#rate = numbers.perSecond;
  }

  /** Milliseconds until this attempt's slot. */
  take(): number | Promise<number> {
    if (!this.#scope.link.up) return this.#local();
    this.#demand++;
    const now = this.#scope.clock();
    // A slot long past would add to the burst: the scope's allowance for it has gone.
    while (this.#slots.length > 0 && this.#slots[0]! < now - STALE_MS) this.#slots.shift();
    const slot = this.#slots.shift();
    if (slot === undefined)
      return new Promise<number>((resolve) => {
        this.#waiting.push(resolve);
        this.#reserve();
      });
    // Reserve the next few before these run out, so an attempt rarely waits for a round trip.
    if (this.#slots.length < this.#batch / 2) this.#reserve();
    return Math.max(0, slot - now);
  }

  /** The upstream said 429. */
  halve(): void {
    if (!this.#numbers.adaptive) return;
    const { link, keys, clock } = this.#scope;
    const local = () => void this.#local(true).halve(clock());
    if (!link.up) return local();
    link
      .run('halve', [keys.rate], [this.#numbers.perSecond, keys.channel, link.pid], oneNumber)
      .then((generation) => this.generation(generation), local);
  }

  /** Grows with every drop of the rate, shared or (while Redis is away) local. */
  generationNow(): number {
    return this.#generation + (this.#fallback?.generation ?? 0);
  }

  /** The scope's rate dropped: what this process reserved at the old rate is not used. */
  generation(generation: number): void {
    if (generation <= this.#heard) return;
    this.#generation += generation - this.#heard;
    this.#heard = generation;
    this.#slots = [];
  }

  /**
   * Redis is away: from now on, this process's share of the last rate it saw.
   * A local rate kept from an earlier outage keeps its schedule when the share
   * is the same, so a Redis that comes and goes never hands out a fresh burst.
   */
  down(): void {
    if (this.#fallback && this.#fallbackShare !== this.#share()) this.#fallback = undefined;
    this.#serve();
  }

  /** This process's share of the scope's rate while it decides alone. */
  #share(): number {
    return Math.max(Math.min(1, this.#numbers.perSecond), this.#rate / this.#processes);
  }

  #reserve(): void {
    if (this.#fetching || this.#waiting.length === 0) return;
    this.#fetching = true;
    const { perSecond, burst, adaptive } = this.#numbers;
    // As many as were asked for since the last reservation: a quiet process holds few.
    const wanted = Math.max(this.#demand, this.#waiting.length, 1);
    const count = Math.min(wanted, Math.max(1, Math.floor(this.#rate * SLOT_SHARE)));
    this.#demand = 0;
    this.#batch = count;
    const { link, keys, clock } = this.#scope;
    const args = [perSecond, burst, adaptive ? 1 : 0, count, link.pid, SEEN_WINDOW_MS];
    const asked = this.#heard;
    link.run('slots', [keys.rate, keys.processes], args, numbers(5)).then(
      (reply) => {
        const [first, interval, generation, rate, processes] = reply as Slots;
        const now = clock();
        this.#rate = rate > 0 ? rate : this.#rate;
        this.#processes = Math.max(1, processes);
        // Behind what this process heard, and no halving heard meanwhile: Redis lost the
        // scope's rate (FLUSHALL, a failover) and counts from there; its slots are good.
        if (generation < this.#heard && this.#heard === asked) this.#heard = generation;
        this.generation(generation);
        // Reserved before a halving this process has already heard of: dropped too.
        if (generation >= this.#heard)
          for (let i = 0; i < count; i++) this.#slots.push(now + Math.max(0, first + i * interval));
        this.#served();
      },
      // Redis failed or answered with another shape: those waiting are served locally.
      () => this.#served(),
    );
  }

  /** A reservation ended, well or not: the next may go, and whoever waits is served. */
  #served(): void {
    this.#fetching = false;
    this.#serve();
  }

  /** Hands reserved slots to the attempts waiting, in order; reserves more when they run out. */
  #serve(): void {
    while (this.#waiting.length > 0) {
      if (!this.#scope.link.up) {
        this.#waiting.shift()!(this.#local());
        continue;
      }
      const slot = this.#slots.shift();
      if (slot === undefined) return this.#reserve();
      this.#waiting.shift()!(Math.max(0, slot - this.#scope.clock()));
    }
  }

  #local(): number;
  #local(rate: true): SendRate;
  #local(rate?: true): number | SendRate {
    if (!this.#fallback) {
      const { perSecond, burst, adaptive } = this.#numbers;
      const share = (this.#fallbackShare = this.#share());
      this.#fallback = new SendRate(
        { perSecond: share, burst: Math.max(1, (burst * share) / perSecond), adaptive },
        this.#scope.clock(),
      );
    }
    return rate ? this.#fallback : this.#fallback.take(this.#scope.clock());
  }
}
