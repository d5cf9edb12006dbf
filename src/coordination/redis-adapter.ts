/**
 * What the Redis coordinator sends, whatever client library carries it:
 * scripts (EVALSHA, then EVAL after NOSCRIPT), publish/subscribe (sharded on
 * a cluster, where a scope's channel lives with its keys on one shard), and
 * the connection's health. One adapter per library family sits behind it; no
 * library is imported, each adapter only calls methods on what it was given.
 */
/** What the coordinator's own subscriber connection reports. */
export interface SubscriberEvents {
  /** A message on a channel it subscribed to. */
  message(channel: string, text: string): void;
  /** It is (again) ready: subscribe what is missing. */
  ready(): void;
  /** It closed or failed: sharing is lost until it is back. */
  lost(reason: string): void;
}

/** The coordinator's own connection(s) for publish/subscribe: it opens them and closes them. */
export interface Subscriber {
  /** Listens on `channel` (SSUBSCRIBE on a cluster) from now on; resolves once Redis says so. */
  subscribe(channel: string): Promise<unknown>;
  /** Resolves once every channel is subscribed on a ready connection (subscribing what is missing); rejects saying why not. */
  ensure(): Promise<unknown>;
  close(): void;
}

export interface RedisAdapter {
  /** A cluster: scripts publish with SPUBLISH and the subscriber uses SSUBSCRIBE. */
  readonly sharded: boolean;
  /** Why the caller's connection cannot take a command now, or undefined when it can. */
  notReady(): string | undefined;
  /** Runs a script by its SHA-1, sending its text once Redis says it does not know it. */
  script(
    sha: string,
    lua: string,
    keys: readonly string[],
    args: readonly string[],
  ): Promise<unknown>;
  ping(): Promise<unknown>;
  /** Calls `listener` whenever the caller's connection is ready again; returns how to stop. */
  onReady(listener: () => void): () => void;
  /** Opens the coordinator's own subscriber connection (only this one is ever closed by it). */
  subscriber(events: SubscriberEvents): Subscriber;
}

/** True for the error Redis answers EVALSHA with when it does not have the script (after a flush or a failover). */
export function isNoScript(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith('NOSCRIPT');
}

/** Every method `value` has of `names`. */
export function hasMethods(value: object, names: readonly string[]): boolean {
  const record = value as Record<string, unknown>;
  return names.every((name) => typeof record[name] === 'function');
}

/** The Redis Cluster hash slot of `key` (CRC16 of its `{...}` tag, or of all of it). */
export function keySlot(key: string): number {
  const open = key.indexOf('{');
  const close = open >= 0 ? key.indexOf('}', open + 1) : -1;
  const tagged = close > open + 1 ? key.slice(open + 1, close) : key;
  let crc = 0;
  for (const byte of Buffer.from(tagged)) {
    crc ^= byte << 8;
    for (let bit = 0; bit < 8; bit++)
      crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc % 16384;
}
