import { Cluster, Redis } from 'ioredis';
import { Cluster as Cluster6, Redis as Redis6 } from 'ioredis6';
import { Redis as RedisValkey } from 'iovalkey';
import { createClient, createCluster } from 'redis';
import { createClient as createClient5, createCluster as createCluster5 } from 'redis5';
import { describe, expectTypeOf, it } from 'vitest';
import {
  createRedisCoordinator,
  type RedisClient,
  type RedisCoordinatorOptions,
} from '../../src/coordination/redis.js';
import { createChatDashClient, type Coordinator } from '../../src/index.js';

describe('chatdash-client/redis types', () => {
  it("takes ioredis's own Redis client, without this package depending on ioredis's types", () => {
    const redis = new Redis({ lazyConnect: true });
    expectTypeOf(redis).toExtend<RedisClient>();
    expectTypeOf(createRedisCoordinator({ redis })).toEqualTypeOf<Coordinator>();
    const coordinator = createRedisCoordinator({ redis, prefix: 'app:', timeoutMs: 100 });
    createChatDashClient({ coordinator });
  });

  it('takes every accepted library and topology as it comes, with no cast', () => {
    for (const redis of [
      new Cluster([]),
      new Redis6(),
      new Cluster6([]),
      new RedisValkey(),
      createClient(),
      createCluster({ rootNodes: [] }),
      createClient5(),
      createCluster5({ rootNodes: [] }),
    ])
      createRedisCoordinator({ redis });
  });

  it('rejects what is not a client, and options it does not know', () => {
    // @ts-expect-error: a URL is not a connected client
    const url: RedisCoordinatorOptions = { redis: 'redis://localhost:6379' };
    // @ts-expect-error: redis is required
    const none: RedisCoordinatorOptions = {};
    // @ts-expect-error: prefix is a string
    const prefix: RedisCoordinatorOptions = { redis: new Redis(), prefix: 1 };
    void [url, none, prefix];
  });
});
