/**
 * `npm run fleet`: a real fleet on one machine. N processes (each its own
 * client, 8 calls in flight) call a local upstream that lets R requests a
 * second through for the key and answers the rest 429 with `Retry-After: 1`,
 * for S seconds, four times: each process on its own (the default in-process
 * coordinator) and all on one Redis, first without a rate limit, then with
 * `rateLimit: { perSecond: R }`. One table row per run.
 *
 * It starts its own redis-server on a free port on 127.0.0.1 and stops it at
 * the end (or uses REDIS_URL when set, with a fresh key prefix per run).
 * `--topology cluster` starts a 3-master Redis Cluster instead (or takes
 * REDIS_URL as one node of a cluster), and the processes use ioredis's
 * `Cluster`; commands are counted on every master.
 *
 *   npm run fleet -- [--processes 8] [--seconds 10] [--rate 200]
 *     [--in-flight 8] [--latency-ms 20] [--topology standalone|cluster]
 *
 * scripts/bin/fleet.ts runs `main`; importing this module runs nothing.
 */
import { spawn } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { build } from 'esbuild';
import type { Redis } from 'ioredis';
import { connectRedis } from './fleet/member.js';
import { startCluster } from './fleet/redis-cluster.js';
import { startRedisServer, type OwnRedis } from './fleet/redis-server.js';
import { sentDuringOthersPause, startUpstream, type Upstream } from './fleet/upstream.js';
import type { WorkerPlan, WorkerTally } from './fleet/worker.js';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const step = (text: string) => process.stderr.write(`fleet: ${text}\n`);
/** How long the news of a 429 may take to reach the other processes before their requests count. */
const GRACE_MS = 100;
const API_KEY = 'ck_fleet_local_upstream';
const WORKER = join(repo, '.cache/fleet-worker.mjs');

interface Settings {
  processes: number;
  seconds: number;
  rate: number;
  inFlight: number;
  latencyMs: number;
  topology: 'standalone' | 'cluster';
}

/** Where the Redis runs go: the URL the processes connect to, and one admin connection per master. */
interface Target {
  redisUrl: string;
  admins: Redis[];
  cluster: boolean;
}

interface Run {
  coordinator: 'per process' | 'Redis';
  perSecond?: number;
}

export async function main(args: string[]): Promise<number> {
  let settings: Settings;
  try {
    settings = parse(args);
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n`);
    return 2;
  }
  const { processes, seconds, rate, inFlight, latencyMs, topology } = settings;
  const clustered = topology === 'cluster';

  let own: OwnRedis | undefined;
  let masters: number[] | undefined;
  const external = process.env['REDIS_URL'];
  if (!external) {
    try {
      if (clustered) {
        const cluster = await startCluster(3);
        masters = cluster.ports;
        own = { url: `redis://127.0.0.1:${masters[0]}`, pid: 0, stop: () => cluster.stop() };
      } else own = await startRedisServer();
    } catch (error) {
      process.stderr.write(`fleet: ${(error as Error).message}\n`);
      return 1;
    }
    step(
      clustered
        ? `3-master cluster on ${masters!.join(', ')}`
        : `redis-server pid ${own.pid} on ${own.url}`,
    );
  }
  const redisUrl = external ?? own!.url;
  const stopOnSignal = () => void own?.stop().finally(() => process.exit(130));
  process.once('SIGINT', stopOnSignal);
  process.once('SIGTERM', stopOnSignal);
  // Bundled once, so that each of the many processes starts in a fraction of the time tsx takes.
  await build({
    entryPoints: [join(repo, 'scripts/bin/fleet-worker.ts')],
    bundle: true,
    platform: 'node',
    format: 'esm',
    packages: 'external',
    outfile: WORKER,
    logLevel: 'warning',
  });
  const upstream = await startUpstream(rate, latencyMs);
  const admin = connectRedis(redisUrl);
  masters ??= clustered ? await masterPorts(admin) : undefined;
  const target: Target = {
    redisUrl,
    cluster: clustered,
    admins: masters ? masters.map((port) => connectRedis(`redis://127.0.0.1:${port}`)) : [admin],
  };
  try {
    console.log(
      `fleet: ${processes} processes, each ${inFlight} calls in flight, for ${seconds} s a run; ` +
        `upstream 127.0.0.1 allows ${rate} requests/s for the key (beyond it 429, Retry-After: 1), ${latencyMs} ms an answer; ` +
        `Redis ${external ? 'REDIS_URL' : clustered ? 'its own 3-master cluster (ioredis Cluster)' : 'its own redis-server'}\n` +
        `requests, 429s and successes/s: what reached the upstream in the ${seconds} s after "go"; latency: each call, start to settle, retries and pauses included; ` +
        `"sent in another's pause": requests from process B arriving from ${GRACE_MS} ms to 1 s after a 429 went to process A != B; ` +
        `Redis commands/call: INFO commandstats (less its own INFO calls; commands run inside Lua scripts included) from "go" to the last process's exit, over calls made; ` +
        `sent/call: the same from MONITOR, without the commands run inside scripts (what the processes sent)\n`,
    );
    console.log(
      "| coordinator | rateLimit | requests | 429s | successes/s | p50 ms | p99 ms | sent in another's pause | Redis commands/call | sent/call |",
    );
    console.log('|---|---|---:|---:|---:|---:|---:|---:|---:|---:|');
    const every: Run[] = [
      { coordinator: 'per process' },
      { coordinator: 'Redis' },
      { coordinator: 'per process', perSecond: rate },
      { coordinator: 'Redis', perSecond: rate },
    ];
    // On a cluster the per-process runs would only repeat the standalone ones.
    const runs = clustered ? every.filter((run) => run.coordinator === 'Redis') : every;
    for (const [i, run] of runs.entries()) {
      step(
        `run ${i + 1} of ${runs.length}: ${run.coordinator}${run.perSecond ? `, rateLimit ${run.perSecond}/s` : ''}`,
      );
      const prefix = `chatdash-fleet:${process.pid}:${i}:`;
      console.log(
        await once(
          run,
          prefix,
          settings,
          upstream,
          run.coordinator === 'Redis' ? target : undefined,
        ),
      );
    }
  } finally {
    for (const connection of new Set([admin, ...target.admins])) connection.disconnect();
    await upstream.close();
    if (own) {
      await own.stop();
      console.log(clustered ? '\ncluster stopped' : `\nredis-server pid ${own.pid} stopped`);
    }
    process.off('SIGINT', stopOnSignal);
    process.off('SIGTERM', stopOnSignal);
  }
  return 0;
}

