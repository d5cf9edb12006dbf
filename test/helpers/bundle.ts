/**
 * A fixture script as one ES module that plain Node runs: the fixture and the
 * repository code it imports bundled by esbuild, the packages left as imports
 * from node_modules. A child process then starts without compiling TypeScript
 * through tsx each time, which costs a second or two of CPU per process on a
 * loaded 2-core machine, and a fleet test starts four at once.
 *
 * The file is named after its content, so parallel test workers that bundle
 * the same fixture write the same file, and a changed source gives a new one.
 * It lies in .cache/, one folder below the repository as scripts/ is, so a
 * script that finds the repository as `..` of its own file still finds it.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { build } from 'esbuild';

const repo = resolve(import.meta.dirname, '../..');
const bundles = new Map<string, Promise<string>>();

/** The path of `fixture` (a script, relative to the repository or absolute) bundled, built once per process. */
export function bundled(fixture: string): Promise<string> {
  const entry = resolve(repo, fixture);
  let file = bundles.get(entry);
  if (!file) {
    file = bundle(entry);
    bundles.set(entry, file);
  }
  return file;
}

async function bundle(entry: string): Promise<string> {
  const { outputFiles } = await build({
    entryPoints: [entry],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    write: false,
    outfile: 'fixture.mjs',
    logLevel: 'warning',
  });
  const code = outputFiles[0]!.contents;
  const hash = createHash('sha256').update(code).digest('hex').slice(0, 16);
  // Under the repository, so the packages resolve from its node_modules as they do for the source.
  const dir = join(repo, '.cache');
  const file = join(dir, `bundled-${basename(entry, '.ts')}-${hash}.mjs`);
  mkdirSync(dir, { recursive: true });
  // Written whole, then renamed: a worker never runs another worker's half-written file.
  const partial = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}`;
  writeFileSync(partial, code);
  renameSync(partial, file);
  return file;
}
