/**
 * The runner behind `npm test`'s checks (scripts/check.ts), on small fake steps:
 * it runs independent steps at once, names a failing step and exits non-zero,
 * still runs the steps that do not need the failed one, and skips those that do.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GROUPS, run, select, STEPS, type Step } from '../../scripts/check.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'chatdash-check-'));
  // Writes its own file, then waits for the other one's: it passes only when
  // the other step runs at the same time (a runner that runs steps one after
  // another leaves the first waiting until it gives up).
  await writeFile(
    join(dir, 'meet.mjs'),
    `import { existsSync, writeFileSync } from 'node:fs';
const [mine, theirs] = process.argv.slice(2);
writeFileSync(mine, '');
const until = Date.now() + 20_000;
while (!existsSync(theirs)) {
  if (Date.now() > until) { console.log('gave up waiting for ' + theirs); process.exit(1); }
  await new Promise((r) => setTimeout(r, 50));
}
console.log('met ' + theirs);
`,
  );
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const node = JSON.stringify(process.execPath);
const script = (body: string): string => `${node} -e ${JSON.stringify(body)}`;

async function runLogged(steps: Step[]): Promise<{ code: number; log: string }> {
  let log = '';
  const code = await run(steps, { cwd: dir, write: (text) => (log += text) });
  return { code, log };
}

describe('npm run check', () => {
  it('runs independent steps at the same time', async () => {
    const { code, log } = await runLogged([
      { name: 'left', command: `${node} meet.mjs left.flag right.flag` },
      { name: 'right', command: `${node} meet.mjs right.flag left.flag` },
    ]);
    expect(log).toContain('met right.flag');
    expect(log).toContain('met left.flag');
    expect(log).toMatch(/check: all 2 steps passed/);
    expect(code).toBe(0);
  });

  it('names a failing step, exits non-zero, finishes the others and skips what needs it', async () => {
    const { code, log } = await runLogged([
      { name: 'breaks', command: script("console.error('the broken part'); process.exit(3)") },
      {
        name: 'slow-but-fine',
        command: script("setTimeout(() => console.log('fine output'), 300)"),
      },
      { name: 'after-break', command: script("console.log('ran' + '-after')"), needs: ['breaks'] },
    ]);
    expect(code).not.toBe(0);
    // Each step's output is printed in one block under its name.
    expect(log).toMatch(/── breaks: FAILED \(exit 3\) in [\d.]+ s ──[^\n]*\nthe broken part\n/);
    expect(log).toMatch(/── slow-but-fine: passed in [\d.]+ s ──[^\n]*\nfine output\n/);
    expect(log).not.toContain('ran-after');
    expect(log).toContain('after-break: skipped (needs breaks');
    expect(log).toMatch(/check: FAILED in [\d.]+ s: breaks \(skipped: after-break\)\n$/);
  });

  it('starts a step only after the steps it needs have passed', async () => {
    const { code, log } = await runLogged([
      {
        name: 'second',
        command: script("require('fs').readFileSync('first.txt')"),
        needs: ['first'],
      },
      {
        name: 'first',
        command: script("setTimeout(() => require('fs').writeFileSync('first.txt', ''), 300)"),
      },
    ]);
    expect(log).toMatch(/second: passed/);
    expect(code).toBe(0);
  });
});

describe('the steps of npm test', () => {
  it('keep every check the sequential prefix made, the build only once', () => {
    const commands = STEPS.map((step) => step.command);
    for (const part of [
      'npm run -s generate -- --check',
      'tsc --noEmit ',
      'eslint . ',
      'prettier --check . ',
      'npm run -s lint:spec',
      'npm run -s lint:workflows',
      'npm run -s build',
      'npm run -s api-report',
    ]) {
      expect(commands.filter((command) => `${command} `.startsWith(part))).toHaveLength(1);
    }
    expect(commands.some((command) => command.startsWith('publint --strict '))).toBe(true);
    expect(
      commands.some((command) => /^attw \S+\.tgz --exclude-entrypoints spec\.yaml$/.test(command)),
    ).toBe(true);
    // Packing must not run prepack, which would build a second time.
    const packs = commands.filter((command) => command.includes('npm pack'));
    expect(packs).toHaveLength(1);
    expect(packs[0]).toContain('--ignore-scripts');
    expect(commands.filter((command) => /\bbuild\b|\btsup\b/.test(command))).toHaveLength(1);
  });

  it('selects a group with what it needs: lint alone, check-exports with its build', () => {
    expect(select(STEPS, ['lint']).map((step) => step.name)).toEqual(GROUPS['lint']);
    expect(select(STEPS, ['exports']).map((step) => step.name)).toEqual([
      'build',
      'pack',
      'publint',
      'attw',
    ]);
    expect(() => select(STEPS, ['nope'])).toThrow(/no step or group named "nope"/);
  });
});
