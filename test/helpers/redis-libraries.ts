/**
 * Every client library the Redis coordinator accepts, each connected the
 * way its own docs show, so that the same behaviour cases run through each:
 * ioredis 5 and 6 (6 speaks RESP3), iovalkey, node-redis 5 and 6 (and 6 over
 * RESP3); their
 * clusters; and what each needs for TLS or a user.
 */
import { Cluster as Cluster5, Redis as Redis5, type RedisOptions } from 'ioredis';
import { Cluster as Cluster6, Redis as Redis6 } from 'ioredis6';
import { Cluster as ClusterValkey, Redis as RedisValkey } from 'iovalkey';
import { createClient as createClient6, createCluster as createCluster6 } from 'redis';
import { createClient as createClient5, createCluster as createCluster5 } from 'redis5';
import type { RedisClient } from '../../src/coordination/redis.js';

export interface Where {
  port: number;
  /** TLS: the server's certificate, trusted as the CA. */
  ca?: string;
  username?: string;
  password?: string;
}

export interface Connected {
  redis: RedisClient;
  /** The caller's own use of its connection (a PING), to show it still works. */
  ping(): Promise<unknown>;
  close(): Promise<void>;
}

export interface Library {
  name: string;
  /** The protocol its connections speak (RESP3 is ioredis 6's default). */
  resp: 2 | 3;
  connect(where: Where): Promise<Connected>;
  /** A cluster client given one node's port (and a user, when given). */
  cluster(port: number, user?: { username: string; password: string }): Promise<Connected>;
}

type IoredisLike = typeof Redis5;
type IoClusterLike = typeof Cluster5;

function ioredisFamily(
  name: string,
  Redis: IoredisLike,
  Cluster: IoClusterLike,
  resp: 2 | 3 = 2,
): Library {
  const options = (where: Where): RedisOptions => ({
    host: '127.0.0.1',
    port: where.port,
    retryStrategy: () => 100,
    ...(where.ca ? { tls: { ca: where.ca } } : {}),
    ...(where.username ? { username: where.username, password: where.password } : {}),
  });
  const ready = async (redis: Redis5 | Cluster5): Promise<Connected> => {
    redis.on('error', () => {});
    if (redis.status !== 'ready') await new Promise((resolve) => redis.once('ready', resolve));
    return {
      redis,
      ping: () => redis.ping(),
      close: async () => void redis.disconnect(),
    };
  };
  return {
    name,
    resp,
    connect: (where) => ready(new Redis(options(where))),
    cluster: (port, user) =>
      ready(
        new Cluster([{ host: '127.0.0.1', port }], {
          clusterRetryStrategy: () => 100,
          ...(user ? { redisOptions: user } : {}),
        }),
      ),
  };
}

type CreateClient = typeof createClient6;
type CreateCluster = typeof createCluster6;

function nodeRedis(
  name: string,
  createClient: CreateClient,
  createCluster: CreateCluster,
  resp: 2 | 3 = 2,
): Library {
  return {
    name,
    resp,
    async connect(where) {
      const client = createClient({
        RESP: resp,
        socket: {
          host: '127.0.0.1',
          port: where.port,
          reconnectStrategy: () => 100,
          ...(where.ca ? { tls: true as const, ca: where.ca } : {}),
        },
        ...(where.username ? { username: where.username, password: where.password } : {}),
      });
      client.on('error', () => {});
      await client.connect();
      return {
        redis: client,
        ping: () => client.ping(),
        close: () => client.quit().then(() => {}),
      };
    },
    async cluster(port, user) {
      const cluster = createCluster({
        RESP: resp,
        rootNodes: [{ socket: { host: '127.0.0.1', port } }],
        defaults: { socket: { reconnectStrategy: () => 100 }, ...user },
      });
      cluster.on('error', () => {});
      await cluster.connect();
      return {
        redis: cluster,
        ping: () => cluster.sendCommand(undefined, true, ['PING']),
        close: () => cluster.close().then(() => {}),
      };
    },
  };
}

export const LIBRARIES: Library[] = [
  ioredisFamily('ioredis 5', Redis5, Cluster5),
  ioredisFamily(
    'ioredis 6',
    Redis6 as unknown as IoredisLike,
    Cluster6 as unknown as IoClusterLike,
    3,
  ),
  ioredisFamily(
    'iovalkey',
    RedisValkey as unknown as IoredisLike,
    ClusterValkey as unknown as IoClusterLike,
  ),
  nodeRedis(
    'node-redis 5',
    createClient5 as unknown as CreateClient,
    createCluster5 as unknown as CreateCluster,
  ),
  nodeRedis('node-redis 6', createClient6, createCluster6),
  nodeRedis('node-redis 6 (RESP3)', createClient6, createCluster6, 3),
];

export const library = (name: string): Library => LIBRARIES.find((l) => l.name === name)!;
