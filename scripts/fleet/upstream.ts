/**
 * The upstream of `npm run fleet`: a node:http server on 127.0.0.1 that lets
 * `perSecond` requests a second through for the key (a token bucket holding
 * at most one second's worth) and answers the rest 429 with `Retry-After: 1`.
 * It notes when each request arrived, from which process (the
 * `x-fleet-process` header), and when it sent each 429, to which process.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { makeConversation } from '../../src/testing.js';

export interface Arrival {
  /** performance.now() in this process. */
  at: number;
  process: number;
  limited: boolean;
}

export interface Upstream {
  baseUrl: string;
  /** Everything since the last `reset`. */
  arrivals: Arrival[];
  /** Forgets what it saw and fills the bucket: a run starts. */
  reset(): void;
  close(): Promise<void>;
}

export async function startUpstream(perSecond: number, latencyMs: number): Promise<Upstream> {
  const body = JSON.stringify(makeConversation());
  let arrivals: Arrival[] = [];
  let tokens = perSecond;
  let refilled = performance.now();
  const admitted = (now: number) => {
    tokens = Math.min(perSecond, tokens + ((now - refilled) * perSecond) / 1_000);
    refilled = now;
    if (tokens < 1) return false;
    tokens--;
    return true;
  };
  const server: Server = createServer((req, res) => {
    const now = performance.now();
    const limited = !admitted(now);
    arrivals.push({ at: now, process: Number(req.headers['x-fleet-process'] ?? -1), limited });
    req.resume();
    const answer = () => {
      if (limited) {
        res.writeHead(429, { 'content-type': 'application/json', 'retry-after': '1' });
        res.end('{"message":"Too Many Requests"}');
      } else {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(body);
      }
    };
    // The limit is decided on arrival; only the answer takes the service time.
    if (latencyMs > 0) setTimeout(answer, latencyMs);
    else answer();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    get arrivals() {
      return arrivals;
    },
    reset() {
      arrivals = [];
      tokens = perSecond;
      refilled = performance.now();
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * Requests that arrived while another process had been told to pause: from
 * `graceMs` after a 429 (with `Retry-After: 1`) went to process A until 1 s
 * after it, any request from a process other than A.
 */
export function sentDuringOthersPause(arrivals: Arrival[], graceMs: number): number {
  const pauses = new Map<number, number[]>();
  for (const a of arrivals) {
    if (!a.limited) continue;
    const list = pauses.get(a.process) ?? [];
    list.push(a.at); // arrivals are in time order, so each list is sorted
    pauses.set(a.process, list);
  }
  let count = 0;
  for (const a of arrivals) {
    for (const [process, times] of pauses) {
      if (process === a.process) continue;
      // The latest 429 to `process` at least graceMs before this request: is its second still running?
      const t = latestAtOrBefore(times, a.at - graceMs);
      if (t !== undefined && a.at < t + 1_000) {
        count++;
        break;
      }
    }
  }
  return count;
}

function latestAtOrBefore(sorted: number[], limit: number): number | undefined {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! <= limit) lo = mid + 1;
    else hi = mid;
  }
  return lo === 0 ? undefined : sorted[lo - 1];
}
