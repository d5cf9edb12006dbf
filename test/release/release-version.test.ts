/**
 * `npm run release:version` in a copy of the repository: a breaking change (a
 * major changeset) makes a major; with nothing pending it changes nothing; a
 * changeset it cannot read stops it before it changes anything. The minor
 * case, from spec:update on, is in release.test.ts.
 */
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { nextVersion } from '../../scripts/spec-pr.js';
import { execIn, npmEnv, releaseCheckout } from './registry.js';

const dirs: string[] = [];

afterAll(async () => {
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

async function checkout(): Promise<string> {
  const root = await releaseCheckout();
  dirs.push(root);
  return root;
}

// No registry is needed: an unreachable one, so that nothing here could publish.
const npmRun = (root: string, script: string) =>
  execIn(root, 'npm', ['run', '-s', script], npmEnv(join(root, 'npmrc'), 'http://127.0.0.1:9/'));

const read = (root: string, path: string) => readFile(join(root, path), 'utf8');
const versionOf = async (root: string) =>
  (JSON.parse(await read(root, 'package.json')) as { version: string }).version;
const pending = async (root: string) =>
  (await readdir(join(root, '.changeset'))).filter((f) => f.endsWith('.md') && f !== 'README.md');

/** The files release:version may change, with their text. */
async function snapshot(root: string): Promise<Record<string, string>> {
  const files = ['package.json', 'package-lock.json', 'src/version.ts', 'CHANGELOG.md'];
  const snap: Record<string, string> = {};
  for (const file of files) snap[file] = await read(root, file);
  for (const file of await readdir(join(root, '.changeset'))) {
    snap[`.changeset/${file}`] = await read(root, `.changeset/${file}`);
  }
  return snap;
}

describe('npm run release:version', () => {
  it('makes a breaking change (a major changeset) the next major, with a patch one beside it', async () => {
    const root = await checkout();
    const from = await versionOf(root);
    await writeFile(
      join(root, '.changeset/spec-update-x.md'),
      "---\n'chatdash-client': major\n---\n\n**Breaking**: a field changed type.\n",
    );
    await writeFile(
      join(root, '.changeset/fix.md'),
      '---\n"chatdash-client": patch\n---\n\nA fix.\n',
    );
    const result = await npmRun(root, 'release:version');
    expect(result.code, result.stderr).toBe(0);
    const to = nextVersion(from, 'major');
    expect(await versionOf(root)).toBe(to);
    expect(await read(root, 'src/version.ts')).toContain(`export const VERSION = '${to}';`);
    expect(await read(root, 'CHANGELOG.md')).toContain(
      `## ${to}\n\n### Major changes\n\n**Breaking**: a field changed type.\n\n### Patch changes\n\nA fix.\n`,
    );
    expect(await pending(root)).toEqual([]);
  });

  it('with no pending changeset: changes nothing and exits 0', async () => {
    const root = await checkout();
    expect(await pending(root)).toEqual([]);
    const before = await snapshot(root);
    const result = await npmRun(root, 'release:version');
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('no pending changesets');
    expect(await snapshot(root)).toEqual(before);
  });

  it('refuses a changeset that names no bump for chatdash-client, and changes nothing', async () => {
    const root = await checkout();
    await writeFile(join(root, '.changeset/odd.md'), '---\n"other-package": minor\n---\n\nx\n');
    const before = await snapshot(root);
    const result = await npmRun(root, 'release:version');
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('.changeset/odd.md: expected "chatdash-client"');
    expect(await snapshot(root)).toEqual(before);
  });
});
