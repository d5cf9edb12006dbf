import { Redis } from 'ioredis';
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
