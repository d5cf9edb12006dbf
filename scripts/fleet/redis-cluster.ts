/**
 * A Redis Cluster of `npm run fleet`'s own (and the tests'): masters on free
 * ports of 127.0.0.1 joined by `redis-cli --cluster create`, from the same
 * redis-server binary as the standalone one, stopped (SIGKILL) by `stop`.
 */
import { execFile, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { launchRedisServer, stopProcess } from './redis-server.js';

export const run = promisify(execFile);
export const NOT_INSTALLED = 'redis-server is not installed: apt-get install redis-server';

/** redis-cli against 127.0.0.1:`port`; its standard output. */
export async function cli(port: number, ...args: string[]): Promise<string> {
  const { stdout } = await run('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...args]);
  return stdout.trim();
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** A port free with its cluster bus port (+10000), both below 65536. */
export async function clusterPort(): Promise<number> {
  for (;;) {
    const port = 20_000 + Math.floor(Math.random() * 30_000);
    if ((await canListen(port)) && (await canListen(port + 10_000))) return port;
  }
}

export async function until(
  what: string,
  check: () => Promise<boolean>,
  ms = 20_000,
): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (Date.now() > end) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export interface Cluster {
  /** The masters' ports, as `redis-cli --cluster create` made them. */
  ports: number[];
  /** Every node's process, by port. */
  nodes: Map<number, ChildProcess>;
  /** Starts a replica of the master on `masterPort`; resolves once it is in sync; its port. */
  addReplica(masterPort: number): Promise<number>;
  /** The port of the master serving `slot`, as the cluster says now. */
  ownerOf(slot: number): Promise<number>;
  /** The ports of the masters serving slots now. */
  masters(): Promise<number[]>;
  /** Moves `slot` (and its keys) from its master to the master on `toPort`, as a resharding does. */
  moveSlot(slot: number, toPort: number): Promise<void>;
  kill(port: number): Promise<void>;
  stop(): Promise<void>;
}

export async function startCluster(masters = 3): Promise<Cluster> {
  const dir = mkdtempSync(join(tmpdir(), 'chatdash-cluster-'));
  const nodes = new Map<number, ChildProcess>();
  const node = async (port: number) => {
    const args = ['--cluster-enabled', 'yes', '--cluster-node-timeout', '1000', '--dir', dir];
    args.push('--cluster-config-file', `nodes-${port}.conf`);
    nodes.set(port, await launchRedisServer(port, NOT_INSTALLED, args));
  };
  const ports: number[] = [];
  for (let i = 0; i < masters; i++) ports.push(await clusterPort());
  await Promise.all(ports.map(node));
  await run('redis-cli', [
    '--cluster',
    'create',
    ...ports.map((p) => `127.0.0.1:${p}`),
    '--cluster-replicas',
    '0',
    '--cluster-yes',
  ]);
  const ok = (port: number) => async () =>
    (await cli(port, 'CLUSTER', 'INFO')).includes('cluster_state:ok');
  for (const port of ports) await until(`cluster node ${port}`, ok(port));
  const ownerOf = async (slot: number) => {
    const slots = await clusterSlots([...nodes.keys()]);
    const owner = slots.find(([from, to]) => slot >= from && slot <= to);
    if (!owner) throw new Error(`no master owns slot ${slot}`);
    return Number(owner[2][1]);
  };
  return {
    ports,
    nodes,
    ownerOf,
    async masters() {
      const slots = await clusterSlots([...nodes.keys()]);
      return [...new Set(slots.map((range) => Number(range[2][1])))];
    },
    async addReplica(masterPort) {
      const port = await clusterPort();
      await node(port);
      // By CLUSTER MEET and REPLICATE, not redis-cli --cluster add-node, which gives up on a node that is down.
      const id = await cli(masterPort, 'CLUSTER', 'MYID');
      await cli(port, 'CLUSTER', 'MEET', '127.0.0.1', String(masterPort));
      await until(`node ${port} meets ${masterPort}`, async () =>
        (await cli(port, 'CLUSTER', 'NODES')).includes(id),
      );
      await until(
        `replica ${port} of ${masterPort}`,
        async () => (await cli(port, 'CLUSTER', 'REPLICATE', id)) === 'OK',
      );
      await until(`replica ${port}`, async () =>
        (await cli(port, 'INFO', 'replication')).includes('master_link_status:up'),
      );
      return port;
    },
    async moveSlot(slot, toPort) {
      const from = await ownerOf(slot);
      const fromId = await cli(from, 'CLUSTER', 'MYID');
      const toId = await cli(toPort, 'CLUSTER', 'MYID');
      await cli(toPort, 'CLUSTER', 'SETSLOT', String(slot), 'IMPORTING', fromId);
      await cli(from, 'CLUSTER', 'SETSLOT', String(slot), 'MIGRATING', toId);
      for (;;) {
        const keys = (await cli(from, 'CLUSTER', 'GETKEYSINSLOT', String(slot), '100'))
          .split('\n')
          .filter(Boolean);
        if (keys.length === 0) break;
        await cli(from, 'MIGRATE', '127.0.0.1', String(toPort), '', '0', '5000', 'KEYS', ...keys);
      }
      for (const port of nodes.keys())
        await cli(port, 'CLUSTER', 'SETSLOT', String(slot), 'NODE', toId).catch(() => '');
    },
    kill: (port) => stopProcess(nodes.get(port)!, 'SIGKILL'),
    async stop() {
      await Promise.all([...nodes.values()].map((child) => stopProcess(child, 'SIGKILL')));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** CLUSTER SLOTS from the first node that answers. */
async function clusterSlots(ports: number[]): Promise<[number, number, [string, number]][]> {
  for (const port of ports) {
    const redis = new Redis(port, '127.0.0.1', { lazyConnect: true, retryStrategy: () => null });
    redis.on('error', () => {});
    try {
      await redis.connect();
      return (await redis.cluster('SLOTS')) as unknown as [number, number, [string, number]][];
    } catch {
      // that node is down: ask the next
    } finally {
      redis.disconnect();
    }
  }
  throw new Error('no cluster node answers');
}
