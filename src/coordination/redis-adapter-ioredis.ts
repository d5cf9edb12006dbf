/**
 * The ioredis family: ioredis 5 and 6 and iovalkey, a `Redis` (standalone,
 * Sentinel, TLS: all in the caller's options) or a `Cluster`. Scripts go on
 * the caller's connection with plain EVALSHA/EVAL (nothing is defined on it);
 * the subscriber is the coordinator's own: a duplicate of the caller's
 * connection, or on a cluster one connection to the master that owns each
 * channel's slot, moved when that slot moves.
 */
import {
  hasMethods,
  isNoScript,
  keySlot,
  type RedisAdapter,
  type Subscriber,
  type SubscriberEvents,
} from './redis-adapter.js';

type Listener = (...args: never[]) => void;

/** The parts of an ioredis (or iovalkey) `Redis` the coordinator uses. */
interface Ioredis {
  readonly status: string;
  readonly options?: { host?: string; port?: number };
  duplicate(override?: object): Ioredis;
  evalsha(sha: string, count: number, ...rest: string[]): Promise<unknown>;
  eval(lua: string, count: number, ...rest: string[]): Promise<unknown>;
  ping(): Promise<unknown>;
  subscribe(...channels: string[]): Promise<unknown>;
  ssubscribe(...channels: string[]): Promise<unknown>;
  on(event: string, listener: Listener): unknown;
  off(event: string, listener: Listener): unknown;
  removeAllListeners(event: string): unknown;
  disconnect(): void;
}

/** The parts of an ioredis `Cluster` it uses besides those. */
interface IoCluster extends Ioredis {
  readonly isCluster: true;
  readonly slots: (string[] | undefined)[];
  nodes(role: 'master'): Ioredis[];
  refreshSlotsCache?(callback?: (error?: Error) => void): void;
}

export function isIoredis(value: object): value is Ioredis {
  const status = (value as { status?: unknown }).status;
  return (
    typeof status === 'string' &&
    hasMethods(value, ['duplicate', 'evalsha', 'eval', 'ping', 'on', 'off', 'disconnect'])
  );
}

/** How often a cluster's subscriber checks (locally) that its shard still owns each channel. */
const OWNER_CHECK_MS = 1_000;

export class IoredisAdapter implements RedisAdapter {
  readonly sharded: boolean;
  readonly #redis: Ioredis;

  constructor(redis: Ioredis) {
    this.#redis = redis;
    this.sharded = (redis as Partial<IoCluster>).isCluster === true;
  }

  notReady(): string | undefined {
    const { status } = this.#redis;
    return status === 'ready' ? undefined : `the connection is ${status}`;
  }

  script(sha: string, lua: string, keys: readonly string[], args: readonly string[]) {
    const redis = this.#redis;
    return redis
      .evalsha(sha, keys.length, ...keys, ...args)
      .catch((error: unknown) =>
        isNoScript(error) ? redis.eval(lua, keys.length, ...keys, ...args) : Promise.reject(error),
      );
  }

  ping(): Promise<unknown> {
    return this.#redis.ping();
  }

  onReady(listener: () => void): () => void {
    // Only a `ready` listener on the caller's connection: an `error` listener would change what it prints.
    this.#redis.on('ready', listener);
    return () => void this.#redis.off('ready', listener);
  }

  subscriber(events: SubscriberEvents): Subscriber {
    return this.sharded
      ? new ShardedSubscriber(this.#redis as IoCluster, events)
      : new PlainSubscriber(this.#redis, events);
  }
}

/** Wires the coordinator's own connection to `events`; its errors are ours to swallow (the warn line covers them). */
function own(connection: Ioredis, events: SubscriberEvents, onClose: () => void): Ioredis {
  connection.on('error', () => {});
  connection.on('message', (channel: string, text: string) => events.message(channel, text));
  connection.on('smessage', (channel: string, text: string) => events.message(channel, text));
  connection.on('close', onClose);
  connection.on('ready', () => events.ready());
  return connection;
}

class PlainSubscriber implements Subscriber {
  readonly #conn: Ioredis;
  readonly #wanted = new Set<string>();
  readonly #subscribed = new Set<string>();
  readonly #closed = () => {
    this.#subscribed.clear();
    this.events.lost('the subscriber connection closed');
  };

  constructor(
    redis: Ioredis,
    readonly events: SubscriberEvents,
  ) {
    // Subscriptions come back by themselves after a reconnect, and the connection is made
    // at once, whatever the caller's options say.
    this.#conn = own(redis.duplicate({ autoResubscribe: true, lazyConnect: false }), events, () =>
      this.#closed(),
    );
  }

