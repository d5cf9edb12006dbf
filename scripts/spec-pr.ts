/**
 * What `.github/workflows/spec-update.yml` puts in its pull request, decided
 * here so that tests can run it against fixture pages (the workflow only
 * wires steps together):
 *
 *   npm run -s spec:update -- <url> --format json > report.json; code=$?
 *   npm run -s spec:pr -- --report report.json --exit-code "$code" --out DIR >> "$GITHUB_OUTPUT"
 *
 * Writes DIR/title.txt, DIR/body.md (the Markdown report) and DIR/labels.txt,
 * and prints `changed`, `title`, `labels`, `bump` and `body-path` as
 * GITHUB_OUTPUT lines. Exits 1 when spec:update did not finish (exit code not
 * 0 or 3), so the workflow stops there and opens nothing.
 * scripts/bin/spec-pr.ts runs `main`; importing this module runs nothing.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { renderReport, type SpecReport } from './spec-report.js';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** The label GitHub shows on a pull request whose spec change breaks consumers (exit code 3). */
export const BREAKING_LABEL = 'breaking-change';

export interface PullRequest {
  /** False when the page's YAML is byte for byte the vendored one: no pull request. */
  changed: boolean;
  bump: 'major' | 'minor';
  title: string;
  body: string;
  labels: string[];
}

/**
 * The pull request for one spec:update run. A breaking change implies a major
 * release and anything else a minor one (semver: callers must act on a
 * breaking change, not on an addition), even a change
 * to descriptions only: the generated declarations change with them.
 */
export function specPullRequest(options: {
  report: SpecReport;
  exitCode: number;
  version: string;
  sourceUrl: string;
}): PullRequest {
  const { report, exitCode, version, sourceUrl } = options;
  // Exit 3 and `breaking` come from the same diff; disagreeing means a wrong file was passed.
  if ((exitCode === 3) !== report.breaking) {
    throw new Error(
      `spec:update exited ${exitCode} but its report says breaking: ${report.breaking}`,
    );
  }
  const bump = report.breaking ? 'major' : 'minor';
  const next = nextVersion(version, bump);
  const body = [
    '## Upstream spec change',
    '',
    `The \`spec-update\` workflow found a new OpenAPI document on ${sourceUrl} and ran \`npm run spec:update\`: this pull request carries the vendored spec, the regenerated \`generated/\` files and a changeset (\`.changeset/spec-update-*.md\`, a **${bump}** bump of \`chatdash-client\` with the report below as its text).`,
    '',
    renderReport(report, 'markdown'),
    '',
    '## Before merging',
    '',
    `- This change implies a **${bump}** release (${version} → ${next}).`,
    '- Once merged, the release workflow adds it to the "Version packages" pull request; merging that one publishes `chatdash-client` and `chatdash-types`.',
    '- Review the diff of `generated/`; nothing here merges by itself.',
    // GitHub starts no workflow for events made with a run's own GITHUB_TOKEN.
    '- CI starts on its own only when the workflow has a `SPEC_UPDATE_TOKEN` secret; without one, close and reopen this pull request to run it.',
    '- A later upstream change updates this same pull request.',
    '',
  ].join('\n');
  return {
    changed: report.sha256.old !== report.sha256.new,
    bump,
    title: `Spec update: ${bump} (${version} → ${next})${report.breaking ? ', breaking' : ''}`,
    body,
    labels: exitCode === 3 ? [BREAKING_LABEL] : [],
  };
}

/** `1.4.2` + major -> `2.0.0`; + minor -> `1.5.0`. A prerelease tag is dropped. */
export function nextVersion(version: string, bump: 'major' | 'minor'): string {
  const match = /^(\d+)\.(\d+)\.(\d+)/.exec(version);
  if (!match) throw new Error(`not a semver version: ${JSON.stringify(version)}`);
  const [major, minor] = [Number(match[1]), Number(match[2])];
  return bump === 'major' ? `${major + 1}.0.0` : `${major}.${minor + 1}.0`;
}

/** `npm run spec:pr` (scripts/bin/spec-pr.ts runs it): 0 done, 1 nothing to propose or bad input. */
export async function main(args: string[]): Promise<number> {
  try {
    await writePullRequest(args);
    return 0;
  } catch (error) {
    console.error(`spec:pr: ${(error as Error)?.message ?? String(error)}`);
    return 1;
  }
}

async function writePullRequest(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      report: { type: 'string' },
      'exit-code': { type: 'string' },
      out: { type: 'string' },
    },
  });
  if (!values.report || values['exit-code'] === undefined || !values.out) {
    throw new Error('usage: spec:pr -- --report report.json --exit-code N --out DIR');
  }
  // Number('') is 0: an empty code (a broken workflow step) must not read as success.
  const exitCode = /^\d+$/.test(values['exit-code']) ? Number(values['exit-code']) : NaN;
  // 1 (refused) or 2 (usage): its report is empty or partial, and nothing may be proposed.
  if (exitCode !== 0 && exitCode !== 3) {
    throw new Error(`spec:update exited ${values['exit-code']}: nothing to propose`);
  }
  const report = JSON.parse(await readFile(values.report, 'utf8')) as SpecReport;
  const { version } = JSON.parse(await readFile(join(repo, 'package.json'), 'utf8')) as {
    version: string;
  };
  const { url } = JSON.parse(await readFile(join(repo, 'spec/SOURCE.json'), 'utf8')) as {
    url: string;
  };
  const pr = specPullRequest({ report, exitCode, version, sourceUrl: url });
  const out = resolve(values.out);
  await mkdir(out, { recursive: true });
  await writeFile(join(out, 'title.txt'), `${pr.title}\n`);
  await writeFile(join(out, 'body.md'), pr.body);
  await writeFile(join(out, 'labels.txt'), pr.labels.map((label) => `${label}\n`).join(''));
  // One `key=value` line each: the title and labels never hold a newline.
  console.log(`changed=${pr.changed}`);
  console.log(`bump=${pr.bump}`);
  console.log(`title=${pr.title}`);
  console.log(`labels=${pr.labels.join(',')}`);
  console.log(`body-path=${join(out, 'body.md')}`);
}
