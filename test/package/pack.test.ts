/**
 * `npm pack` on a fresh clone, where dist/ does not exist yet: prepack must
 * build it, or the tarball ships without code. Runs on a copy of the files git
 * sees (tracked and new, not ignored), which is what a clone of the commit
 * holds, with node_modules linked in (a real `npm ci` takes a minute).
 */
import { execFile } from 'node:child_process';
import { access, cp, mkdir, mkdtemp, rm, symlink } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const repo = resolve(import.meta.dirname, '../..');
let checkout: string;

beforeAll(async () => {
  checkout = await mkdtemp(join(tmpdir(), 'chatdash-checkout-'));
  const { stdout } = await run(
    'git',
    ['ls-files', '-z', '--cached', '--others', '--exclude-standard'],
    { cwd: repo, maxBuffer: 16 * 1024 * 1024 },
  );
  // A tracked file deleted in the working tree is not part of the next commit either.
  const files = stdout.split('\0').filter((path) => path && existsSync(join(repo, path)));
  for (const path of files) {
    await mkdir(dirname(join(checkout, path)), { recursive: true });
    await cp(join(repo, path), join(checkout, path));
  }
  await symlink(join(repo, 'node_modules'), join(checkout, 'node_modules'), 'dir');
}, 60_000);

afterAll(async () => {
  if (checkout) await rm(checkout, { recursive: true, force: true });
});

describe('npm pack on a fresh checkout', () => {
  it('builds dist/ in prepack and ships it', async () => {
    await expect(access(join(checkout, 'dist'))).rejects.toThrow(/ENOENT/);
    const { stdout } = await run('npm', ['pack', '--dry-run', '--json'], {
      cwd: checkout,
      maxBuffer: 16 * 1024 * 1024,
    });
    // prepack's build logs to stdout ahead of npm's JSON report.
    const report = stdout.slice(stdout.search(/^\[$/m));
    const [{ files }] = JSON.parse(report) as [{ files: { path: string }[] }];
    const paths = files.map((file) => file.path);
    expect(paths).toEqual(
      expect.arrayContaining([
        'dist/index.js',
        'dist/index.cjs',
        'dist/index.d.ts',
        'dist/index.d.cts',
        'dist/types.js',
        'dist/types.cjs',
        'dist/testing.js',
        'dist/testing.cjs',
        'dist/cli.js',
        'spec/chatdash.yaml',
      ]),
    );
  }, 120_000);
});
