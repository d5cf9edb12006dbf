/**
 * One scope of the Redis coordinator, in one process. The pause lives in a
 * local gate that every process keeps in step by publish/subscribe, so
 * `pausedFor` never asks Redis. The budget is one bucket in Redis; refunds
 * are owed locally and paid in batches, and not at all while the bucket is
 * known to be full, so a steady stream of successes costs no round trip.
 * The rate and the circuit are in their own files.
 *
 * The process's own state (a memory scope) is always kept: it is what every
 * decision falls back to while Redis is away.
 */
import type { Clock } from './clock.js';
import { Broadcast } from './broadcast.js';
import type { Admission, AttemptResult, Scope, ScopeConfig } from './coordinator.js';
import type { BudgetNumbers } from './budget.js';
import { MemoryScope, type LocalScope } from './memory.js';
import { SharedBreaker } from './redis-breaker.js';
import type { LinkListener, RedisLink } from './redis-link.js';
import { SharedRate } from './redis-rate.js';
import { numbers, oneNumber } from './redis-replies.js';

/** A process owes the bucket at most this share of its capacity before it pays. */
const REFUND_BATCH = 0.05;

export interface ScopeKeys {
  pause: string;
  budget: string;
  rate: string;
  processes: string;
  failures: string;
  circuit: string;
  wait: string;
  alive: string;
  channel: string;
}

/** Every key of a scope, under the prefix; the braces keep them in one Redis Cluster slot. */
export function scopeKeys(prefix: string, id: string): ScopeKeys {
  const at = (name: string) => `${prefix}{${id}}:${name}`;
  return {
    pause: at('pause'),
    budget: at('budget'),
    rate: at('rate'),
    processes: at('processes'),
    failures: at('failures'),
    circuit: at('circuit'),
    wait: at('wait'),
    alive: at('alive'),
    channel: at('events'),
  };
}

export class SharedScope implements LinkListener {
  readonly link: RedisLink;
  readonly keys: ScopeKeys;
  readonly clock: Clock;
  /** This process's own state: the pause gate always, everything else while Redis is away. */
  readonly local: MemoryScope;
  /** Every client's log: where this scope's circuit lines go. */
  readonly log = new Broadcast();
  rate: SharedRate | undefined;
  breaker: SharedBreaker | undefined;
  #owed = 0;
  #full = false;
  /** Until the first read of the shared state: a newcomer must not send into another's pause. */
  #reading: Promise<void> | undefined;
  #read: () => void = () => {};

