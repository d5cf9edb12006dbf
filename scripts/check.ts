/**
 * `npm run check`: every check `npm test` makes before vitest, run as
 * concurrent steps. A step starts as soon as the steps it needs have passed,
 * so generate --check, each part of lint and the build chain all run at once.
 * A step's output is held until it ends, then printed in one block under its
 * name and time, so the log reads as if the steps had run one after another.
 * A failing step stops only the steps that need it; the others run to the end,
 * so one run shows every failure. The summary names each failed step and the
 * exit code is 1 when any step failed or was skipped.
 */
import { spawn } from 'node:child_process';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');

export interface Step {
  /** Shown in the log and the summary; what other steps list in `needs`. */
  name: string;
  /** Run by the shell in the repository, with node_modules/.bin first on PATH. */
  command: string;
  /** Steps that must pass before this one starts. */
  needs?: string[];
}

// The tarball the build chain packs once. `--ignore-scripts`: prepack would
// build a second time what the build step has just built.
const PACKED = '.cache/pack';

export const STEPS: Step[] = [
  { name: 'generate --check', command: 'npm run -s generate -- --check' },
  // tsc, eslint and prettier keep what they learnt in .cache/, keyed by file
  // contents: a later run (a developer's next one, CI's next Node version)
  // checks again only the files that changed and, for tsc, what depends on them.
  { name: 'tsc', command: 'tsc --noEmit --incremental --tsBuildInfoFile .cache/tsc/tsbuildinfo' },
  {
    name: 'eslint',
    command: 'eslint . --cache --cache-strategy content --cache-location .cache/eslint/',
  },
  {
    name: 'prettier',
    command:
      'prettier --check . --cache --cache-strategy content --cache-location .cache/prettier/cache.json',
  },
  { name: 'lint:spec', command: 'npm run -s lint:spec' },
  { name: 'lint:workflows', command: 'npm run -s lint:workflows' },
  { name: 'build', command: 'npm run -s build' },
  { name: 'api-report', command: 'npm run -s api-report', needs: ['build'] },
  {
    name: 'pack',
    command: `rm -rf ${PACKED} && mkdir -p ${PACKED} && npm pack --ignore-scripts --pack-destination ${PACKED}`,
    needs: ['build'],
  },
  { name: 'publint', command: `publint --strict ${PACKED}/*.tgz`, needs: ['pack'] },
  // attw skips the spec.yaml entry: a YAML file it cannot resolve as code or types.
  {
    name: 'attw',
    command: `attw ${PACKED}/*.tgz --exclude-entrypoints spec.yaml`,
    needs: ['pack'],
  },
];

/** Names that stand for several steps on the command line. */
export const GROUPS: Record<string, string[]> = {
  lint: ['tsc', 'eslint', 'prettier', 'lint:spec', 'lint:workflows'],
  exports: ['publint', 'attw'],
};

/** The steps named (or grouped) in `names` and every step they need; all steps when none. */
export function select(steps: readonly Step[], names: readonly string[]): Step[] {
  if (names.length === 0) return [...steps];
  const byName = new Map(steps.map((step) => [step.name, step]));
  const wanted = new Set<string>();
  const add = (name: string): void => {
    const step = byName.get(name);
    if (!step) {
      const known = [...byName.keys(), ...Object.keys(GROUPS)].join(', ');
      throw new Error(`check: no step or group named ${JSON.stringify(name)} (known: ${known})`);
    }
    if (wanted.has(name)) return;
    wanted.add(name);
    for (const need of step.needs ?? []) add(need);
  };
  for (const name of names) for (const member of GROUPS[name] ?? [name]) add(member);
  return steps.filter((step) => wanted.has(step.name));
}

export interface RunOptions {
  cwd?: string;
  /** Where the log goes; process.stdout by default. */
  write?: (text: string) => void;
}

type Outcome =
  | { status: 'passed' | 'failed'; code: number | string; ms: number }
  | {
      status: 'skipped';
      missing: string[];
    };