  subscribe(channel: string): Promise<unknown> {
    this.#wanted.add(channel);
    // Not connected yet: the link's probe subscribes it once it is.
    if (this.#conn.status !== 'ready') return Promise.resolve();
    return this.#conn.subscribe(channel).then(() => this.#subscribed.add(channel));
  }

  async ensure(): Promise<unknown> {
    if (this.#conn.status !== 'ready') throw new Error(`the subscriber is ${this.#conn.status}`);
    const missing = [...this.#wanted].filter((channel) => !this.#subscribed.has(channel));
    if (missing.length === 0) return;
    await this.#conn.subscribe(...missing);
    missing.forEach((channel) => this.#subscribed.add(channel));
  }

  close(): void {
    this.#conn.off('close', this.#closed);
    this.#conn.disconnect();
  }
}

interface Placed {
  node: string;
  conn: Ioredis;
  subscribed: boolean;
}

/** On a cluster: each channel on a connection of its own to the master that owns its slot (SSUBSCRIBE). */
class ShardedSubscriber implements Subscriber {
  readonly #cluster: IoCluster;
  readonly #events: SubscriberEvents;
  readonly #placed = new Map<string, Placed | undefined>();
  readonly #timer: ReturnType<typeof setInterval>;
  #closed = false;

  constructor(cluster: IoCluster, events: SubscriberEvents) {
    this.#cluster = cluster;
    this.#events = events;
    this.#timer = setInterval(() => this.#checkOwners(), OWNER_CHECK_MS);
    this.#timer.unref?.();
  }

  subscribe(channel: string): Promise<unknown> {
    this.#placed.set(channel, undefined);
    // A connection just made queues the SSUBSCRIBE until it is up.
    return this.#ssubscribe(channel, this.#place(channel));
  }

  ensure(): Promise<unknown> {
    const waits = [...this.#placed.keys()].map(async (channel) => {
      const placed = this.#place(channel);
      if (placed.conn.status !== 'ready')
        throw new Error(`the subscriber to ${placed.node} is ${placed.conn.status}`);
      if (!placed.subscribed) await this.#ssubscribe(channel, placed);
    });
    return Promise.all(waits);
  }

  async #ssubscribe(channel: string, placed: Placed): Promise<void> {
    await placed.conn.ssubscribe(channel);
    placed.subscribed = true;
  }

  close(): void {
    this.#closed = true;
    clearInterval(this.#timer);
    for (const channel of this.#placed.keys()) this.#drop(channel);
  }

  /** The owner of `channel`'s slot as the cluster last told the caller's connection. */
  #owner(channel: string): string {
    const owner = this.#cluster.slots[keySlot(channel)]?.[0];
    if (!owner) throw new Error(`no node of the cluster is known to own ${channel}`);
    return owner;
  }

  /** The channel's connection, made anew when its node no longer owns it or the connection ended. */
  #place(channel: string): Placed {
    const node = this.#owner(channel);
    const placed = this.#placed.get(channel);
    if (placed && placed.node === node && placed.conn.status !== 'end') return placed;
    // Its master is gone: ask the cluster who owns the slot now (a failover), for the next try.
    if (placed?.node === node) this.#cluster.refreshSlotsCache?.(() => {});
    this.#drop(channel);
    const master = this.#cluster
      .nodes('master')
      .find(({ options }) => `${options?.host}:${options?.port}` === node);
    if (!master) throw new Error(`the cluster has no connection to ${node}`);
    const fresh: Placed = { node, conn: master, subscribed: false };
    fresh.conn = own(
      master.duplicate({ lazyConnect: false, autoResubscribe: true }),
      this.#events,
      () => {
        fresh.subscribed = false;
        if (!this.#closed) this.#events.lost(`the subscriber to ${node} closed`);
      },
    );
    this.#placed.set(channel, fresh);
    return fresh;
  }

  #drop(channel: string): void {
    const placed = this.#placed.get(channel);
    if (!placed) return;
    this.#placed.set(channel, undefined);
    placed.conn.removeAllListeners('close');
    placed.conn.disconnect();
  }

  #checkOwners(): void {
    for (const [channel, placed] of this.#placed) {
      if (!placed) continue;
      let owner: string;
      try {
        owner = this.#owner(channel);
      } catch {
        continue;
      }
      if (owner === placed.node) continue;
      this.#drop(channel);
      this.#events.lost(`the slot of ${channel} moved to ${owner}`);
    }
  }
}
