/**
 * CHANGELOG.md: `npm run release:version` files the text of the changesets it
 * applies under `## <version>`, newest first. Entries written by hand under
 * `## Unreleased` ship with that version, so they move into its section.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as prettier from 'prettier';

const UNRELEASED = /^## Unreleased[ \t]*\n([\s\S]*?)(?=^## |(?![\s\S]))/m;

/**
 * The changelog with a `## <version>` section holding `entry`, above every
 * earlier version; the `## Unreleased` section, if any, is folded into it.
 */
export function addRelease(changelog: string, version: string, entry: string): string {
  let text = changelog;
  let unreleased = '';
  const section = UNRELEASED.exec(text);
  if (section) {
    unreleased = (section[1] ?? '').trim();
    text = text.slice(0, section.index) + text.slice(section.index + section[0].length);
  }
  const body = [entry.trim(), unreleased].filter(Boolean).join('\n\n');
  const heading = `## ${version}\n\n${body}\n\n`;
  const first = /^## /m.exec(text);
  if (first) return text.slice(0, first.index) + heading + text.slice(first.index);
  const title = /^# .*$/m.exec(text);
  if (!title) return `# Changelog\n\n${heading}${text.trimStart()}`;
  return `${text.trimEnd()}\n\n${heading}`;
}

/** `text` formatted as the repository's prettier settings format `<root>/<path>` (`npm run lint` checks it). */
export async function formatMarkdown(root: string, path: string, text: string): Promise<string> {
  const file = join(root, path);
  const options = (await prettier.resolveConfig(file)) ?? {};
  return prettier.format(text, { ...options, filepath: file });
}

/** `<root>/CHANGELOG.md`, or '' when there is none; one that cannot be read is an error. */
export async function readChangelog(root: string): Promise<string> {
  return readFile(join(root, 'CHANGELOG.md'), 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return '';
    throw new Error(`cannot read CHANGELOG.md (${error.code ?? error.message})`);
  });
}