/** Runs the steps, each once its needs have passed; returns the exit code (0 when all passed). */
export async function run(steps: readonly Step[], options: RunOptions = {}): Promise<number> {
  const cwd = options.cwd ?? repo;
  const write = options.write ?? ((text: string) => void process.stdout.write(text));
  const names = new Set(steps.map((step) => step.name));
  for (const step of steps) {
    for (const need of step.needs ?? []) {
      if (!names.has(need)) throw new Error(`check: step ${step.name} needs unknown step ${need}`);
    }
  }
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PATH: [join(repo, 'node_modules/.bin'), process.env['PATH']].join(delimiter),
  };
  // Output is buffered, so tools see no terminal; keep their colours when ours is one.
  if (process.stdout.isTTY && env['FORCE_COLOR'] === undefined && env['NO_COLOR'] === undefined) {
    env['FORCE_COLOR'] = '1';
  }
  const started = Date.now();
  const outcomes = new Map<string, Outcome>();
  const running = new Map<string, Promise<Outcome>>();
  const outcome = (step: Step): Promise<Outcome> => {
    let pending = running.get(step.name);
    if (!pending) {
      pending = (async () => {
        const needed = await Promise.all(
          (step.needs ?? []).map((need) => outcome(steps.find((s) => s.name === need) as Step)),
        );
        const missing = (step.needs ?? []).filter((_, i) => needed[i]?.status !== 'passed');
        const result: Outcome =
          missing.length > 0 ? { status: 'skipped', missing } : await spawnStep(step, cwd, env);
        outcomes.set(step.name, result);
        write(block(step, result));
        return result;
      })();
      running.set(step.name, pending);
    }
    return pending;
  };
  await Promise.all(steps.map(outcome));
  write(summary(steps, outcomes, Date.now() - started));
  return steps.every((step) => outcomes.get(step.name)?.status === 'passed') ? 0 : 1;
}

const outputs = new WeakMap<Outcome, string>();

function spawnStep(step: Step, cwd: string, env: NodeJS.ProcessEnv): Promise<Outcome> {
  const start = Date.now();
  return new Promise((done) => {
    const chunks: Buffer[] = [];
    const child = spawn(step.command, { cwd, env, shell: true, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => chunks.push(chunk));
    const finish = (code: number | string, error?: Error): void => {
      const ms = Date.now() - start;
      const result: Outcome = { status: code === 0 ? 'passed' : 'failed', code, ms };
      const text = Buffer.concat(chunks).toString('utf8') + (error ? `${error.message}\n` : '');
      outputs.set(result, text);
      done(result);
    };
    child.on('error', (error) => finish('spawn error', error));
    child.on('close', (code, signal) => finish(code ?? `signal ${signal ?? 'unknown'}`));
  });
}

const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

function headline(step: Step, result: Outcome): string {
  if (result.status === 'skipped') {
    return `${step.name}: skipped (needs ${result.missing.join(', ')}, which did not pass)`;
  }
  const how = result.status === 'passed' ? 'passed' : `FAILED (exit ${result.code})`;
  return `${step.name}: ${how} in ${seconds(result.ms)}`;
}

function block(step: Step, result: Outcome): string {
  const output = outputs.get(result) ?? '';
  const body = output === '' || output.endsWith('\n') ? output : `${output}\n`;
  return `── ${headline(step, result)} ── ${step.command}\n${body}`;
}

function summary(steps: readonly Step[], outcomes: Map<string, Outcome>, ms: number): string {
  const lines = steps.map((step) => `  ${headline(step, outcomes.get(step.name) as Outcome)}`);
  const failed = steps.filter((step) => outcomes.get(step.name)?.status === 'failed');
  const skipped = steps.filter((step) => outcomes.get(step.name)?.status === 'skipped');
  const verdict =
    failed.length + skipped.length === 0
      ? `check: all ${steps.length} steps passed in ${seconds(ms)}`
      : `check: FAILED in ${seconds(ms)}: ${failed.map((step) => step.name).join(', ')}` +
        (skipped.length > 0 ? ` (skipped: ${skipped.map((step) => step.name).join(', ')})` : '');
  return `\n${lines.join('\n')}\n${verdict}\n`;
}

/** `check [step or group ...]`: runs those steps (and what they need), or all of them. */
export async function main(args: readonly string[]): Promise<number> {
  let steps: Step[];
  try {
    steps = select(STEPS, args);
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n`);
    return 2;
  }
  return run(steps);
}
