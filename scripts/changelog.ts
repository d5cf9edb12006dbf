/**
 * CHANGELOG.md: `spec:update` files each vendored spec change under
 * `## Unreleased`, newest first, so the release that ships it lists it.
 */
import { readFile, writeFile } from 'node:fs/promises';
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
 * Adds the entry to `<root>/CHANGELOG.md`, creating it if needed, and formats
 * the file with the repository's prettier settings: `npm run lint` checks it,
 * and a spec-update pull request must pass lint as it stands.
 */
export async function updateChangelog(root: string, entry: string): Promise<void> {
  const path = join(root, 'CHANGELOG.md');
  const before = await readFile(path, 'utf8').catch(() => '');
  const options = (await prettier.resolveConfig(path)) ?? {};
  await writeFile(
    path,
    await prettier.format(addUnreleased(before, entry), { ...options, filepath: path }),
  );
}
