/**
 * CHANGELOG.md: `spec:update` files each vendored spec change under
 * `## Unreleased`, newest first, so the release that ships it lists it.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as prettier from 'prettier';

const UNRELEASED = /^## Unreleased[ \t]*$/m;

/** The changelog with `entry` first under `## Unreleased` (added below the title if missing). */
export function addUnreleased(changelog: string, entry: string): string {
  const section = UNRELEASED.exec(changelog);
  if (section) {
    const at = section.index + section[0].length;
    return `${changelog.slice(0, at)}\n\n${entry.trim()}\n${changelog.slice(at)}`;
  }
  const title = /^# .*$/m.exec(changelog);
  const at = title ? title.index + title[0].length : 0;
  const head = title ? `${changelog.slice(0, at)}\n\n` : '# Changelog\n\n';
  return `${head}## Unreleased\n\n${entry.trim()}\n\n${changelog.slice(at).trimStart()}`;
}

/**
 * `<root>/CHANGELOG.md` with the entry added (a new file when there is none),
 * formatted with the repository's prettier settings: `npm run lint` checks it,
 * and a spec-update pull request must pass lint as it stands. Writes nothing:
 * spec:update moves it into place with the other files it changes.
 */
export async function changelogWith(root: string, entry: string): Promise<string> {
  const path = join(root, 'CHANGELOG.md');
  // Only a missing file is an empty changelog; one that cannot be read stops the update.
  const before = await readFile(path, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return '';
    throw new Error(`cannot read CHANGELOG.md (${error.code ?? error.message})`);
  });
  const options = (await prettier.resolveConfig(path)) ?? {};
  return prettier.format(addUnreleased(before, entry), { ...options, filepath: path });
}