  constructor(link: RedisLink, keys: ScopeKeys, clock: Clock, timeoutMs: number) {
    this.link = link;
    this.keys = keys;
    this.clock = clock;
    this.local = new MemoryScope(clock);
    this.#reading = new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      timer.unref?.();
      this.#read = () => {
        clearTimeout(timer);
        resolve();
      };
    }).then(() => {
      this.#reading = undefined;
    });
  }

  /** The first read, while one may still come. */
  reading(): Promise<void> | undefined {
    return this.link.away ? undefined : this.#reading;
  }

  handle(config: ScopeConfig): Scope {
    const local = this.local.handle(config);
    this.log.add(config.log, config.logger);
    if (config.rateLimit) this.rate ??= new SharedRate(this, config.rateLimit);
    if (config.circuitBreaker)
      this.breaker ??= new SharedBreaker(this, config.circuitBreaker, local);
    return new RedisScope(this, config, local);
  }

  /** Extends the pause here at once, and in every process when sharing is up. */
  pause(ms: number, local: LocalScope): boolean {
    const extended = local.pause(ms);
    if (extended) this.#sharePause(ms);
    return extended;
  }

  payRetry(budget: BudgetNumbers, local: LocalScope, afterTimeout: boolean) {
    if (!this.link.up) return local.payRetry(afterTimeout);
    const cost = afterTimeout ? budget.timeoutCost : budget.retryCost;
    const owed = this.#owed;
    this.#owed = 0;
    const args = [cost, budget.capacity, owed, this.keys.channel, this.link.pid];
    return this.link.run('pay', [this.keys.budget], args, numbers(2)).then(
      (reply) => {
        const [paid, tokens] = reply as [number, number];
        this.#heard(budget, tokens);
        return paid === 1;
      },
      () => local.payRetry(afterTimeout),
    );
  }

  refund(budget: BudgetNumbers, local: LocalScope): void {
    local.refund();
    if (!this.link.up || this.#full) return;
    if (++this.#owed < Math.max(1, Math.floor(budget.capacity * REFUND_BATCH))) return;
    const owed = this.#owed;
    this.#owed = 0;
    this.#giveBack(budget, owed);
  }

  /** A paid retry the open circuit refused: its cost goes back where sharing is now. */
  unpay(budget: BudgetNumbers, local: LocalScope, afterTimeout: boolean): void {
    local.unpay(afterTimeout);
    if (this.link.up) this.#giveBack(budget, afterTimeout ? budget.timeoutCost : budget.retryCost);
  }

  #giveBack(budget: BudgetNumbers, tokens: number): void {
    const args = [tokens, budget.capacity];
    this.link.run('refund', [this.keys.budget], args, oneNumber).then(
      (left) => this.#heard(budget, left),
      () => {},
    );
  }

  #heard(budget: BudgetNumbers, tokens: number): void {
    this.local.budget?.set(tokens);
    this.#full = tokens >= budget.capacity;
  }

  message(type: string, arg: string | undefined): void {
    const n = Number(arg);
    if (type === 'spent') this.#full = false;
    // A number is checked before it is used: a malformed message must not stop the gate or the rate.
    else if (arg !== undefined && !Number.isFinite(n)) return;
    else if (type === 'pause') this.local.gate.pause(n, this.clock());
    else if (type === 'gen') this.rate?.generation(n);
    else this.breaker?.message(type, n);
  }

  /** Never rejects: a failed or malformed re-read leaves sharing down, and the link probes on. */
  async up(): Promise<void> {
    // A pause this process took while Redis was away still holds the others.
    this.#sharePause(this.local.gate.remaining(this.clock()));
    const { pause, circuit, wait, failures, alive } = this.keys;
    let reply: number[];
    try {
      // The re-read also writes: a Redis that reads but refuses writes is not back.
      const keys = [pause, circuit, wait, failures, alive];
      reply = await this.link.run('sync', keys, [this.link.pid], numbers(4));
    } catch {
      return this.#read();
    }
    const [pausedFor, open, waitFor, count] = reply as [number, number, number, number];
    if (pausedFor > 0) this.local.gate.pause(pausedFor, this.clock());
    this.breaker?.sync(open === 1, waitFor, count);
    this.#full = false;
    this.#read();
  }

  down(): void {
    this.#read();
    this.#owed = 0;
    this.rate?.down();
    this.breaker?.down();
  }

  #sharePause(ms: number): void {
    if (ms <= 0 || !this.link.up) return;
    const { pause, channel } = this.keys;
    this.link.fire('pause', [pause], [Math.ceil(ms), channel, this.link.pid]);
  }
}

const CLOSED: Admission = Object.freeze({ open: false, probe: false });

/** A client's view of a shared scope, with the client's own numbers. */
class RedisScope implements Scope {
  readonly #shared: SharedScope;
  readonly #config: ScopeConfig;
  readonly #local: LocalScope;

  constructor(shared: SharedScope, config: ScopeConfig, local: LocalScope) {
    this.#shared = shared;
    this.#config = config;
    this.#local = local;
  }

  pausedFor(): number {
    return this.#local.pausedFor();
  }

  reading(): Promise<void> | undefined {
    return this.#shared.reading();
  }

  pause(ms: number): boolean {
    return this.#shared.pause(ms, this.#local);
  }

  payRetry(afterTimeout: boolean): boolean | Promise<boolean> {
    const { budget } = this.#config;
    return budget ? this.#shared.payRetry(budget, this.#local, afterTimeout) : true;
  }

  refund(): void {
    if (this.#config.budget) this.#shared.refund(this.#config.budget, this.#local);
  }

  unpay(afterTimeout: boolean): void {
    if (this.#config.budget) this.#shared.unpay(this.#config.budget, this.#local, afterTimeout);
  }

  budgetTokens(): number {
    return this.#local.budgetTokens();
  }

  takeSlot(): number | Promise<number> {
    return this.#config.rateLimit ? this.#shared.rate!.take() : 0;
  }

  rateGeneration(): number {
    return this.#shared.rate?.generationNow() ?? 0;
  }

  rateLimited(): void {
    if (this.#config.rateLimit) this.#shared.rate!.halve();
  }

  admit(): Admission | Promise<Admission> {
    return this.#config.circuitBreaker ? this.#shared.breaker!.admit() : CLOSED;
  }

  report(result: AttemptResult, probe: boolean): void {
    if (this.#config.circuitBreaker) this.#shared.breaker!.report(result, probe);
  }
}
