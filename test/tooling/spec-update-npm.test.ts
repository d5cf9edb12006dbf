/**
 * `npm run -s spec:update -- <page> --format F` exactly as the spec-update
 * workflow runs it: the npm script (esbuild bundle, then node) in a scratch copy
 * of the repository, not scripts/update-spec.ts through tsx. Bundling once made
 * generate's own argument parser read spec:update's arguments; only the npm
 * script shows that.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generate, staleFiles } from '../../scripts/generate.js';
import { extractSpec, replaceFiles } from '../../scripts/update-spec.js';
import {
  edits,
  npmRun,
  page,
  read,
  scratch,
  scratchRepo,
  snapshot,
} from '../helpers/spec-scratch.js';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** What the run left in .cache/: the bundle and nothing staged. */
const cacheEntries = async (root: string) => (await readdir(join(root, '.cache'))).sort();

describe('npm run spec:update, as the spec-update workflow calls it', () => {
  it.each([
    ['json', 'breaking', 3, edits.costBecomesString],
    ['json', 'compatible', 0, edits.closedStatusAdded],
    ['markdown', 'breaking', 3, edits.costBecomesString],
    ['text', 'compatible', 0, edits.closedStatusAdded],
  ] as const)(
    'with --format %s and a %s change: exits %i, prints the report on stdout, updates spec/ and generated/ and adds a changeset (CHANGELOG.md stays)',
    async (format, level, code, edit) => {
      const root = await scratchRepo();
      const path = await page(root, edit);
      // The page's Markdown report, as --check-only (which writes nothing) prints it.
      const markdown = (
        await npmRun(root, 'spec:update', [path, '--check-only', '--format', 'markdown'])
      ).stdout;
      expect(markdown).toContain('sha256');
      const before = await snapshot(root);
      const result = await npmRun(root, 'spec:update', [path, '--format', format]);
      expect(result.code, result.stderr).toBe(code);

      const line =
        level === 'breaking'
          ? {
              json: {
                level,
                path: 'Conversation.cost',
                message: 'type changed from number to string',
              },
              markdown: '- **Breaking**: `Conversation.cost`: type changed from number to string',
              text: 'BREAKING    Conversation.cost: type changed from number to string',
            }[format]
          : {
              json: { level, path: 'Conversation.status', message: 'enum value "closed" added' },
              markdown: '- Compatible: `Conversation.status`: enum value "closed" added',
              text: 'compatible  Conversation.status: enum value "closed" added',
            }[format];
      if (format === 'json') {
        // The whole of stdout is the report: the workflow redirects it into a file for spec:pr.
        const report = JSON.parse(result.stdout) as { changes: unknown[]; breaking: boolean };
        expect(report).toMatchObject({ breaking: code === 3, changes: [line] });
        expect(result.stderr).toContain('wrote ');
      } else {
        expect(result.stdout).toContain(line);
      }

      const yaml = extractSpec(await readFile(path, 'utf8'), path).yaml;
      expect(await read(root, 'spec/chatdash.yaml')).toBe(yaml);
      const after = await snapshot(root);
      const changed = Object.keys(after).filter((file) => after[file] !== before[file]);
      const changeset = `.changeset/spec-update-${sha256(yaml).slice(0, 12)}.md`;
      expect(changed).toEqual([
        changeset,
        'generated/chatdash.ts',
        'generated/validate-conversation.d.ts',
        'generated/validate-conversation.js',
        'spec/SOURCE.json',
        'spec/chatdash.yaml',
      ]);
      expect(await read(root, 'generated/chatdash.ts')).toMatch(
        level === 'breaking' ? /cost\?: string;/ : /'closed'/,
      );
      // One changeset naming chatdash-client, major for a breaking change, its text the Markdown report.
      const bump = level === 'breaking' ? 'major' : 'minor';

      expect(await read(root, changeset)).toBe(
        `---\n'chatdash-client': ${bump}\n---\n\n${markdown.trimEnd()}\n`,
      );
      expect(await cacheEntries(root)).toEqual(['update-spec.mjs']);
    },
  );

  it('leaves generated/ exactly as the pipeline generates it from the new spec', async () => {
    const root = await scratchRepo();
    const path = await page(root, edits.closedStatusAdded);
    expect((await npmRun(root, 'spec:update', [path, '--format', 'json'])).code).toBe(0);
    const files = await generate(root);
    expect(await staleFiles(root, files)).toEqual([]);
  });

  it('prints the usage on stdout for --help, exits 0 and changes nothing', async () => {
    const root = await scratchRepo();
    const before = await snapshot(root);
    const result = await npmRun(root, 'spec:update', ['--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^usage: npm run spec:update -- <page\.md \| https:\/\/\.\.\.>/);
    expect(result.stdout).toContain('--format F');
    expect(result.stderr).toBe('');
    expect(await snapshot(root)).toEqual(before);
  });

  it('exits 2 for an unknown --format, naming the value, and changes nothing', async () => {
    const root = await scratchRepo();
    const path = await page(root, edits.costBecomesString);
    const before = await snapshot(root);
    const result = await npmRun(root, 'spec:update', [path, '--format', 'yaml']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(
      'spec:update: --format must be text, markdown or json, got "yaml"',
    );
    expect(result.stdout).toBe('');
    expect(await snapshot(root)).toEqual(before);
  });

  it('refuses a spec that does not generate (a $ref to a missing schema) and changes no file at all', async () => {
    const root = await scratchRepo();
    const path = await page(root, (t) =>
      t.replace("$ref: '#/components/schemas/Conversation'", "$ref: '#/components/schemas/Gone'"),
    );
    const before = await snapshot(root);
    const result = await npmRun(root, 'spec:update', [path, '--format', 'json']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('the new spec was not vendored');
    expect(result.stdout).toBe('');
    // Contents and modification times: rewriting a file and putting it back is a change too.
    expect(await snapshot(root)).toEqual(before);
    expect(await cacheEntries(root)).toEqual(['update-spec.mjs']);
  });

  it('stops when the changeset cannot be written (.changeset is a file), before spec/ or generated/ change', async () => {
    const root = await scratchRepo();
    const path = await page(root, edits.costBecomesString);
    await rm(join(root, '.changeset'), { recursive: true });
    await writeFile(join(root, '.changeset'), 'not a folder\n');
    const before = await snapshot(root, ['.changeset', 'generated', 'spec']);
    const result = await npmRun(root, 'spec:update', [path, '--format', 'json']);
    expect(result.code).toBe(1);
    expect(await snapshot(root, ['.changeset', 'generated', 'spec'])).toEqual(before);
    expect(result.stderr).toContain('ENOTDIR');
    expect(await cacheEntries(root)).toEqual(['update-spec.mjs']);
  });
});

describe('moving the staged files into place', () => {
  it('puts back every file already replaced when a later rename fails, and removes a new one', async () => {
    const root = await scratch();
    const staging = join(root, '.cache/staging');
    await mkdir(staging, { recursive: true });
    const before = await snapshot(root);
    const files = [
      { path: 'generated/chatdash.ts', contents: 'new types\n' },
      { path: 'generated/added.ts', contents: 'a file that did not exist\n' },
      { path: 'spec/SOURCE.json', contents: '{}\n' },
      { path: 'spec/chatdash.yaml', contents: 'openapi: 3.0.1\n' },
    ];
    const moved: string[] = [];
    const failing = async (from: string, to: string) => {
      if (to.endsWith('SOURCE.json')) throw new Error('disk full');
      await rename(from, to);
      moved.push(to.slice(root.length + 1));
    };
    await expect(replaceFiles(root, staging, files, failing)).rejects.toThrow('disk full');
    // The failure came after two files had really been replaced.
    expect(moved).toEqual(['generated/chatdash.ts', 'generated/added.ts']);
    expect(existsSync(join(root, 'generated/added.ts'))).toBe(false);
    // Contents and modification times: the old files themselves are back.
    expect(await snapshot(root)).toEqual(before);
  });
});
