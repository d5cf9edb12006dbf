/**
 * scripts/spec-pr.ts as the spec-update workflow runs it: after a real
 * `spec:update --format json` over a fixture page, with its exit code.
 */
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { nextVersion, specPullRequest } from '../../scripts/spec-pr.js';
import { edits, page, repo, runScript, scratch, update } from '../helpers/spec-scratch.js';

const { version } = JSON.parse(await readFile(join(repo, 'package.json'), 'utf8')) as {
  version: string;
};

/** The workflow's two steps: spec:update to a JSON file, then spec:pr with its exit code. */
async function workflow(edit?: (text: string) => string) {
  const root = await scratch();
  const path = await page(root, edit);
  // The same page's Markdown report, as `spec:update --format markdown` prints it.
  const markdown = await update(root, path, '--check-only', '--format', 'markdown');
  const updated = await update(root, path, '--format', 'json');
  const report = join(root, 'report.json');
  await writeFile(report, updated.stdout);
  const out = join(root, 'pr');
  const pr = await runScript('scripts/bin/spec-pr.ts', [
    '--report',
    report,
    '--exit-code',
    String(updated.code),
    '--out',
    out,
  ]);
  const outputs = Object.fromEntries(
    pr.stdout
      .trim()
      .split('\n')
      .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
  ) as Record<string, string>;
  const file = (name: string) => readFile(join(out, name), 'utf8');
  return { updated, markdown: markdown.stdout.trimEnd(), pr, outputs, file };
}

describe('spec:pr (the pull request the spec-update workflow opens)', () => {
  it('for a breaking change (exit 3): the breaking-change label, a major bump in the title, the Markdown report as the body', async () => {
    const { updated, markdown, pr, outputs, file } = await workflow(edits.costBecomesString);
    expect(updated.code).toBe(3);
    expect(pr.code).toBe(0);
    const title = `Spec update: major (${version} → ${nextVersion(version, 'major')}), breaking`;
    expect(outputs).toMatchObject({
      changed: 'true',
      bump: 'major',
      title,
      labels: 'breaking-change',
    });
    expect(await file('title.txt')).toBe(`${title}\n`);
    expect(await file('labels.txt')).toBe('breaking-change\n');
    const body = await file('body.md');
    expect(outputs['body-path']).toMatch(/body\.md$/);
    expect(body).toContain(markdown);
    expect(body).toContain('`Conversation.cost`: type changed from number to string');
    expect(body).toContain('nothing here merges by itself');
    expect(body).toContain(
      'a changeset (`.changeset/spec-update-*.md`, a **major** bump of `chatdash-client`',
    );
    expect(body).not.toContain('CHANGELOG.md');
  });

  it('for a compatible change (exit 0): no label and a minor bump', async () => {
    const { updated, outputs, file } = await workflow(edits.closedStatusAdded);
    expect(updated.code).toBe(0);
    expect(outputs).toMatchObject({
      changed: 'true',
      bump: 'minor',
      title: `Spec update: minor (${version} → ${nextVersion(version, 'minor')})`,
      labels: '',
    });
    expect(await file('labels.txt')).toBe('');
    expect(await file('body.md')).toContain('enum value "closed" added');
    expect(await file('body.md')).toContain('a **minor** bump of `chatdash-client`');
  });

  it('for the unchanged page: changed=false, so the workflow opens nothing', async () => {
    const { updated, outputs } = await workflow();
    expect(updated.code).toBe(0);
    expect(outputs['changed']).toBe('false');
  });

  it.each(['1', '2', ''])(
    'after spec:update exited %j (refused, usage, or no code at all): fails and writes nothing',
    async (code) => {
      const root = await scratch();
      await writeFile(join(root, 'report.json'), '');
      const out = join(root, 'pr');
      const pr = await runScript('scripts/bin/spec-pr.ts', [
        '--report',
        join(root, 'report.json'),
        '--exit-code',
        code,
        '--out',
        out,
      ]);
      expect(pr.code).toBe(1);
      expect(pr.stderr).toContain(`spec:update exited ${code}: nothing to propose`);
      expect(existsSync(out)).toBe(false);
    },
  );

  it('refuses an exit code that contradicts the report (a wrong file was passed)', () => {
    const report = { changes: [], breaking: false, sha256: { old: 'a', new: 'b' } };
    expect(() => specPullRequest({ report, exitCode: 3, version, sourceUrl: 'u' })).toThrow(
      'exited 3 but its report says breaking: false',
    );
  });

  it('bumps semver: major resets minor and patch, minor resets patch, a prerelease tag goes', () => {
    expect(nextVersion('0.1.0', 'major')).toBe('1.0.0');
    expect(nextVersion('1.4.2', 'major')).toBe('2.0.0');
    expect(nextVersion('1.4.2', 'minor')).toBe('1.5.0');
    expect(nextVersion('2.0.0-rc.1', 'minor')).toBe('2.1.0');
    expect(() => nextVersion('next', 'minor')).toThrow('not a semver version');
  });
});
