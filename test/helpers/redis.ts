/**
 * A real redis-server for one test file: its own process on a free port on
 * 127.0.0.1, no persistence, stopped at the end. A machine without
 * redis-server fails the tests that need it (never skips them): `.ci/run`
 * installs it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { Redis, type RedisOptions } from 'ioredis';
import { freePort, listening } from '../../scripts/fleet/redis-server.js';

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
  const kill = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGCONT');
    const exited = once(child, 'exit');
    child.kill('SIGKILL');
    await exited;
  };
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

/** An ioredis client that reconnects within 100 ms, as the coordinator's docs advise. */
export function connectRedis(url: string, options: RedisOptions = {}): Redis {
  const redis = new Redis(url, { retryStrategy: () => 100, lazyConnect: false, ...options });
  redis.on('error', () => {});
  return redis;
}

async function launch(port: number): Promise<ChildProcess> {
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const failed = new Promise<never>((_, reject) => {
    child.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        error.code === 'ENOENT'
          ? new Error('redis-server is not installed: apt-get install redis-server')
          : error,
      ),
    );
    child.once('exit', (code) =>
      reject(new Error(`redis-server exited (${code}) before it was ready:\n${output}`)),
    );
  });
  await Promise.race([failed, listening(port)]);
  failed.catch(() => {});
  return child;
}

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
