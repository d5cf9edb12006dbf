/**
 * node-redis (the `redis` package, 5 and 6): a client from `createClient()`
 * or a cluster from `createCluster()`, connected by the caller. Commands go
 * by `sendCommand` (on a cluster routed by the scope's first key); the
 * subscriber is the coordinator's own duplicate, which node-redis keeps
 * subscribed across reconnects, and on a cluster across failovers and moved
 * slots (SSUBSCRIBE to the shard that owns the channel).
 */
import {
  hasMethods,
  isNoScript,
  type RedisAdapter,
  type Subscriber,
  type SubscriberEvents,
} from './redis-adapter.js';

type Listener = (...args: never[]) => void;
type PubSubListener = (message: string, channel: string) => void;

interface NodeRedisBase {
  readonly isOpen: boolean;
  on(event: string, listener: Listener): unknown;
  off(event: string, listener: Listener): unknown;
  connect(): Promise<unknown>;
  destroy?(): void;
  disconnect(): Promise<unknown>;
}

/** The parts of a node-redis client the coordinator uses. */
interface NodeRedisClient extends NodeRedisBase {
  readonly isReady: boolean;
  duplicate(): NodeRedisClient;
  sendCommand(args: string[]): Promise<unknown>;
  subscribe(channels: string[], listener: PubSubListener): Promise<unknown>;
}

/** The parts of a node-redis cluster it uses. */
interface NodeRedisCluster extends NodeRedisBase {
  duplicate(): NodeRedisCluster;
  sendCommand(firstKey: string | undefined, readonly: boolean, args: string[]): Promise<unknown>;
  sSubscribe(channels: string[], listener: PubSubListener): Promise<unknown>;
}

type NodeRedis = NodeRedisClient | NodeRedisCluster;

export function isNodeRedis(value: object): value is NodeRedis {
  const { isOpen } = value as { isOpen?: unknown };
  return (
    typeof isOpen === 'boolean' &&
    hasMethods(value, ['duplicate', 'sendCommand', 'connect', 'disconnect', 'on', 'off'])
  );
}

function isCluster(redis: NodeRedis): redis is NodeRedisCluster {
  return 'masters' in redis && hasMethods(redis, ['getSlotMaster', 'sSubscribe']);
}

export class NodeRedisAdapter implements RedisAdapter {
  readonly sharded: boolean;
  readonly #redis: NodeRedis;

  constructor(redis: NodeRedis) {
    this.#redis = redis;
    this.sharded = isCluster(redis);
  }

  notReady(): string | undefined {
    const redis = this.#redis;
    if (!redis.isOpen) return 'the connection is not open';
    if ('isReady' in redis && redis.isReady === false) return 'the connection is not ready';
    return undefined;
  }

  script(sha: string, lua: string, keys: readonly string[], args: readonly string[]) {
    const tail = [String(keys.length), ...keys, ...args];
    return this.#send(keys[0], ['EVALSHA', sha, ...tail]).catch((error: unknown) =>
      isNoScript(error) ? this.#send(keys[0], ['EVAL', lua, ...tail]) : Promise.reject(error),
    );
  }

  ping(): Promise<unknown> {
    return this.#send(undefined, ['PING']);
  }

  onReady(listener: () => void): () => void {
    this.#redis.on('ready', listener);
    return () => void this.#redis.off('ready', listener);
  }

  subscriber(events: SubscriberEvents): Subscriber {
    return new OwnSubscriber(this.#redis, events);
  }

  #send(firstKey: string | undefined, args: string[]): Promise<unknown> {
    const redis = this.#redis;
    return isCluster(redis) ? redis.sendCommand(firstKey, false, args) : redis.sendCommand(args);
  }
}

class OwnSubscriber implements Subscriber {
  readonly #conn: NodeRedis;
  readonly #events: SubscriberEvents;
  readonly #wanted = new Set<string>();
  readonly #subscribed = new Set<string>();
  readonly #listener: PubSubListener;
  readonly #lost = () => this.#events.lost('the subscriber connection is reconnecting');
  #closed = false;

  constructor(redis: NodeRedis, events: SubscriberEvents) {
    this.#events = events;
    this.#listener = (message, channel) => events.message(channel, message);
    this.#conn = redis.duplicate();
    // Our own connection: its errors are ours to swallow (the warn line covers them).
    this.#conn.on('error', () => {});
    this.#conn.on('ready', () => events.ready());
    this.#conn.on('reconnecting', this.#lost);
    this.#conn.connect().then(
      () => events.ready(),
      (error: unknown) => {
        if (!this.#closed) events.lost(`the subscriber could not connect: ${String(error)}`);
      },
    );
  }

  subscribe(channel: string): Promise<unknown> {
    this.#wanted.add(channel);
    // Not connected yet: the link's probe subscribes it once it is.
    return this.#ready() ? this.ensure() : Promise.resolve();
  }

  #ready(): boolean {
    const conn = this.#conn;
    return conn.isOpen && !('isReady' in conn && !conn.isReady);
  }

  async ensure(): Promise<unknown> {
    const conn = this.#conn;
    if (!this.#ready()) throw new Error('the subscriber is not ready');
    const missing = [...this.#wanted].filter((channel) => !this.#subscribed.has(channel));
    if (missing.length === 0) return;
    await (isCluster(conn)
      ? conn.sSubscribe(missing, this.#listener)
      : conn.subscribe(missing, this.#listener));
    missing.forEach((channel) => this.#subscribed.add(channel));
  }

  close(): void {
    this.#closed = true;
    this.#conn.off('reconnecting', this.#lost);
    if (this.#conn.destroy) this.#conn.destroy();
    else this.#conn.disconnect().catch(() => {});
  }
}
