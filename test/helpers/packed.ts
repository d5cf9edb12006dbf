/**
 * The packed package as a consumer installs it: `npm pack` into a scratch
 * folder outside this repository, unpacked as node_modules/chatdash-client,
 * with its dependencies linked from this repository's install.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

export const run = promisify(execFile);
export const repo = resolve(import.meta.dirname, '../..');

/** A fresh consumer folder with the packed package installed; `links` are linked from this repo. */
export async function installPacked(
  links: readonly string[] = ['openapi-fetch', 'ajv-formats', 'ajv', '@types/node', 'undici-types'],
): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'chatdash-consumer-'));
  // --ignore-scripts: dist/ is already built (npm test builds first), and prepack's
  // rebuild would empty dist/ under the CLI tests running beside these files.
  // pack.test.ts checks prepack itself, on a copy of the checkout.
  const { stdout } = await run(
    'npm',
    ['pack', '--json', '--ignore-scripts', '--pack-destination', root],
    {
      cwd: repo,
    },
  );
  const [{ filename }] = JSON.parse(stdout) as [{ filename: string }];
  const installed = join(root, 'node_modules/chatdash-client');
  await mkdir(installed, { recursive: true });
  await run('tar', ['-xzf', join(root, filename), '-C', installed, '--strip-components=1']);
  for (const dep of links) {
    await mkdir(join(root, 'node_modules', dep, '..'), { recursive: true });
    await symlink(join(repo, 'node_modules', dep), join(root, 'node_modules', dep), 'dir');
  }
  return root;
}
