/**
 * The packed package as a consumer installs it: `npm pack`, unpacked into
 * `node_modules/chatdash-client` of a scratch folder outside this repository,
 * with the dependencies named linked from this repository's install (and
 * nothing else: a dependency left out is, for the consumer, not installed).
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

export const run = promisify(execFile);
export const repo = resolve(import.meta.dirname, '../..');

/** Returns the scratch folder (remove it when done). */
export async function installPacked(prefix: string, dependencies: string[]): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), prefix));
  const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', root], {
    cwd: repo,
  });
  const [{ filename }] = JSON.parse(stdout) as [{ filename: string }];
  const installed = join(root, 'node_modules/chatdash-client');
  await mkdir(installed, { recursive: true });
  await run('tar', ['-xzf', join(root, filename), '-C', installed, '--strip-components=1']);
  for (const dep of dependencies) {
    await mkdir(join(root, 'node_modules', dep, '..'), { recursive: true });
    await symlink(join(repo, 'node_modules', dep), join(root, 'node_modules', dep), 'dir');
  }
  return root;
}
