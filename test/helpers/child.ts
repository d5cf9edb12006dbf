/**
 * Runs a fixture script in its own Node process (bundled, test/helpers/bundle.ts)
 * and reports how it ended: a process that must exit by itself is killed after
 * `killAfterMs`.
 */
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { expect } from 'vitest';
import { bundled } from './bundle.js';

const repo = resolve(import.meta.dirname, '../..');

export interface ChildRun {
  code: number | null;
  /** Set when the process had to be killed. */
  signal: string | null;
  stdout: string;
  stderr: string;
  /** From its first byte on stdout to its exit. */
  lingeredSeconds: number;
}

export async function runFixture(
  fixture: string,
  env: Record<string, string>,
  killAfterMs: number,
): Promise<ChildRun> {
  const child = spawn(process.execPath, [await bundled(fixture)], {
    cwd: repo,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  let printedAt = 0;
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
    printedAt ||= performance.now();
  });
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const killer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
  const [code, signal] = await new Promise<[number | null, string | null]>((done) =>
    child.once('exit', (c, s) => done([c, s])),
  );
  clearTimeout(killer);
  return { code, signal, stdout, stderr, lingeredSeconds: (performance.now() - printedAt) / 1000 };
}

/**
 * Runs a fixture against `baseUrl` (as CHATDASH_BASE_URL) and checks that it
 * exited by itself: not killed after `killAfterMs`, exit code 0, and gone
 * within 2.5 s of printing its result (an idle keep-alive socket would hold it
 * 5 s, a forgotten default timeout 30 s). Returns its stdout parsed as JSON.
 */
export async function expectExitByItself(
  fixture: string,
  baseUrl: string,
  killAfterMs: number,
): Promise<{ result: unknown; stderr: string }> {
  const run = await runFixture(fixture, { CHATDASH_BASE_URL: baseUrl }, killAfterMs);
  expect(run.signal, `killed: the process did not exit by itself\n${run.stderr}`).toBeNull();
  expect(run.code, run.stderr).toBe(0);
  expect(run.lingeredSeconds, 'seconds from its result to its exit').toBeLessThan(2.5);
  return { result: JSON.parse(run.stdout) as unknown, stderr: run.stderr };
}
