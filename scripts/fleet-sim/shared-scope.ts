/**
 * Coordination for `npm run fleet:sim`: one scope's state in a simulated
 * coordinator that every process reaches through a round trip, as the Redis
 * engine does. The state is the in-process engine's own (`MemoryScope`, read
 * and written through a `LocalScope`: the same budget, gate, rate and
 * circuit); what the simulation adds is the distance. A command runs on the
 * shared state half a round trip after it is sent and its answer arrives a
 * round trip after; a change every process must hear (a pause, a halved rate)
 * reaches each of them half a round trip after it happened, as a
 * publish/subscribe message would.
 */
import type {
  Admission,
  AttemptResult,
  Scope,
  ScopeConfig,
} from '../../src/coordination/coordinator.js';
import { MemoryScope } from '../../src/coordination/memory.js';
import type { EventQueue } from './events.js';

/** A process owes the budget its refunds in batches of this many (one command each). */
export const REFUND_BATCH = 20;

export class SharedStore {
  /** Commands the processes sent (the coordinator commands of the table). */
  commands = 0;
  readonly #state: MemoryScope;
  readonly #events: EventQueue;
  readonly #halfTrip: number;
  readonly #listeners: ProcessScope[] = [];

  constructor(events: EventQueue, rttMs: number) {
    this.#events = events;
    this.#halfTrip = rttMs / 2;
    this.#state = new MemoryScope(events.clock);
  }

  /** A process joins: its view of the shared scope. */
  join(config: ScopeConfig): ProcessScope {
    const scope = new ProcessScope(this, this.#state.handle(config), config, this.#events);
    this.#listeners.push(scope);
    return scope;
  }

  /** One command: `fn` runs on the shared state half a round trip from now, its answer arrives a round trip from now. */
  command<T>(fn: () => T): Promise<T> {
    this.commands++;
    return new Promise((resolve) =>
      this.#events.at(this.#halfTrip, () => {
        const answer = fn();
        this.#events.at(this.#halfTrip, () => resolve(answer));
      }),
    );
  }

  /** Every process hears of a change half a round trip from now. */
  publish(hear: (scope: ProcessScope) => void): void {
    this.#events.at(this.#halfTrip, () => this.#listeners.forEach(hear));
  }

  get halfTrip(): number {
    return this.#halfTrip;
  }
}

/**
 * One process's view. Questions asked on every attempt (is the scope paused,
 * may this attempt go) are answered from the process's own copy, kept up to
 * date by what is published; everything that changes shared state is a
 * command. The circuit stays local: this simulation's upstream answers 200
 * or 429 and never fails, so it never opens.
 */
export class ProcessScope implements Scope {
  readonly #store: SharedStore;
  /** The shared state, as a command running on the coordinator sees it. */
  readonly #shared: Scope;
  /** This process's copy of what it has heard. */
  readonly #local: Scope;
  readonly #config: ScopeConfig;
  readonly #events: EventQueue;
  #generation = 0;
  #owed = 0;

  constructor(store: SharedStore, shared: Scope, config: ScopeConfig, events: EventQueue) {
    this.#store = store;
    this.#shared = shared;
    this.#config = config;
    this.#events = events;
    this.#local = new MemoryScope(events.clock).handle(config);
  }

  pausedFor(): number {
    return this.#local.pausedFor();
  }

  pause(ms: number): boolean {
    if (!this.#local.pause(ms)) return false;
    const until = this.#events.now + ms;
    void this.#store.command(() => {
      const left = until - this.#events.now;
      if (left > 0 && this.#shared.pause(left))
        this.#store.publish((scope) => scope.heardPause(until));
    });
    return true;
  }

  heardPause(until: number): void {
    const left = until - this.#events.now;
    if (left > 0) this.#local.pause(left);
  }

  payRetry(afterTimeout: boolean): Promise<boolean> {
    return this.#store.command(() => this.#shared.payRetry(afterTimeout) as boolean);
  }

  refund(): void {
    if (!this.#config.budget || ++this.#owed < REFUND_BATCH) return;
    const owed = this.#owed;
    this.#owed = 0;
    void this.#store.command(() => {
      for (let i = 0; i < owed; i++) this.#shared.refund();
    });
  }

  unpay(afterTimeout: boolean): void {
    if (this.#config.budget) void this.#store.command(() => this.#shared.unpay(afterTimeout));
  }

  budgetTokens(): number {
    return this.#shared.budgetTokens();
  }

  takeSlot(): number | Promise<number> {
    if (!this.#config.rateLimit) return 0;
    const halfTrip = this.#store.halfTrip;
    // The answer is a wait from when the command ran; half a round trip of it has passed on the way back.
    return this.#store
      .command(() => this.#shared.takeSlot() as number)
      .then((ms) => Math.max(0, ms - halfTrip));
  }

  rateGeneration(): number {
    return this.#generation;
  }

  heardGeneration(generation: number): void {
    this.#generation = Math.max(this.#generation, generation);
  }

  rateLimited(): void {
    if (!this.#config.rateLimit || !this.#config.rateLimit.adaptive) return;
    void this.#store.command(() => {
      const before = this.#shared.rateGeneration();
      this.#shared.rateLimited();
      const after = this.#shared.rateGeneration();
      if (after !== before) this.#store.publish((scope) => scope.heardGeneration(after));
    });
  }

  admit(): Admission | Promise<Admission> {
    return this.#local.admit();
  }

  report(result: AttemptResult, probe: boolean): void {
    this.#local.report(result, probe);
  }
}
