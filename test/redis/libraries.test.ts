/**
 * The same behaviour cases through every client library the Redis coordinator
 * accepts, on one standalone redis-server: ioredis 5 and 6 (RESP3), iovalkey,
 * node-redis 5 and 6. A pause travels and survives SCRIPT FLUSH (EVALSHA,
 * then EVAL after NOSCRIPT), close() closes only the subscriber it made, and
 * the circuit refuses the call right after the threshold.
 */
import { describe, expect, it } from 'vitest';
import { createRedisCoordinator } from '../../src/coordination/redis.js';
import { ChatDashError } from '../../src/index.js';
import { breakerCountsAtOnce, pair, pauseTravels } from '../helpers/redis-cases.js';
import { LIBRARIES } from '../helpers/redis-libraries.js';
import { connectRedis, redisForFile } from '../helpers/redis.js';

const { server } = redisForFile({ flushAfterEach: true });

/** The other connections' CLIENT LIST lines. */
async function clients(): Promise<string[]> {
  const admin = connectRedis(server.url);
  const id = await admin.client('ID');
  const list = (await admin.client('LIST')) as string;
  admin.disconnect();
  return list
    .trim()
    .split('\n')
    .filter((line) => !line.startsWith(`id=${id} `));
}
const clientCount = async () => (await clients()).length;

describe.each(LIBRARIES)('through $name', (library) => {
  it('shares a pause through SCRIPT FLUSH, and close() leaves the caller its connection', async () => {
    const before = await clientCount();
    const { conns, coordinators, close } = await pair(() => library.connect({ port: server.port }));
    expect(await clientCount()).toBe(before + 4); // two callers' connections, two subscribers
    // Each speaks its library's protocol (ioredis 6: RESP3 by default), subscribers too.
    const resps = (await clients()).map((line) => /\bresp=(\d)/.exec(line)![1]);
    expect(resps).toEqual(resps.map(() => String(library.resp)));
    const admin = connectRedis(server.url);
    await admin.script('FLUSH');
    admin.disconnect();
    await pauseTravels(coordinators[0]!, coordinators[1]!);
    for (const coordinator of coordinators) await coordinator.close();
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(await clientCount()).toBe(before + 2);
    for (const conn of conns) expect(await conn.ping()).toBe('PONG');
    await close();
  });

  it('refuses the call right after the failure that reached failureThreshold', async () => {
    const { coordinators, close } = await pair(() => library.connect({ port: server.port }));
    await breakerCountsAtOnce(coordinators[0]!);
    await close();
  });
});

describe('what createRedisCoordinator refuses', () => {
  it('a client it does not know, an unconnected URL, a look-alike: ChatDashError naming what came and what it accepts', () => {
    for (const redis of [{ status: 'ready', duplicate() {} }, { isOpen: true }, new Map()]) {
      expect(() => createRedisCoordinator({ redis } as never)).toThrow(ChatDashError);
      expect(() => createRedisCoordinator({ redis } as never)).toThrow(
        /node-redis \(redis 5 or 6\) client from createClient\(\) or cluster from createCluster\(\), got /,
      );
    }
  });
});
