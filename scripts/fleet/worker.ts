/**
 * One process of `npm run fleet`. Builds a client (with a Redis coordinator
 * when the plan names a Redis), prints `ready`, waits for `go` on stdin,
 * keeps `inFlight` calls going for `durationMs`, prints its tally as one
 * JSON line, closes what it opened and returns, so the process exits by itself.
 */
import { performance } from 'node:perf_hooks';
import { createChatDashClient } from '../../src/index.js';
import { openCoordinator, readyThenGo } from './member.js';

export interface WorkerPlan {
  index: number;
  baseUrl: string;
  apiKey: string;
  redisUrl?: string;
  prefix?: string;
  /** `redisUrl` is a node of a Redis Cluster: connect an ioredis `Cluster`. */
  cluster?: boolean;
  perSecond?: number;
  inFlight: number;
  durationMs: number;
}

export interface WorkerTally {
  calls: number;
  ok: number;
  errors: Record<string, number>;
  /** Each call's time from start to settle (ms), retries and pauses included. */
  latencies: number[];
}

export async function work(plan: WorkerPlan): Promise<void> {
  const shared = plan.redisUrl
    ? await openCoordinator(plan.redisUrl, { prefix: plan.prefix, timeoutMs: 1_000 }, plan.cluster)
    : undefined;
  const chatdash = createChatDashClient({
    apiKey: plan.apiKey,
    baseUrl: plan.baseUrl,
    // The upstream tells the processes apart by this header.
    headers: { 'x-fleet-process': String(plan.index) },
    logLevel: 'off',
    tracing: false,
    ...(plan.perSecond ? { rateLimit: { perSecond: plan.perSecond } } : {}),
    ...(shared ? { coordinator: shared.coordinator } : {}),
  });
  // A first call before `ready`, so the scope exists (and is subscribed to) before the run starts.
  await chatdash
    .getConversation({ agentId: 'agent_fleet', conversationId: 'warm-up' })
    .catch(() => undefined);
  await readyThenGo();

  const tally: WorkerTally = { calls: 0, ok: 0, errors: {}, latencies: [] };
  const start = performance.now();
  await Promise.all(
    Array.from({ length: plan.inFlight }, async () => {
      while (performance.now() - start < plan.durationMs) {
        const began = performance.now();
        tally.calls++;
        try {
          await chatdash.getConversation({
            agentId: 'agent_fleet',
            conversationId: String(tally.calls),
          });
          tally.ok++;
        } catch (error) {
          const name = (error as Error).name;
          tally.errors[name] = (tally.errors[name] ?? 0) + 1;
        }
        tally.latencies.push(performance.now() - began);
      }
    }),
  );
  process.stdout.write(`${JSON.stringify(tally)}\n`);
  await shared?.close();
}
