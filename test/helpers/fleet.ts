/**
 * Starts a fleet of fixture processes (test/fixtures/redis-fleet.ts, bundled:
 * test/helpers/bundle.ts), waits until every one is ready, starts them together and collects
 * each one's tally. A process that does not exit by itself within
 * `killAfterMs` is killed, and that shows in its `signal`.
 */
import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { expect } from 'vitest';
import type { FleetPlan } from '../fixtures/redis-fleet.js';
import { bundled } from './bundle.js';
import { scopeChannel, subscribers } from './redis.js';

const repo = resolve(import.meta.dirname, '../..');
const fixture = join(repo, 'test/fixtures/redis-fleet.ts');

export interface Tally {
  ok: number;
  errors: Record<string, number>;
  /** How long each call that the open circuit refused took to settle. */
  rejectedMs: number[];
  /** When (Date.now()) the circuit first refused a call here; 0 if never. */
  firstRejectAt: number;
  made: number;
  logs: { level: string; message: string }[];
  /** When each request left (Date.now()), and when each 429 came back. */
  sends: number[];
  limited: number[];
}

export interface Member {
  code: number | null;
  signal: string | null;
  stderr: string;
  tally: Tally;
  /** From its last output (the tally) to its exit. */
  lingeredMs: number;
}

export interface Fleet {
  /** performance.now() in this process when the fleet was told to go. */
  startedAt: number;
  members: Member[];
}

export async function runFleet(
  plans: FleetPlan[],
  { killAfterMs = 60_000, beforeGo }: { killAfterMs?: number; beforeGo?: () => Promise<void> } = {},
): Promise<Fleet> {
  let go!: () => void;
  const started = new Promise<void>((resolve) => (go = resolve));
  let readyCount = 0;
  let startedAt = 0;
  const script = await bundled(fixture);
  const runs = plans.map(
    (plan) =>
      new Promise<Member>((done) => {
        const child = spawn(process.execPath, [script], {
          cwd: repo,
          env: { ...process.env, FLEET: JSON.stringify(plan) },
          stdio: ['pipe', 'pipe', 'pipe'],
        });
        let stdout = '';
        let stderr = '';
        let ready = false;
        let printedAt = 0;
        child.stdout.on('data', (chunk: Buffer) => {
          stdout += chunk.toString();
          printedAt = performance.now();
          if (!ready && stdout.includes('ready\n')) {
            ready = true;
            if (++readyCount === plans.length)
              void (beforeGo?.() ?? Promise.resolve()).then(() => {
                startedAt = performance.now();
                go();
              });
            void started.then(() => child.stdin.end('go\n'));
          }
        });
        child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
        const killer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
        child.once('exit', (code, signal) => {
          clearTimeout(killer);
          if (!ready) go(); // a process that died early must not hold the others forever
          child.stdin.destroy();
          const last = stdout.trim().split('\n').at(-1) ?? '';
          let tally: Tally;
          try {
            tally = JSON.parse(last) as Tally;
          } catch {
            tally = {
              ok: 0,
              errors: { 'no tally': 1 },
              rejectedMs: [],
              firstRejectAt: 0,
              made: 0,
              logs: [],
              sends: [],
              limited: [],
            };
          }
          done({ code, signal, stderr, tally, lingeredMs: performance.now() - printedAt });
        });
      }),
  );
  const members = await Promise.all(runs);
  return { startedAt, members };
}

/**
 * A `beforeGo` for runFleet: waits until `count` processes listen on the
 * scope's channel on `redisUrl`, and a moment for them to read its state.
 */
export function sharing(redisUrl: string, baseUrl: string, apiKey: string, count = 4) {
  return async () => {
    await subscribers(redisUrl, scopeChannel(baseUrl, apiKey), count);
    await new Promise((resolve) => setTimeout(resolve, 100));
  };
}

/** Every process exited by itself, with code 0 and nothing on stderr. */
export function expectAllExited(fleet: Fleet): void {
  for (const member of fleet.members) {
    expect(member.stderr).toBe('');
    expect({ code: member.code, signal: member.signal }).toEqual({ code: 0, signal: null });
  }
}
