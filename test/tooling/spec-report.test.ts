import { createHash } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as prettier from 'prettier';
import { addRelease } from '../../scripts/changelog.js';
import { renderReport, specReport } from '../../scripts/spec-report.js';
import { extractSpec } from '../../scripts/update-spec.js';
import {
  committed,
  edits,
  page,
  read,
  repo,
  scratch,
  update,
  upstreamPage,
} from '../helpers/spec-scratch.js';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const vendored = sha256(await committed('spec/chatdash.yaml'));
// One breaking and one compatible change, so every form must order and mark both.
const both = (t: string) => edits.closedStatusAdded(edits.costBecomesString(t));
const bothSha = sha256(extractSpec(both(upstreamPage), 'page').yaml);

describe('spec:update --format', () => {
  it('text: one line per change, BREAKING first (the default)', async () => {
    const root = await scratch();
    const path = await page(root, both);
    const text = await update(root, path, '--check-only', '--format', 'text');
    expect(text.code).toBe(3);
    expect(text.stdout.split('\n').slice(0, 2)).toEqual([
      'BREAKING    Conversation.cost: type changed from number to string',
      'compatible  Conversation.status: enum value "closed" added',
    ]);
    expect((await update(root, path, '--check-only')).stdout).toBe(text.stdout);
  });

  it('markdown: a summary, one item per change and both sha256, and nothing else on stdout', async () => {
    const root = await scratch();
    const result = await update(
      root,
      await page(root, both),
      '--check-only',
      '--format',
      'markdown',
    );
    expect(result.code).toBe(3);
    expect(result.stdout).toBe(
      [
        '**Breaking**: code written against the current types may stop compiling or receive values it does not expect.',
        '',
        '- **Breaking**: `Conversation.cost`: type changed from number to string',
        '- Compatible: `Conversation.status`: enum value "closed" added',
        '',
        `\`spec/chatdash.yaml\` sha256 \`${vendored}\` → \`${bothSha}\`.`,
        '',
      ].join('\n'),
    );
    expect(result.stderr).toContain('--check-only: the upstream spec differs; nothing written.');
  });

  it('json: { changes: [{ level, path, message }], breaking, sha256: { old, new } }', async () => {
    const root = await scratch();
    const result = await update(root, await page(root, both), '--check-only', '--format', 'json');
    expect(result.code).toBe(3);
    expect(JSON.parse(result.stdout)).toEqual({
      changes: [
        {
          level: 'breaking',
          path: 'Conversation.cost',
          message: 'type changed from number to string',
        },
        { level: 'compatible', path: 'Conversation.status', message: 'enum value "closed" added' },
      ],
      breaking: true,
      sha256: { old: vendored, new: bothSha },
    });
  });

  it('json for the unchanged page: no change, not breaking, the same sha256 twice, exit 0', async () => {
    const root = await scratch();
    const result = await update(root, await page(root), '--format', 'json');
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({
      changes: [],
      breaking: false,
      sha256: { old: vendored, new: vendored },
    });
    expect(result.stderr).toContain('nothing rewritten');
  });

  it('refuses an unknown format as a usage error (exit 2)', async () => {
    const root = await scratch();
    const result = await update(root, await page(root), '--format', 'yaml');
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--format text|markdown|json');
  });

  it('escapes Markdown in upstream names and values', () => {
    const report = specReport(
      [{ breaking: false, where: 'Conversation.a`b', what: 'enum value "<b>*x*</b>" added' }],
      { old: 'a', new: 'b' },
    );
    expect(renderReport(report, 'markdown')).toContain(
      '- Compatible: ``Conversation.a`b``: enum value "\\<b\\>\\*x\\*\\</b\\>" added',
    );
  });
});

describe("the changeset spec:update writes (CHANGELOG.md is release:version's)", () => {
  it('is one .changeset file per new spec, major then minor, the Markdown report as its text, prettier-clean; CHANGELOG.md stays', async () => {
    const root = await scratch();
    const first = await update(
      root,
      await page(root, edits.closedStatusAdded),
      '--format',
      'markdown',
    );
    expect(first.code).toBe(0);
    expect(first.stderr).toMatch(/^wrote .*\.changeset\/spec-update-[0-9a-f]{12}\.md$/m);
    const second = await update(root, await page(root, both), '--format', 'markdown');
    expect(second.code).toBe(3);

    const files = (await readdir(join(root, '.changeset'))).filter(
      (f) => f.endsWith('.md') && f !== 'README.md',
    );
    expect(files).toHaveLength(2);
    const changesets = await Promise.all(files.map((f) => read(root, `.changeset/${f}`)));
    expect(changesets.sort()).toEqual(
      [
        `---\n'chatdash-client': minor\n---\n\n${first.stdout}`,
        `---\n'chatdash-client': major\n---\n\n${second.stdout}`,
      ].sort(),
    );
    const options = (await prettier.resolveConfig(`${repo}/.changeset/x.md`)) ?? {};
    for (const text of changesets) {
      expect(await prettier.check(text, { ...options, parser: 'markdown' })).toBe(true);
    }
    expect(await read(root, 'CHANGELOG.md')).toBe(await committed('CHANGELOG.md'));
  });

  it('an unchanged page adds no changeset', async () => {
    const root = await scratch();
    await update(root, await page(root));
    expect(await readdir(join(root, '.changeset'))).toEqual(
      await readdir(join(repo, '.changeset')),
    );
  });
});

describe('CHANGELOG.md, as release:version writes it', () => {
  it('puts the new version above the others and folds ## Unreleased into it', () => {
    const before =
      '# Changelog\n\nIntro.\n\n## Unreleased\n\n### Fixed\n\n- z\n\n## 1.0.0\n\n- y\n';
    expect(addRelease(before, '1.1.0', '### Minor changes\n\nx')).toBe(
      '# Changelog\n\nIntro.\n\n## 1.1.0\n\n### Minor changes\n\nx\n\n### Fixed\n\n- z\n\n## 1.0.0\n\n- y\n',
    );
  });

  it('is created with its title when missing, and a first version goes below the title', () => {
    expect(addRelease('', '0.2.0', 'x')).toBe('# Changelog\n\n## 0.2.0\n\nx\n\n');
    expect(addRelease('# Changelog\n\nIntro.\n', '0.2.0', 'x')).toBe(
      '# Changelog\n\nIntro.\n\n## 0.2.0\n\nx\n\n',
    );
  });
});
