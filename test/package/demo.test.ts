/**
 * `npm run demo` minus its generate/build steps (--skip-build; npm test has
 * just built): Prism starts, the CLI prints a conversation, Prism stops, also on Ctrl-C.
 * The script runs bundled in plain Node rather than through tsx, whose parent
 * process SIGKILLs its child when the child has not acknowledged a relayed
 * signal within 30 ms (common on a loaded machine); the SIGINT goes to the demo itself.
 */
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bundled } from '../helpers/bundle.js';

const repo = resolve(import.meta.dirname, '../..');

async function startDemo() {
  const child = spawn(process.execPath, [await bundled('scripts/bin/demo.ts'), '--skip-build'], {
    cwd: repo,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
  return { child, exited, out: () => stdout, err: () => stderr };
}

function prismPid(stderr: string): number {
  const pid = /Prism is listening on \S+ \(pid (\d+)\)/.exec(stderr)?.[1];
  expect(pid, stderr).toBeDefined();
  return Number(pid);
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('the demo', () => {
  it('prints one conversation as JSON, a progress line per step, and leaves no Prism behind', async () => {
    const demo = await startDemo();
    expect(await demo.exited).toBe(0);
    const conversation = JSON.parse(demo.out()) as Record<string, unknown>;
    expect(typeof conversation['_id']).toBe('string');
    expect(demo.err()).toMatch(
      /demo: starting the Prism mock[\s\S]*demo: fetching[\s\S]*demo: stopping Prism/,
    );
    expect(isRunning(prismPid(demo.err()))).toBe(false);
  });

  it('stops Prism on Ctrl-C', async () => {
    const demo = await startDemo();
    await new Promise<void>((ready) => {
      const poll = () =>
        demo.err().includes('Prism is listening') ? ready() : setTimeout(poll, 20);
      poll();
    });
    demo.child.kill('SIGINT');
    expect(await demo.exited).toBe(130);
    expect(isRunning(prismPid(demo.err()))).toBe(false);
  });
});
