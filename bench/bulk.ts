/**
 * The `getConversations` row of `npm run bench`: 2,000 conversations at
 * concurrency 32 through one default client, against the bench server. Each
 * round also runs the same 2,000 calls as 32 plain `getConversation` loops,
 * right after, so the ratio says what the bulk scheduling costs on a noisy
 * machine. Kept in its own file so `run.ts` only calls it.
 */
import { performance } from 'node:perf_hooks';
import type { ChatDashClient } from '../src/index.js';

const COUNT = 2_000;
const CONCURRENCY = 32;

interface Run {
  rps: number;
  cpuUs: number;
}

export interface BulkRound {
  bulk: Run;
  loops: Run;
}

const params = Array.from({ length: COUNT }, (_, i) => ({
  agentId: 'agent_1',
  conversationId: `conv_${i}`,
}));

async function timed(work: () => Promise<void>): Promise<Run> {
  const cpu = process.cpuUsage();
  const start = performance.now();
  await work();
  const seconds = (performance.now() - start) / 1000;
  const used = process.cpuUsage(cpu);
  return { rps: COUNT / seconds, cpuUs: (used.user + used.system) / COUNT };
}

/** One round; throws if any item failed, so a broken run is never a figure. */
export async function measureBulk(client: ChatDashClient): Promise<BulkRound> {
  let failed = 0;
  const bulk = await timed(async () => {
    for await (const result of client.getConversations(params, { concurrency: CONCURRENCY }))
      if (result.error) failed++;
  });
  if (failed) throw new Error(`bench: ${failed} of ${COUNT} getConversations items failed`);
  let next = 0;
  const loops = await timed(async () => {
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < COUNT) await client.getConversation(params[next++]!);
      }),
    );
  });
  return { bulk, loops };
}

/** Medians over rounds, as one line under the main table. */
export function bulkLine(rounds: BulkRound[]): string {
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1]!;
  const rps = median(rounds.map((r) => r.bulk.rps));
  const cpuUs = median(rounds.map((r) => r.bulk.cpuUs));
  const cpuRatio = median(rounds.map((r) => r.bulk.cpuUs / r.loops.cpuUs));
  const rpsRatio = median(rounds.map((r) => r.bulk.rps / r.loops.rps));
  return (
    `getConversations: 2,000 at concurrency 32 (median of ${rounds.length} rounds): ` +
    `${rps.toFixed(0)} req/s, ${cpuUs.toFixed(1)} CPU µs/req; ` +
    `vs 32 getConversation loops: req/s x ${rpsRatio.toFixed(2)}, CPU x ${cpuRatio.toFixed(2)}`
  );
}
