/**
 * Where the scripts start. A module that both exports functions and runs its
 * own `main` when it "is the entry point" breaks once esbuild bundles it into
 * another script: inside the bundle it is the entry point too, and its `main`
 * reads the other script's arguments (spec:update once died in generate's
 * argument parser that way). So only the small files in scripts/bin/ read
 * process.argv, and the npm scripts run only those.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repo } from '../helpers/spec-scratch.js';

const modules = (await readdir(join(repo, 'scripts'), { withFileTypes: true }))
  .filter((entry) => entry.isFile() && entry.name.endsWith('.ts'))
  .map((entry) => `scripts/${entry.name}`);
const { scripts } = JSON.parse(await readFile(join(repo, 'package.json'), 'utf8')) as {
  scripts: Record<string, string>;
};

describe('script entry points', () => {
  it.each(modules)('%s reads no process.argv (only scripts/bin/ files do)', async (path) => {
    const source = await readFile(join(repo, path), 'utf8');
    expect(source).not.toMatch(/process\.argv/);
  });

  it('every npm script that runs a file of scripts/ runs one in scripts/bin/', () => {
    const run = Object.entries(scripts).flatMap(([name, command]) =>
      [...command.matchAll(/\bscripts\/[\w./-]+\.ts\b/g)].map((match) => `${name}: ${match[0]}`),
    );
    expect(run.length).toBeGreaterThanOrEqual(6);
    for (const line of run) expect(line).toMatch(/: scripts\/bin\//);
  });
});
