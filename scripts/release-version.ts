/**
 * `npm run release:version`: applies the pending changesets (.changeset/*.md).
 *
 * Changesets (`changeset version`) decides the new version from their bumps
 * (the highest wins; a prerelease mode entered with `changeset pre enter`
 * makes prerelease versions), writes it into package.json and deletes the
 * files it applied. This script then makes the rest agree with it: `VERSION`
 * in src/version.ts and package-lock.json get the same version (chatdash-types
 * is packed at package.json's version, so it follows by itself), and the
 * changesets' text goes into CHANGELOG.md under `## <version>` (the
 * `changelog` of .changeset/config.json is off: its format would not match
 * this changelog's). With nothing pending it changes nothing and exits 0.
 * scripts/bin/release-version.ts runs `main`; importing this module runs nothing.
 */
import { execFile } from 'node:child_process';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { parse as parseYaml } from 'yaml';
import { addRelease, formatMarkdown, readChangelog } from './changelog.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');

export type Bump = 'major' | 'minor' | 'patch';
const BUMPS: readonly Bump[] = ['major', 'minor', 'patch'];

export interface Changeset {
  file: string;
  bump: Bump;
  text: string;
}

/** One changeset file: its front matter (`"chatdash-client": minor`) and its text. */
export function parseChangeset(file: string, source: string): Changeset {
  const match = /^---[ \t]*\r?\n([\s\S]*?)\r?\n?---[ \t]*(?:\r?\n|$)([\s\S]*)$/.exec(source);
  if (!match) throw new Error(`.changeset/${file}: no front matter between --- lines`);
  const front = (parseYaml(match[1] ?? '') ?? {}) as Record<string, unknown>;
  const bump = front['chatdash-client'];
  if (!BUMPS.includes(bump as Bump)) {
    throw new Error(
      `.changeset/${file}: expected "chatdash-client": major, minor or patch, got ${JSON.stringify(front)}`,
    );
  }
  return { file, bump: bump as Bump, text: (match[2] ?? '').trim() };
}

/** The pending changesets in `<root>/.changeset`, in file-name order (its README is not one). */
export async function pendingChangesets(root: string): Promise<Changeset[]> {
  const dir = join(root, '.changeset');
  const files = (await readdir(dir).catch(() => [] as string[]))
    .filter((file) => file.endsWith('.md') && file !== 'README.md')
    .sort();
  return Promise.all(
    files.map(async (file) => parseChangeset(file, await readFile(join(dir, file), 'utf8'))),
  );
}

/** The CHANGELOG.md entry for the changesets: grouped by bump, largest first. */
export function changelogEntry(changesets: Changeset[]): string {
  const titles: Record<Bump, string> = {
    major: 'Major changes',
    minor: 'Minor changes',
    patch: 'Patch changes',
  };
  return BUMPS.flatMap((bump) => {
    const texts = changesets.filter((c) => c.bump === bump && c.text).map((c) => c.text);
    return texts.length > 0 ? [`### ${titles[bump]}\n\n${texts.join('\n\n')}`] : [];
  }).join('\n\n');
}

/** src/version.ts with `VERSION` set to `version`, the rest as it was. */
export function withVersion(source: string, version: string): string {
  const pattern = /(export const VERSION = )'[^']*'/;
  if (!pattern.test(source)) throw new Error('src/version.ts has no `export const VERSION = ...`');
  return source.replace(pattern, `$1'${version}'`);
}

export interface VersionResult {
  /** The version before, and after (equal when nothing was pending). */
  from: string;
  to: string;
  applied: string[];
}

const readVersion = async (root: string) =>
  (JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as { version: string }).version;

export async function releaseVersion(root: string): Promise<VersionResult> {
  const from = await readVersion(root);
  const pending = await pendingChangesets(root);
  if (pending.length === 0) return { from, to: from, applied: [] };
  // Read before anything changes: a changelog that cannot be read stops here.
  const changelog = await readChangelog(root);
  const versionFile = await readFile(join(root, 'src/version.ts'), 'utf8');

  const changeset = join(root, 'node_modules/@changesets/cli/bin.js');
  try {
    await promisify(execFile)(process.execPath, [changeset, 'version'], { cwd: root });
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string; message: string };
    throw new Error(`changeset version failed: ${e.stderr || e.stdout || e.message}`);
  }
  const to = await readVersion(root);
  const remaining = new Set((await pendingChangesets(root)).map((c) => c.file));
  const applied = pending.filter((c) => !remaining.has(c.file));

  await writeFile(join(root, 'src/version.ts'), withVersion(versionFile, to));
  const lockPath = join(root, 'package-lock.json');
  const lock = await readFile(lockPath, 'utf8').catch(() => undefined);
  if (lock !== undefined) {
    const parsed = JSON.parse(lock) as {
      version?: string;
      packages?: Record<string, { version?: string }>;
    };
    parsed.version = to;
    const own = parsed.packages?.[''];
    if (own) own.version = to;
    await writeFile(lockPath, `${JSON.stringify(parsed, null, 2)}\n`);
  }
  await writeFile(
    join(root, 'CHANGELOG.md'),
    await formatMarkdown(root, 'CHANGELOG.md', addRelease(changelog, to, changelogEntry(applied))),
  );
  return { from, to, applied: applied.map((c) => c.file) };
}

/** `npm run release:version` (scripts/bin/release-version.ts runs it): the exit code. */
export async function main(args: string[]): Promise<number> {
  if (args.length > 0) {
    console.error(`release:version: takes no arguments, got ${args.join(' ')}`);
    return 2;
  }
  try {
    const result = await releaseVersion(repoRoot);
    if (result.applied.length === 0) {
      console.log(`release:version: no pending changesets; ${result.to} stays, nothing changed`);
    } else {
      console.log(
        `release:version: ${result.from} -> ${result.to} (package.json, package-lock.json, src/version.ts, CHANGELOG.md); applied ${result.applied.map((f) => `.changeset/${f}`).join(', ')}`,
      );
    }
    return 0;
  } catch (error) {
    console.error(`release:version: ${(error as Error)?.message ?? String(error)}`);
    return 1;
  }
}
