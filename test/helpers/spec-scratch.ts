/**
 * Scratch checkouts for the spec:update tests: a temporary root holding copies
 * of what spec:update reads and writes, pages edited from the upstream fixture,
 * and runs of the real script (`--root`), or of the npm script itself in a
 * scratch copy of the repository. Roots are removed after each test.
 */
import { execFile } from 'node:child_process';
import { cp, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterEach } from 'vitest';

export const repo = resolve(import.meta.dirname, '../..');
const tsx = join(repo, 'node_modules/.bin/tsx');
export const upstreamPage = await readFile(
  join(repo, 'test/fixtures/pages/get-conversation.md'),
  'utf8',
);

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

export async function scratch(): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'chatdash-spec-update-'));
  dirs.push(root);
  // .prettierrc.json: the changeset spec:update writes is formatted with the repository's settings.
  const paths = [
    'spec',
    'generated',
    'redocly.yaml',
    'CHANGELOG.md',
    '.changeset',
    '.prettierrc.json',
  ];
  for (const path of paths) {
    await cp(join(repo, path), join(root, path), { recursive: true });
  }
  return root;
}

/**
 * A scratch copy of the repository in which `npm run` works as in a checkout:
 * package.json and scripts/ copied, node_modules linked.
 */
export async function scratchRepo(): Promise<string> {
  const root = await scratch();
  for (const path of ['package.json', 'scripts']) {
    await cp(join(repo, path), join(root, path), { recursive: true });
  }
  await symlink(join(repo, 'node_modules'), join(root, 'node_modules'), 'dir');
  return root;
}

/** `npm run -s <script> -- <args>` in `root`, as the spec-update workflow runs it. */
export async function npmRun(root: string, script: string, args: string[]): Promise<Run> {
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  try {
    const { stdout, stderr } = await promisify(execFile)(
      npm,
      ['run', '-s', script, '--', ...args],
      {
        cwd: root,
      },
    );
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/**
 * Every file under `paths` (by default what spec:update may write, and
 * CHANGELOG.md, which it must not: .changeset/, generated/, spec/) with its
 * modification time and text.
 */
export async function snapshot(
  root: string,
  paths = ['.changeset', 'CHANGELOG.md', 'generated', 'spec'],
): Promise<Record<string, string>> {
  const files: string[] = [];
  for (const path of paths) {
    if ((await stat(join(root, path))).isFile()) {
      files.push(path);
      continue;
    }
    const entries = await readdir(join(root, path), { recursive: true, withFileTypes: true });
    for (const entry of entries) {
      if (entry.isFile()) files.push(join(entry.parentPath, entry.name).slice(root.length + 1));
    }
  }
  const snap: Record<string, string> = {};
  for (const file of files.sort()) {
    const { mtimeMs } = await stat(join(root, file));
    snap[file] = `mtime ${mtimeMs}\n${await readFile(join(root, file), 'utf8')}`;
  }
  return snap;
}

/** A page made from the upstream one with `edit` applied to its text (which must change it). */
export async function page(
  root: string,
  edit: (text: string) => string = (t) => t,
  name = 'page.md',
) {
  const text = edit(upstreamPage);
  const path = join(root, name);
  await writeFile(path, text);
  return path;
}

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a script of scripts/ (an entry of scripts/bin/) and returns its exit code and output. */
export async function runScript(script: string, args: string[]): Promise<Run> {
  try {
    const { stdout, stderr } = await promisify(execFile)(tsx, [join(repo, script), ...args]);
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

export const update = (root: string, ...args: string[]) =>
  runScript('scripts/bin/update-spec.ts', ['--root', root, ...args]);

export const read = (root: string, path: string) => readFile(join(root, path), 'utf8');
export const committed = (path: string) => readFile(join(repo, path), 'utf8');

/** Page edits the tests share: one breaking, one compatible. */
export const edits = {
  costBecomesString: (t: string) => t.replace(/(\n {8}cost:\n {10}type: )number/, '$1string'),
  closedStatusAdded: (t: string) => t.replace('- human\n', '- human\n            - closed\n'),
};

/**
 * A scratch checkout that can regenerate and type-check the client itself:
 * sources, spec, generator and configs copied, node_modules linked, and a
 * tsconfig (`tsconfig.src.json`) covering only src/ and generated/, so what
 * fails is the package, not its tests.
 */
export async function sourceCheckout(): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'chatdash-typed-'));
  dirs.push(root);
  for (const path of [
    'src',
    'generated',
    'spec',
    'scripts',
    'tsconfig.json',
    'redocly.yaml',
    'package.json',
    '.prettierrc.json',
  ]) {
    await cp(join(repo, path), join(root, path), { recursive: true });
  }
  await symlink(join(repo, 'node_modules'), join(root, 'node_modules'), 'dir');
  await writeFile(
    join(root, 'tsconfig.src.json'),
    JSON.stringify({ extends: './tsconfig.json', include: ['src', 'generated'] }),
  );
  return root;
}

/** Runs a command in `cwd` and returns its exit code and output, whether it fails or not. */
export async function runIn(cwd: string, file: string, args: string[]): Promise<Run> {
  try {
    const { stdout, stderr } = await promisify(execFile)(file, args, { cwd });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}