async function once(
  run: Run,
  prefix: string,
  { processes, seconds, inFlight }: Settings,
  upstream: Upstream,
  redis: Target | undefined,
): Promise<string> {
  const durationMs = seconds * 1_000;
  let go!: () => void;
  const started = new Promise<void>((resolve) => (go = resolve));
  let ready = 0;
  let allReady!: () => void;
  const everyoneReady = new Promise<void>((resolve) => (allReady = resolve));
  const members = Array.from({ length: processes }, (_, index) => {
    const plan: WorkerPlan = {
      index,
      baseUrl: upstream.baseUrl,
      apiKey: API_KEY,
      inFlight,
      durationMs,
      ...(redis ? { redisUrl: redis.redisUrl, prefix, cluster: redis.cluster } : {}),
      ...(run.perSecond ? { perSecond: run.perSecond } : {}),
    };
    return new Promise<WorkerTally>((done, fail) => {
      const child = spawn(process.execPath, [WORKER], {
        cwd: repo,
        env: { ...process.env, FLEET_PLAN: JSON.stringify(plan) },
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      let isReady = false;
      child.stdout.on('data', (chunk: Buffer) => {
        stdout += chunk.toString();
        if (!isReady && stdout.includes('ready\n')) {
          isReady = true;
          if (++ready === processes) allReady();
          void started.then(() => child.stdin.end('go\n'));
        }
      });
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      const killer = setTimeout(() => child.kill('SIGKILL'), durationMs + 120_000);
      child.once('exit', (code, signal) => {
        clearTimeout(killer);
        if (!isReady) allReady(); // a process that died early must not hold the others
        child.stdin.destroy();
        try {
          if (code !== 0) throw new Error();
          done(JSON.parse(stdout.trim().split('\n').at(-1) ?? '') as WorkerTally);
        } catch {
          fail(
            new Error(
              `fleet process ${index} exited (${code ?? signal}) without a tally:\n${stderr}`,
            ),
          );
        }
      });
    });
  });
  await everyoneReady;
  if (redis) await sharing(redis, prefix, processes);
  // MONITOR tells the commands the processes sent from those their scripts ran inside Redis.
  const monitors = redis ? await Promise.all(redis.admins.map((a) => a.monitor())) : [];
  let sent = 0;
  for (const monitor of monitors)
    monitor.on('monitor', (_time: string, argv: string[], source: string) => {
      if (source !== 'lua' && argv[0]?.toLowerCase() !== 'info') sent++;
    });
  const before = redis ? await commandCount(redis.admins) : 0;
  upstream.reset();
  const goAt = performance.now();
  go();
  const tallies = await Promise.all(members);
  const commands = redis ? (await commandCount(redis.admins)) - before : 0;
  monitors.forEach((monitor) => monitor.disconnect());

  const arrivals = upstream.arrivals.filter((a) => a.at < goAt + durationMs);
  const limited = arrivals.filter((a) => a.limited).length;
  const latencies = tallies.flatMap((t) => t.latencies).sort((a, b) => a - b);
  const calls = tallies.reduce((sum, t) => sum + t.calls, 0);
  const row = [
    redis?.cluster ? 'Redis Cluster (3 masters)' : run.coordinator,
    run.perSecond ? `perSecond ${number(run.perSecond)}` : 'off',
    number(arrivals.length),
    number(limited),
    number((arrivals.length - limited) / seconds, 1),
    number(percentile(latencies, 0.5)),
    number(percentile(latencies, 0.99)),
    number(sentDuringOthersPause(arrivals, GRACE_MS)),
    redis ? number(calls === 0 ? 0 : commands / calls, 2) : '–',
    redis ? number(calls === 0 ? 0 : sent / calls, 2) : '–',
  ];
  return `| ${row.join(' | ')} |`;
}

/** Waits until every process listens on the scope's channel (sharded on a cluster), so a pause reaches all of them. */
async function sharing(redis: Target, prefix: string, processes: number): Promise<void> {
  const until = Date.now() + 20_000;
  const [list, count] = redis.cluster ? ['SHARDCHANNELS', 'SHARDNUMSUB'] : ['CHANNELS', 'NUMSUB'];
  for (;;) {
    for (const admin of redis.admins) {
      const channels = (await admin.pubsub(list as 'CHANNELS', `${prefix}*`)) as string[];
      if (channels.length === 0) continue;
      const [, n] = (await admin.pubsub(count as 'NUMSUB', channels[0]!)) as [string, number];
      if (n >= processes) return;
    }
    if (Date.now() > until) {
      step(`warning: not every process subscribed within 20 s; running anyway`);
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Every command the masters have run so far, less the INFO commands that asked. */
async function commandCount(admins: Redis[]): Promise<number> {
  let total = 0;
  for (const admin of admins) {
    const info = await admin.info('commandstats');
    for (const match of info.matchAll(/^cmdstat_([\w|]+):calls=(\d+)/gm)) {
      if (match[1] !== 'info') total += Number(match[2]);
    }
  }
  return total;
}

/** The masters of the cluster `admin` is a node of. */
async function masterPorts(admin: Redis): Promise<number[]> {
  const slots = (await admin.cluster('SLOTS')) as unknown as [number, number, [string, number]][];
  return [...new Set(slots.map((range) => Number(range[2][1])))];
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)]!;
}

const number = (n: number, digits = 0) =>
  n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

function parse(args: string[]): Settings {
  const { values } = parseArgs({
    args,
    options: {
      processes: { type: 'string', default: '8' },
      seconds: { type: 'string', default: '10' },
      rate: { type: 'string', default: '200' },
      'in-flight': { type: 'string', default: '8' },
      'latency-ms': { type: 'string', default: '20' },
      topology: { type: 'string', default: 'standalone' },
    },
  });
  const topology = values.topology;
  if (topology !== 'standalone' && topology !== 'cluster')
    throw new Error(
      `fleet: --topology must be standalone or cluster, got ${JSON.stringify(topology)}`,
    );
  const positive = (name: string, text: string, integer: boolean) => {
    const n = Number(text);
    if (!Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n)))
      throw new Error(
        `fleet: --${name} must be a positive ${integer ? 'integer' : 'number'}, got ${JSON.stringify(text)}`,
      );
    return n;
  };
  const latencyMs = Number(values['latency-ms']);
  if (!(latencyMs >= 0))
    throw new Error(
      `fleet: --latency-ms must be 0 or more, got ${JSON.stringify(values['latency-ms'])}`,
    );
  return {
    processes: positive('processes', values.processes, true),
    seconds: positive('seconds', values.seconds, false),
    rate: positive('rate', values.rate, false),
    inFlight: positive('in-flight', values['in-flight'], true),
    latencyMs,
    topology,
  };
}
