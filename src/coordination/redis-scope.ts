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
import type {
  Admission,
  AttemptResult,
  Scope,
  ScopeConfig,
  ScopeLog,
  ScopeState,
} from './coordinator.js';
import type { BudgetNumbers } from './budget.js';
import { MemoryScope, type LocalScope } from './memory.js';
import { SharedBreaker } from './redis-breaker.js';
import type { LinkListener, RedisLink } from './redis-link.js';
import { SharedRate } from './redis-rate.js';

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
    channel: at('events'),
  };
}

export class SharedScope implements LinkListener {
  readonly link: RedisLink;
  readonly keys: ScopeKeys;
  readonly clock: Clock;
  /** This process's own state: the pause gate always, everything else while Redis is away. */
  readonly local: MemoryScope;
  /** The first client's log: where this scope's lines go. */
  readonly log: ScopeLog;
  rate: SharedRate | undefined;
  breaker: SharedBreaker | undefined;
  #owed = 0;
  #full = false;

  constructor(link: RedisLink, keys: ScopeKeys, clock: Clock, log: ScopeLog) {
    this.link = link;
    this.keys = keys;
    this.clock = clock;
    this.local = new MemoryScope(clock);
    this.log = log;
  }

  handle(config: ScopeConfig): Scope {
    const local = this.local.handle(config);
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
    return this.link.run('pay', [this.keys.budget], args).then(
      (reply) => {
        const [paid, tokens] = reply as [number, number];
        this.local.budget?.set(tokens);
        this.#full = tokens >= budget.capacity;
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
    this.link.run('refund', [this.keys.budget], [owed, budget.capacity]).then(
      (tokens) => {
        this.local.budget?.set(Number(tokens));
        this.#full = Number(tokens) >= budget.capacity;
      },
      () => {},
    );
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

  async up(): Promise<void> {
    // A pause this process took while Redis was away still holds the others.
    this.#sharePause(this.local.gate.remaining(this.clock()));
    const { pause, circuit, wait, failures } = this.keys;
    let reply: number[];
    try {
      reply = (await this.link.run('sync', [pause, circuit, wait, failures], [])) as number[];
    } catch {
      return; // sharing is down again; the link probes on
    }
    const [pausedFor = 0, open = 0, waitFor = 0, count = 0] = reply;
    if (pausedFor > 0) this.local.gate.pause(pausedFor, this.clock());
    this.breaker?.sync(open === 1, waitFor, count);
    this.#full = false;
  }

  down(): void {
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

  /** What the fleet shares, as this process mirrors it; its own state while Redis is away. */
  state(): ScopeState | undefined {
    const { link, breaker, rate } = this.#shared;
    const local = this.#local.state();
    if (link.closed || !local) return undefined;
    const { rateLimit, circuitBreaker } = this.#config;
    return {
      ...local,
      circuitOpen: link.up && circuitBreaker && breaker ? breaker.isOpen : local.circuitOpen,
      rate: rateLimit && rate ? rate.current() : undefined,
      shared: link.up,
    };
  }
}
