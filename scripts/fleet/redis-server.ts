/**
 * A redis-server of `npm run fleet`'s own: a free port on 127.0.0.1, no
 * persistence, stopped when the runs are over.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { connect, createServer } from 'node:net';

export interface OwnRedis {
  url: string;
  pid: number;
  stop(): Promise<void>;
}

const INSTALL =
  'redis-server is not installed; install it (Debian/Ubuntu: sudo apt-get install redis-server; macOS: brew install redis), or set REDIS_URL to a Redis to use';

export async function startRedisServer(): Promise<OwnRedis> {
  const port = await freePort();
  const child = await launchRedisServer(port);
  return {
    url: `redis://127.0.0.1:${port}`,
    pid: child.pid!,
    stop: () => stopProcess(child, 'SIGTERM'),
  };
}

/**
 * Spawns a redis-server on 127.0.0.1:`port` without persistence and resolves
 * once it listens. If it cannot start (`notInstalled` when there is no
 * redis-server) or does not listen in time, it is stopped and the error says why.
 * `extra` adds arguments (a cluster node's, a TLS port's).
 */
export async function launchRedisServer(
  port: number,
  notInstalled = INSTALL,
  extra: readonly string[] = [],
): Promise<ChildProcess> {
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'];
  return launchRedis([...args, ...extra], port, notInstalled);
}

/** Spawns redis-server with `args` (a Sentinel's config file first, say) and resolves once `port` listens. */
export async function launchRedis(
  args: readonly string[],
  port: number,
  notInstalled = INSTALL,
): Promise<ChildProcess> {
  const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const failed = new Promise<never>((_, reject) => {
    child.once('error', (error: NodeJS.ErrnoException) =>
      reject(error.code === 'ENOENT' ? new Error(notInstalled) : error),
    );
    child.once('exit', (code) =>
      reject(new Error(`redis-server exited (${code}) before it was ready:\n${output}`)),
    );
  });
  failed.catch(() => {});
  try {
    await Promise.race([failed, listening(port)]);
  } catch (error) {
    await stopProcess(child, 'SIGTERM');
    throw error;
  }
  return child;
}

/**
 * Sends `signal` to `child` and waits for it to exit; a SIGCONT first, so
 * that a process stopped with SIGSTOP is not left waiting for it.
 */
export async function stopProcess(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGCONT');
  child.kill(signal);
  await exited;
}

/** Resolves once something accepts connections on 127.0.0.1:`port` (10 s at most). */
export async function listening(port: number): Promise<void> {
  const until = Date.now() + 10_000;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > until) throw new Error(`redis-server did not listen on ${port} in 10 s`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** A port free on 127.0.0.1 right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
