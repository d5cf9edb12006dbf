/**
 * A real redis-server for one test file: its own process on a free port on
 * 127.0.0.1, no persistence, stopped at the end. A machine without
 * redis-server fails the tests that need it (never skips them): `.ci/run`
 * installs it.
 */
import { createHash } from 'node:crypto';
import { connect } from 'node:net';
import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { connectRedis, openCoordinator } from '../../scripts/fleet/member.js';
import { freePort, launchRedisServer, stopProcess } from '../../scripts/fleet/redis-server.js';
import type { RedisCoordinatorOptions } from '../../src/coordination/redis.js';
import type { Coordinator } from '../../src/index.js';

export { connectRedis };

export interface RedisServer {
  port: number;
  url: string;
  /** Stops it for good (SIGKILL), as a crash would. */
  kill(): Promise<void>;
  /** Starts it again on the same port, empty. */
  restart(): Promise<void>;
  /** SIGSTOP: connections stay open, nothing answers. */
  freeze(): void;
  /** SIGCONT. */
  thaw(): void;
  stop(): Promise<void>;
}

export async function startRedis(): Promise<RedisServer> {
  const port = await freePort();
  let child = await launch(port);
  const kill = () => stopProcess(child, 'SIGKILL');
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    kill,
    restart: async () => {
      await kill();
      child = await launch(port);
    },
    freeze: () => void child.kill('SIGSTOP'),
    thaw: () => void child.kill('SIGCONT'),
    stop: kill,
  };
}

/**
 * For a test file: one redis-server, started before its tests and stopped
 * after them (`server` reads it once they run), and the coordinators its
 * tests open, each on its own connection as each process of a fleet has,
 * closed after each test. `flushAfterEach` also empties Redis after each test.
 */
export function redisForFile({ flushAfterEach = false } = {}) {
  let started: RedisServer | undefined;
  beforeAll(async () => {
    started = await startRedis();
  });
  afterAll(() => started?.stop());
  const current = () => {
    if (!started) throw new Error('the redis-server starts in beforeAll');
    return started;
  };
  const server: RedisServer = {
    get port() {
      return current().port;
    },
    get url() {
      return current().url;
    },
    kill: () => current().kill(),
    restart: () => current().restart(),
    freeze: () => current().freeze(),
    thaw: () => current().thaw(),
    stop: () => current().stop(),
  };

  const opened: { redis: Redis; coordinator: Coordinator }[] = [];
  afterEach(async () => {
    for (const { redis, coordinator } of opened.splice(0)) {
      await coordinator.close();
      redis.disconnect();
    }
    if (!flushAfterEach) return;
    const admin = connectRedis(server.url);
    await admin.flushall();
    admin.disconnect();
  });

  return {
    server,
    /** A coordinator on a connection of its own, once that is ready; closed after the test. */
    async coordinator(options: Omit<RedisCoordinatorOptions, 'redis'> = {}) {
      const { redis, coordinator } = await openCoordinator(server.url, options);
      opened.push({ redis, coordinator });
      return { redis, coordinator };
    },
    /** Closes `coordinator` and disconnects `redis` after the test. */
    closeAfter(redis: Redis, coordinator: Coordinator) {
      opened.push({ redis, coordinator });
    },
  };
}

const launch = (port: number) =>
  launchRedisServer(port, 'redis-server is not installed: apt-get install redis-server');

/** The channel of a scope: a test may know the key layout; the app never needs to. */
export function scopeChannel(baseUrl: string, apiKey: string, prefix = 'chatdash:'): string {
  const id = createHash('sha256')
    .update(`${new URL(baseUrl).origin}\n${apiKey}`)
    .digest('hex');
  return `${prefix}{${id}}:events`;
}

/** Resolves once `count` connections listen on `channel` (every process of a fleet is sharing). */
export async function subscribers(url: string, channel: string, count: number): Promise<void> {
  const admin = connectRedis(url);
  try {
    const until = Date.now() + 20_000;
    for (;;) {
      const [, n] = (await admin.pubsub('NUMSUB', channel)) as [string, number];
      if (n >= count) return;
      if (Date.now() > until) throw new Error(`${n} of ${count} processes subscribed in 20 s`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  } finally {
    admin.disconnect();
  }
}

/** One command as MONITOR shows it: when it was seen, its words, and whether a script ran it. */
export interface Monitored {
  at: number;
  args: string[];
  lua: boolean;
}

/**
 * Every command the Redis at `port` runs, through MONITOR on a plain socket. Not through
 * ioredis's monitor mode: a busy node can send its first MONITOR line in the same packet as
 * the +OK, before ioredis has switched modes, and ioredis then throws "Command queue state
 * error" from its socket handler.
 */
export async function monitorRedis(
  port: number,
  onCommand: (command: Monitored) => void = () => {},
): Promise<{ seen: Monitored[]; stop: () => void }> {
  const seen: Monitored[] = [];
  const socket = connect(port, '127.0.0.1');
  socket.setEncoding('utf8');
  let rest = '';
  let ready!: () => void;
  const started = new Promise<void>((resolve) => (ready = resolve));
  socket.on('error', () => {});
  socket.on('data', (chunk: string) => {
    const lines = (rest + chunk).split('\r\n');
    rest = lines.pop() ?? '';
    for (const line of lines) {
      if (line === '+OK') ready();
      // +1796535802.596490 [0 127.0.0.1:49638] "evalsha" "abc" "1"
      const match = /^\+[\d.]+ \[\d+ ([^\]]+)\] (.*)$/.exec(line);
      if (!match) continue;
      const args = [...match[2]!.matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((m) =>
        m[1]!.replace(/\\(.)/g, '$1'),
      );
      const command = { at: performance.now(), args, lua: match[1] === 'lua' };
      seen.push(command);
      onCommand(command);
    }
  });
  socket.write('MONITOR\r\n');
  await started;
  return { seen, stop: () => socket.destroy() };
}
