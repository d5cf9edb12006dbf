/**
 * Redis as fleets run it, started from the same redis-server binary as the
 * standalone one: a 3-master cluster (and a replica to fail over to), a
 * master with a replica and three Sentinels, a TLS port with a certificate
 * made by openssl now. Each lives in a temporary directory and is stopped
 * (SIGKILL, nothing to keep) by its `stop`.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cli, clusterPort, NOT_INSTALLED, run, until } from '../../scripts/fleet/redis-cluster.js';
import { launchRedis, launchRedisServer, stopProcess } from '../../scripts/fleet/redis-server.js';

export { startCluster, type Cluster } from '../../scripts/fleet/redis-cluster.js';

export interface Sentinels {
  masterPort: number;
  replicaPort: number;
  sentinelPorts: number[];
  /** The name the Sentinels monitor the master by. */
  name: string;
  killMaster(): Promise<void>;
  /** Resolves with the new master's port once a Sentinel reports the promotion. */
  promoted(): Promise<number>;
  stop(): Promise<void>;
}

export async function startSentinels(): Promise<Sentinels> {
  const dir = mkdtempSync(join(tmpdir(), 'chatdash-sentinel-'));
  const name = 'chatdash';
  const [masterPort, replicaPort, ...sentinelPorts] = await Promise.all(
    [0, 1, 2, 3, 4].map(() => clusterPort()),
  );
  // Their own directory: a replica writes the RDB it is sent where it runs.
  const master = await launchRedisServer(masterPort!, NOT_INSTALLED, ['--dir', dir]);
  const replica = await launchRedisServer(replicaPort!, NOT_INSTALLED, [
    '--dir',
    dir,
    '--replicaof',
    '127.0.0.1',
    String(masterPort),
  ]);
  await until('replica in sync', async () =>
    (await cli(replicaPort!, 'INFO', 'replication')).includes('master_link_status:up'),
  );
  const sentinels = await Promise.all(
    sentinelPorts.map((port) => {
      const file = join(dir, `sentinel-${port}.conf`);
      writeFileSync(
        file,
        [
          `port ${port}`,
          'bind 127.0.0.1',
          `dir ${dir}`,
          `sentinel monitor ${name} 127.0.0.1 ${masterPort} 2`,
          `sentinel down-after-milliseconds ${name} 1000`,
          `sentinel failover-timeout ${name} 2000`,
          '',
        ].join('\n'),
      );
      return launchRedis([file, '--sentinel'], port, NOT_INSTALLED);
    }),
  );
  const all = [master, replica, ...sentinels];
  return {
    masterPort: masterPort!,
    replicaPort: replicaPort!,
    sentinelPorts,
    name,
    killMaster: () => stopProcess(master, 'SIGKILL'),
    async promoted() {
      let port = masterPort!;
      await until(
        'promotion',
        async () => {
          const reply = await cli(sentinelPorts[0]!, 'SENTINEL', 'get-master-addr-by-name', name);
          port = Number(reply.split('\n')[1]);
          return port !== masterPort;
        },
        30_000,
      );
      return port;
    },
    async stop() {
      await Promise.all(all.map((child) => stopProcess(child, 'SIGKILL')));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface TlsRedis {
  port: number;
  /** The self-signed certificate (PEM), for the client's `ca`. */
  ca: string;
  stop(): Promise<void>;
}

/** A redis-server that listens only over TLS, with a certificate for 127.0.0.1 made now. */
export async function startTlsRedis(): Promise<TlsRedis> {
  const dir = mkdtempSync(join(tmpdir(), 'chatdash-tls-'));
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  await run('openssl', [
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '1',
    '-subj',
    '/CN=127.0.0.1',
    '-addext',
    'subjectAltName=IP:127.0.0.1',
    '-keyout',
    key,
    '-out',
    cert,
  ]);
  const port = await clusterPort();
  const child = await launchRedis(
    [
      '--port',
      '0',
      '--tls-port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--tls-cert-file',
      cert,
      '--tls-key-file',
      key,
      '--tls-ca-cert-file',
      cert,
      '--tls-auth-clients',
      'no',
    ],
    port,
    NOT_INSTALLED,
  );
  const ca = readFileSync(cert, 'utf8');
  return {
    port,
    ca,
    async stop() {
      await stopProcess(child, 'SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
