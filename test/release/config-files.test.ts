/**
 * The files that make releases and updates happen without a person:
 * .github/workflows/release.yml, the pins of every workflow, .github/dependabot.yml
 * and .changeset/config.json, read as the services that run them read them.
 * actionlint itself runs over every workflow in spec-update-workflow.test.ts.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { repo } from './registry.js';

interface Step {
  uses?: string;
  run?: string;
  with?: Record<string, string>;
  env?: Record<string, string>;
}
interface Workflow {
  on: Record<string, unknown>;
  permissions?: Record<string, string>;
  jobs: Record<string, { permissions?: Record<string, string>; steps: Step[] }>;
}

const text = (path: string) => readFile(join(repo, path), 'utf8');
const workflowFiles = (await readdir(join(repo, '.github/workflows'))).filter((f) =>
  /\.ya?ml$/.test(f),
);
const workflows = Object.fromEntries(
  await Promise.all(
    workflowFiles.map(
      async (f) => [f, parse(await text(`.github/workflows/${f}`)) as Workflow] as const,
    ),
  ),
);
const release = workflows['release.yml'] as Workflow;
const releaseSource = await text('.github/workflows/release.yml');
const releaseSteps = Object.values(release?.jobs ?? {}).flatMap((job) => job.steps);

describe('.github/workflows/release.yml', () => {
  it('runs on push to main', () => {
    expect(release.on['push']).toEqual({ branches: ['main'] });
  });

  it('may write contents and pull requests, nothing more', () => {
    expect(release.permissions).toEqual({ contents: 'write', 'pull-requests': 'write' });
    for (const job of Object.values(release.jobs)) expect(job.permissions).toBeUndefined();
  });

  it('runs changesets/action, pinned by commit SHA, with release:version and release', () => {
    const action = releaseSteps.find((step) => step.uses?.startsWith('changesets/action@'));
    expect(action?.uses).toMatch(/^changesets\/action@[0-9a-f]{40}$/);
    // The release the SHA is, beside it, for people and for Dependabot.
    expect(releaseSource).toContain(`uses: ${action?.uses} # v1.`);
    expect(action?.with).toMatchObject({
      version: 'npm run release:version',
      publish: 'npm run release',
    });
    // The token reaches npm only as NODE_AUTH_TOKEN, from a secret.
    expect(action?.env?.['NODE_AUTH_TOKEN']).toMatch(/^\$\{\{ secrets\.\w+ \}\}$/);
    expect(JSON.stringify(action?.env ?? {})).not.toMatch(/NPM_TOKEN"\s*:/);
  });

  it("gives npm the registry through actions/setup-node's registry-url, from a variable, not a host written here", () => {
    const setup = releaseSteps.find((step) => step.uses?.startsWith('actions/setup-node@'));
    expect(setup?.with?.['registry-url']).toMatch(/^\$\{\{ vars\.\w+ \}\}$/);
    const steps = releaseSteps.map((step) => step.uses?.split('@')[0] ?? step.run);
    expect(steps.indexOf('actions/setup-node')).toBeLessThan(steps.indexOf('changesets/action'));
  });
});

describe('every workflow', () => {
  it.each(workflowFiles)('%s pins every action to a full commit SHA', (file) => {
    const uses = Object.values(workflows[file]?.jobs ?? {})
      .flatMap((job) => job.steps)
      .flatMap((step) => (step.uses ? [step.uses] : []));
    expect(uses.length).toBeGreaterThan(0);
    for (const use of uses) expect(use).toMatch(/^[\w.-]+\/[\w.-]+@[0-9a-f]{40}$/);
  });

  it('ci.yml and spec-update.yml use the same checkout and setup-node commits as release.yml', () => {
    const pinned = (file: string, action: string) =>
      Object.values(workflows[file]?.jobs ?? {})
        .flatMap((job) => job.steps)
        .filter((step) => step.uses?.startsWith(`${action}@`))
        .map((step) => step.uses);
    for (const action of ['actions/checkout', 'actions/setup-node']) {
      const all = new Set(
        ['ci.yml', 'spec-update.yml', 'release.yml'].flatMap((f) => pinned(f, action)),
      );
      expect(all.size, action).toBe(1);
    }
  });
});

describe('the registry is npm configuration, never the repository', () => {
  it('no tracked file names a public registry host, there is no .npmrc and no publishConfig', async () => {
    const { stdout } = await promisify(execFile)('git', ['ls-files', '-z'], { cwd: repo });
    const files = stdout.split('\0').filter((f) => f && existsSync(join(repo, f)));
    expect(files).toContain('package.json');
    expect(files.filter((f) => f.endsWith('.npmrc'))).toEqual([]);
    const hosts = /registry\.npmjs\.org|registry\.yarnpkg\.com|npm\.pkg\.github\.com/;
    const naming: string[] = [];
    for (const file of files) {
      const content = await readFile(join(repo, file), 'utf8').catch(() => '');
      if (hosts.test(content)) naming.push(file);
    }
    expect(naming).toEqual([]);
    const manifest = JSON.parse(await text('package.json')) as Record<string, unknown>;
    expect(manifest).not.toHaveProperty('publishConfig');
  });
});

describe('.changeset/config.json', () => {
  it("is Changesets' config for this one package, with the changelog left to release:version", async () => {
    const config = JSON.parse(await text('.changeset/config.json')) as Record<string, unknown>;
    expect(config).toMatchObject({ changelog: false, commit: false, baseBranch: 'main' });
    const { devDependencies } = JSON.parse(await text('package.json')) as {
      devDependencies: Record<string, string>;
    };
    expect(devDependencies['@changesets/cli']).toMatch(/^\^2\./);
    expect(devDependencies['verdaccio']).toMatch(/^~6\.8\./);
  });
});

const source = await text('.github/dependabot.yml');

describe('.github/dependabot.yml', () => {
  const config = parse(source) as {
    version: number;
    updates: {
      'package-ecosystem': string;
      directory: string;
      schedule: { interval: string };
      groups?: Record<string, { 'update-types'?: string[] }>;
      ignore?: { 'dependency-name': string; versions: string[] }[];
    }[];
  };
  const ecosystem = (name: string) => config.updates.find((u) => u['package-ecosystem'] === name);

  it('checks npm and GitHub Actions weekly, minor and patch updates grouped', () => {
    expect(config.version).toBe(2);
    expect(config.updates.map((u) => u['package-ecosystem']).sort()).toEqual([
      'github-actions',
      'npm',
    ]);
    for (const update of config.updates) {
      expect(update.directory).toBe('/');
      expect(update.schedule.interval).toBe('weekly');
      const groups = Object.values(update.groups ?? {});
      expect(groups.map((g) => [...(g['update-types'] ?? [])].sort())).toEqual([
        ['minor', 'patch'],
      ]);
    }
  });

  it('keeps TypeScript below 7 and Prism below 5.16, with the reason written beside each rule', () => {
    const ignore = ecosystem('npm')?.ignore ?? [];
    expect(ignore).toContainEqual({ 'dependency-name': 'typescript', versions: ['>=7'] });
    expect(ignore).toContainEqual({
      'dependency-name': '@stoplight/prism-cli',
      versions: ['>=5.16'],
    });
    // Each rule's reason: the comment lines right above its `- dependency-name:` line.
    const lines = source.split('\n');
    const reasons = Object.fromEntries(
      ignore.map((rule) => {
        const at = lines.findIndex((line) =>
          new RegExp(`^\\s*- dependency-name: '?${rule['dependency-name']}'?$`).test(line),
        );
        const comments: string[] = [];
        for (let i = at - 1; i >= 0 && /^\s*#/.test(lines[i] ?? ''); i--) {
          comments.unshift((lines[i] ?? '').replace(/^\s*#\s?/, ''));
        }
        return [rule['dependency-name'], comments.join(' ')];
      }),
    );
    expect(reasons['typescript']).toMatch(/TypeScript 7.*compiler API/s);
    expect(reasons['@stoplight/prism-cli']).toMatch(/Node >= 24\.18/);
    for (const [name, reason] of Object.entries(reasons)) {
      expect(reason.trim().length, `the reason for ${name}`).toBeGreaterThan(20);
    }
  });

  it("keeps the release tests' tools at versions that run on Node 20", () => {
    const ignore = ecosystem('npm')?.ignore ?? [];
    expect(ignore).toContainEqual({ 'dependency-name': 'verdaccio', versions: ['>=6.9'] });
    expect(ignore).toContainEqual({ 'dependency-name': '@changesets/cli', versions: ['>=3'] });
  });
});
