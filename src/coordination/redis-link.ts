/**
 * The Redis coordinator's connections and their health. Commands go on the
 * caller's connection, through the adapter of its library; publish/subscribe
 * needs a connection of the coordinator's own, which `close()` closes.
 *
 * Sharing is "up" only while both answer. A command is never queued on a
 * connection that is not ready, and each is raced against `timeoutMs`: a
 * refusal, an error reply or no answer in time marks sharing lost, and from
 * then on every decision is local at once (no call waits for a Redis that is
 * down or frozen) while a probe asks every 250 ms whether Redis is back. Each
 * loss is one `warn` line and each return one `info` line, never one per call.
 */
import { createHash, randomBytes } from 'node:crypto';
import { Broadcast } from './broadcast.js';
import { monotonic, type Clock, type ClockTimer } from './clock.js';
import type { ScopeLog } from './coordinator.js';
import type { RedisAdapter, Subscriber } from './redis-adapter.js';
import { SCRIPTS, type ScriptName } from './redis-scripts.js';

/** What a scope hears from the link. */
export interface LinkListener {
  /** A message another process published on the scope's channel. */
  message(type: string, arg: string | undefined): void;
  /** Sharing is (back) up: re-read the shared state, which may have changed unheard. */
  up(): Promise<void>;
  /** Sharing is lost: decide locally from now on. */
  down(): void;
}

type Health = 'connecting' | 'up' | 'down' | 'closed';

const PROBE_EVERY_MS = 250;
/**
 * Sharing counts as back once it has stayed up this long. A Redis that answers
 * the probe but fails what follows (refused writes, odd replies) is one loss,
 * not a warn/info pair per probe; each such relapse doubles the probe's period,
 * up to the most that still resumes within 2 s.
 */
const SETTLE_MS = 500;
const PROBE_AT_MOST_MS = 1_200;
/** How long a coordinator made before its Redis answers waits before it warns. */
const CONNECT_GRACE_MS = 2_000;

/** Rejects a command the link did not send or got no good answer to: decide locally. */
export const LOCAL = Symbol('decide locally');

export class RedisLink {
  /** This process in the scope's messages and heartbeat: random, so it says nothing about the host. */
  readonly pid = randomBytes(8).toString('hex');
  readonly #redis: RedisAdapter;
  readonly #sub: Subscriber;
  readonly #timeoutMs: number;
  readonly #scripts: Record<ScriptName, { sha: string; lua: string }>;
  readonly #listeners = new Map<string, LinkListener>();
  #health: Health = 'connecting';
  #announcedDown = false;
  readonly #log = new Broadcast();
  #timer: ReturnType<typeof setInterval> | undefined;
  #probing = false;
  #probeEvery = PROBE_EVERY_MS;
  #upAt = 0;
  #settle: ClockTimer | undefined;
  readonly #clock: Clock;
  readonly #born: number;
  readonly #wake = () => void this.#probe();
  readonly #unwatch: () => void;

