/**
 * What each process of a fleet does around its calls, in `npm run fleet`'s
 * worker and in the tests' fleet fixture alike: its own Redis connection and
 * coordinator, and the ready/go handshake with the process that started it.
 */
import { createInterface } from 'node:readline';
import { Cluster, Redis, type RedisOptions } from 'ioredis';
import {
  createRedisCoordinator,
  type RedisCoordinatorOptions,
} from '../../src/coordination/redis.js';
import type { Coordinator } from '../../src/index.js';

/**
 * An ioredis client that reconnects within 100 ms, as the coordinator's docs
 * advise. Its connection errors are not thrown: while Redis is away the
 * coordinator decides locally and says so itself.
 */
export function connectRedis(url: string, options: RedisOptions = {}): Redis {
  const redis = new Redis(url, { retryStrategy: () => 100, ...options });
  redis.on('error', () => {});
  return redis;
}

/**
 * A Redis coordinator on a connection of its own (an ioredis `Cluster` when
 * `url` is a node of one), returned once that connection is ready. `close`
 * closes the coordinator, then the connection.
 */
export async function openCoordinator(
  url: string,
  options: Omit<RedisCoordinatorOptions, 'redis'> = {},
  cluster = false,
): Promise<{ redis: Redis; coordinator: Coordinator; close: () => Promise<void> }> {
  const redis = cluster ? connectCluster(url) : connectRedis(url);
  await new Promise((resolve) => redis.once('ready', resolve));
  const coordinator = createRedisCoordinator({ redis, ...options });
  const close = async () => {
    await coordinator.close();
    await redis.quit();
  };
  return { redis, coordinator, close };
}

/** An ioredis `Cluster` from one node's URL, reconnecting within 100 ms, its errors not thrown. */
function connectCluster(url: string): Redis {
  const { hostname, port } = new URL(url);
  const cluster = new Cluster([{ host: hostname, port: Number(port) }], {
    clusterRetryStrategy: () => 100,
  });
  cluster.on('error', () => {});
  // The coordinator takes either; the callers here use only what both have.
  return cluster as unknown as Redis;
}

/** Prints `ready`, then waits for the starter's `go` (a line on stdin). */
export async function readyThenGo(): Promise<void> {
  process.stdout.write('ready\n');
  const lines = createInterface({ input: process.stdin });
  await new Promise<void>((resolve) => lines.once('line', () => resolve()));
  lines.close();
}
