/**
 * Issue 20's rows for `npm run bench`: what `rateLimit` and `circuitBreaker`
 * cost a call when they never engage (a rate far above what the bench sends,
 * an upstream that never fails), against the same client without them. The
 * target is at most +5 % CPU per call. Kept apart from run.ts, which only
 * spreads the rows into its clients and prints `flowCost`.
 */
import { OPEN_SCOPE } from '../src/coordination/coordinator.js';
import { MemoryCoordinator } from '../src/coordination/memory.js';
import { monotonic } from '../src/coordination/clock.js';
import { createChatDashClient } from '../src/index.js';
import type { Call, Outcome } from '../src/pipeline.js';
import { breaker } from '../src/policies/breaker.js';
import { rateLimit as rateLimitStep } from '../src/policies/rate-limit.js';
import { Waits } from '../src/policies/waits.js';
import { Redactor } from '../src/redact.js';

export const BASELINE = 'chatdash-client';
export const RATE_LIMIT = 'chatdash-client + rateLimit, never waiting';
export const CIRCUIT_BREAKER = 'chatdash-client + circuitBreaker, never opening';
export const BOTH = 'chatdash-client + rateLimit + circuitBreaker, neither engaging';

// 100,000/s with a burst of 1,000,000: no call of the bench waits for a slot.
const rateLimit = { perSecond: 100_000, burst: 1_000_000 };
const circuitBreaker = { failureThreshold: 20, openMs: 5_000 };

export function flowRows(
  apiKey: string,
  baseUrl: string,
  params: { agentId: string; conversationId: string },
): Record<string, () => Promise<unknown>> {
  const limited = createChatDashClient({ apiKey, baseUrl, rateLimit });
  const guarded = createChatDashClient({ apiKey, baseUrl, circuitBreaker });
  const both = createChatDashClient({ apiKey, baseUrl, rateLimit, circuitBreaker });
  return {
    [RATE_LIMIT]: () => limited.getConversation(params),
    [CIRCUIT_BREAKER]: () => guarded.getConversation(params),
    [BOTH]: () => both.getConversation(params),
  };
}

/**
 * The extra CPU per request of each row over the plain client (the median of
 * per-round ratios); then, since whole rounds on a shared machine differ by
 * more than 5 %, the two steps alone: what they add to one attempt that
 * neither waits nor is refused.
 */
export async function flowCost(
  runs: Record<string, { cpuUs: number }[]>,
  median: (values: number[]) => number,
): Promise<string> {
  const base = runs[BASELINE] ?? [];
  const lines = [RATE_LIMIT, CIRCUIT_BREAKER, BOTH].map((name) => {
    const ratio = median((runs[name] ?? []).map((r, i) => r.cpuUs / base[i]!.cpuUs));
    return `- ${name}: ${ratio >= 1 ? '+' : ''}${((ratio - 1) * 100).toFixed(1)} % CPU per request vs "${BASELINE}"`;
  });
  const baseUs = median(base.map((r) => r.cpuUs));
  const stepsUs = await stepsAloneUs();
  lines.push(
    `- the rateLimit and breaker steps alone (a free slot, a closed circuit): ` +
      `${stepsUs.toFixed(2)} µs per attempt, ${((stepsUs / baseUs) * 100).toFixed(2)} % of "${BASELINE}"'s ${baseUs.toFixed(0)} µs`,
  );
  return lines.join('\n');
}

/** CPU µs per attempt of `rateLimit` then `breaker` around an attempt that succeeds at once, minus that attempt alone. */
async function stepsAloneUs(calls = 200_000): Promise<number> {
  const scope = new MemoryCoordinator(monotonic)[OPEN_SCOPE]('http://127.0.0.1:1', 'bench', {
    budget: false,
    rateLimit: { perSecond: 100_000, burst: 1_000_000, adaptive: false },
    circuitBreaker,
    log: { warn() {}, info() {} },
  });
  const call = { attempts: [] } as unknown as Call;
  const waits = new Waits(monotonic, new Redactor('bench'));
  const limit = rateLimitStep(scope, waits);
  const circuit = breaker(scope, waits);
  const outcome = {} as Outcome;
  const send = () => Promise.resolve(outcome);
  const withSteps = () => limit(call, () => circuit(call, send));
  const time = async (attempt: () => Promise<Outcome>) => {
    for (let i = 0; i < calls; i++) await attempt(); // warm-up
    const cpu = process.cpuUsage();
    for (let i = 0; i < calls; i++) await attempt();
    const used = process.cpuUsage(cpu);
    return (used.user + used.system) / calls;
  };
  return (await time(withSteps)) - (await time(send));
}