  constructor(redis: RedisAdapter, timeoutMs: number, clock: Clock = monotonic) {
    this.#clock = clock;
    this.#born = clock.now();
    this.#redis = redis;
    this.#timeoutMs = timeoutMs;
    this.#scripts = {} as Record<ScriptName, { sha: string; lua: string }>;
    for (const [name, script] of Object.entries(SCRIPTS)) {
      // On a cluster a message goes to the one shard that owns the scope's channel (its keys' slot).
      const lua = redis.sharded ? script.lua.replaceAll("'PUBLISH'", "'SPUBLISH'") : script.lua;
      this.#scripts[name as ScriptName] = {
        sha: createHash('sha1').update(lua).digest('hex'),
        lua,
      };
    }
    this.#sub = redis.subscriber({
      message: (channel, text) => this.#message(channel, text),
      ready: this.#wake,
      lost: (reason) => this.#lost(reason),
    });
    this.#unwatch = redis.onReady(this.#wake);
    this.#startProbing();
  }

  get up(): boolean {
    return this.#health === 'up';
  }

  get closed(): boolean {
    return this.#health === 'closed';
  }

  /** Known to be away (not merely still connecting). */
  get away(): boolean {
    return this.#health === 'down' || this.#health === 'closed';
  }

  /** A client's log: the lost/back lines go to every logger of the coordinator's clients. */
  useLog(log: ScopeLog, logger?: unknown): void {
    this.#log.add(log, logger);
  }

  listen(channel: string, listener: LinkListener): void {
    this.#listeners.set(channel, listener);
    this.#subscribe(channel);
  }

  /**
   * Runs a script when sharing is up; rejects with LOCAL otherwise, or when
   * Redis fails to answer well in time. `parse` checks the reply's shape: a
   * reply it refuses counts as Redis failing.
   */
  run<T = unknown>(
    name: ScriptName,
    keys: readonly string[],
    args: readonly (string | number)[],
    parse?: (reply: unknown) => T,
  ): Promise<T> {
    if (this.#health !== 'up') return Promise.reject(LOCAL);
    return this.#send(() => this.#call(name, keys, args), name, parse) as Promise<T>;
  }

  /** Like `run`, for a write nobody waits for: a failure only marks sharing lost. */
  fire(name: ScriptName, keys: readonly string[], args: readonly (string | number)[]): void {
    this.run(name, keys, args).catch(() => {});
  }

  close(): void {
    if (this.#health === 'closed') return;
    this.#health = 'closed';
    clearInterval(this.#timer);
    this.#clock.cancel(this.#settle);
    this.#unwatch();
    this.#sub.close();
    for (const listener of this.#listeners.values()) listener.down();
  }

  #call(name: ScriptName, keys: readonly string[], args: readonly (string | number)[]) {
    const { sha, lua } = this.#scripts[name];
    return this.#redis.script(sha, lua, keys, args.map(String));
  }

  #send(command: () => Promise<unknown>, name = 'ping', parse?: (reply: unknown) => unknown) {
    const notReady = this.#redis.notReady();
    if (notReady !== undefined) {
      this.#lost(notReady);
      return Promise.reject(LOCAL);
    }
    let sent: Promise<unknown>;
    try {
      sent = command();
    } catch (error) {
      sent = Promise.reject(error);
    }
    return within(sent, this.#timeoutMs, this.#clock)
      .then((reply) => (parse ? parse(reply) : reply))
      .catch((error: unknown) => {
        this.#lost(`${name}: ${error instanceof Error ? error.message : String(error)}`);
        throw LOCAL;
      });
  }

  #lost(reason: string): void {
    if (this.#health === 'connecting') return this.#stillConnecting(reason);
    if (this.#health !== 'up') return;
    this.#health = 'down';
    this.#clock.cancel(this.#settle);
    const relapse = this.#clock.now() - this.#upAt < SETTLE_MS;
    if (relapse) this.#probeEvery = Math.min(PROBE_AT_MOST_MS, this.#probeEvery * 2);
    for (const listener of this.#listeners.values()) listener.down();
    this.#announceDown(reason);
    this.#startProbing(!relapse);
  }

  /** A new coordinator's Redis gets a moment to answer before the operator hears of it. */
  #stillConnecting(reason: string): void {
    if (this.#clock.now() - this.#born < CONNECT_GRACE_MS) return;
    this.#health = 'down';
    this.#announceDown(reason);
  }

  #announceDown(reason: string): void {
    if (this.#announcedDown) return;
    this.#announcedDown = true;
    this.#log.warn(`redis coordinator: sharing lost, deciding locally: ${reason}`, { reason });
  }

  #startProbing(now = true): void {
    if (this.#timer || this.#health === 'closed') return;
    this.#timer = setInterval(() => void this.#probe(), this.#probeEvery);
    this.#timer.unref?.();
    if (now) void this.#probe();
  }

  /** Sharing comes back when both connections answer, every channel is subscribed and every scope has re-read its state. */
  async #probe(): Promise<void> {
    if (this.#health === 'up' || this.#health === 'closed' || this.#probing) return;
    this.#probing = true;
    try {
      await this.#send(() => this.#redis.ping());
      await within(this.#sub.ensure(), this.#timeoutMs, this.#clock);
      if (this.#health !== 'down' && this.#health !== 'connecting') return;
      this.#health = 'up';
      await Promise.all([...this.#listeners.values()].map((listener) => listener.up()));
      if (!this.up) return; // a re-read failed: still down, and already probing again
      clearInterval(this.#timer);
      this.#timer = undefined;
      this.#upAt = this.#clock.now();
      this.#settle = this.#clock.timer(SETTLE_MS, (link) => link.#settled(), this);
      (this.#settle as { unref?(): void }).unref?.();
    } catch (error) {
      if (this.#health === 'connecting')
        this.#stillConnecting(error instanceof Error ? error.message : 'no answer');
    } finally {
      this.#probing = false;
    }
  }

  /** Up for SETTLE_MS without a relapse: sharing is back. */
  #settled(): void {
    if (!this.up) return;
    this.#probeEvery = PROBE_EVERY_MS;
    if (this.#announcedDown) this.#log.info('redis coordinator: sharing is back', {});
    this.#announcedDown = false;
  }

  #subscribe(channel: string): void {
    this.#sub.subscribe(channel).then(
      // What was published before we listened: read it once.
      () => void (this.up && this.#listeners.get(channel)?.up()),
      // Not ready yet, or failed: the probe subscribes once it can.
      (error: unknown) => this.#lost(`subscribe failed: ${String(error)}`),
    );
  }

  #message(channel: string, text: string): void {
    const [type = '', pid, arg] = text.split(' ');
    if (pid !== this.pid) this.#listeners.get(channel)?.message(type, arg);
  }
}

/** The promise, or a rejection after `ms`; the timer goes as soon as either settles. */
function within<T>(promise: Promise<T>, ms: number, clock: Clock): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = clock.timer(ms, () => reject(new Error(`no answer within ${ms} ms`)), undefined);
    promise.then(
      (value) => {
        clock.cancel(timer);
        resolve(value);
      },
      (error: unknown) => {
        clock.cancel(timer);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}
