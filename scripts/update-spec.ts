/**
 * Pulls the OpenAPI YAML out of a ChatDash docs page and makes it the vendored spec.
 *
 *   npm run spec:update -- <page.md | https://...>               write spec/, regenerate, report
 *   npm run spec:update -- <page.md | https://...> --check-only  report only; change nothing
 *   ... --format text|markdown|json                               the report's form (default text)
 *
 * The report lists each change to the operation and the Conversation schema,
 * marked BREAKING or compatible. With markdown or json, stdout carries the
 * report alone (a pull request body, a file for scripts/spec-pr.ts) and the
 * lines about what was written go to stderr. A write also adds a changeset,
 * .changeset/spec-update-<new sha256, 12 digits>.md: a `major` bump of
 * chatdash-client for a breaking change, `minor` otherwise, with the Markdown
 * report as its text (`npm run release:version` moves it into CHANGELOG.md).
 * Every file is written to a
 * staging folder first and renamed into place only when all of them are ready,
 * so a refused or failed update leaves the checkout as it was. Exit codes:
 * 0 done (nothing breaking), 3 something is breaking (CI can stop a release on
 * it), 1 refused (bad page, fetch failed, spec does not lint), 2 usage.
 * scripts/bin/update-spec.ts runs `main`; importing this module runs nothing.
 */
import { createHash } from 'node:crypto';
import { copyFile, link, mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { parse as parseYaml } from 'yaml';
// generate.js (Redocly, openapi-typescript, prettier) and changelog.js (prettier)
// load only when there is something to write.
import { diffSpecs } from './spec-diff.js';
import type { GeneratedFile } from './generate.js';
import {
  FORMATS,
  renderReport,
  specReport,
  type ReportFormat,
  type SpecReport,
} from './spec-report.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');

export class RefusedError extends Error {
  override name = 'RefusedError' as const;
}

/** The text of each fenced ```yaml / ````yaml block of a Markdown page, byte for byte. */
export function yamlBlocks(page: string): string[] {
  const blocks: string[] = [];
  const lines = page.split(/(?<=\n)/); // keep line endings, so the YAML stays byte for byte
  for (let i = 0; i < lines.length; i++) {
    const open = /^ {0,3}(`{3,})[ \t]*ya?ml(?:[ \t][^\n]*)?\r?\n?$/i.exec(lines[i] ?? '');
    if (!open) continue;
    const fence = open[1] ?? '```';
    const closing = new RegExp(`^ {0,3}\`{${fence.length},}[ \\t]*\\r?\\n?$`);
    let body = '';
    let j = i + 1;
    for (; j < lines.length && !closing.test(lines[j] ?? ''); j++) body += lines[j];
    blocks.push(body);
    i = j;
  }
  return blocks;
}

/** Exactly one OpenAPI 3.x document from the page, or a RefusedError saying why not. */
export function extractSpec(
  page: string,
  source: string,
): { yaml: string; doc: Record<string, unknown> } {
  const blocks = yamlBlocks(page);
  if (blocks.length !== 1) {
    throw new RefusedError(
      `${source}: expected exactly one \`\`\`yaml block holding the OpenAPI document, found ${blocks.length}`,
    );
  }
  const yaml = blocks[0] ?? '';
  let doc: unknown;
  try {
    doc = parseYaml(yaml);
  } catch (error) {
    throw new RefusedError(
      `${source}: the \`\`\`yaml block is not valid YAML: ${(error as Error).message}`,
    );
  }
  const version = (doc as { openapi?: unknown } | null)?.openapi;
  if (typeof version !== 'string' || !/^3\.\d+\.\d+$/.test(version)) {
    throw new RefusedError(
      `${source}: the \`\`\`yaml block is not an OpenAPI 3.x document (its "openapi" field is ${JSON.stringify(version ?? null)})`,
    );
  }
  return { yaml, doc: doc as Record<string, unknown> };
}

/** Reads a page from a file or an http(s) URL. */
export async function loadPage(source: string, timeoutMs: number): Promise<string> {
  if (!/^https?:\/\//i.test(source)) {
    return readFile(source, 'utf8').catch((error: NodeJS.ErrnoException) => {
      throw new RefusedError(`${source}: cannot read the page (${error.code ?? error.message})`);
    });
  }
  let response: Response;
  try {
    response = await fetch(source, { signal: AbortSignal.timeout(timeoutMs), redirect: 'follow' });
  } catch (error) {
    const reason =
      (error as Error).name === 'TimeoutError'
        ? `no answer within ${timeoutMs} ms`
        : (error as Error).message;
    throw new RefusedError(`${source}: fetching the page failed: ${reason}`);
  }
  if (response.status !== 200) {
    await response.body?.cancel();
    throw new RefusedError(
      `${source}: fetching the page failed: HTTP ${response.status} ${response.statusText}`,
    );
  }
  const type = response.headers.get('content-type') ?? '';
  if (type && !/^text\/|markdown/i.test(type)) {
    await response.body?.cancel();
    throw new RefusedError(`${source}: not a docs page (content-type ${type})`);
  }
  try {
    return await response.text();
  } catch (error) {
    throw new RefusedError(`${source}: reading the page failed: ${(error as Error).message}`);
  }
}

export interface UpdateResult {
  report: SpecReport;
  changedBytes: boolean;
  wrote: string[];
}

export async function updateSpec(options: {
  root: string;
  source: string;
  checkOnly: boolean;
  timeoutMs?: number;
  today?: string;
}): Promise<UpdateResult> {
  const { root, source, checkOnly } = options;
  const page = await loadPage(source, options.timeoutMs ?? 15_000);
  const { yaml, doc } = extractSpec(page, source);
  const specPath = join(root, 'spec/chatdash.yaml');
  const sourcePath = join(root, 'spec/SOURCE.json');
  const oldYaml = await readFile(specPath, 'utf8');
  const changes = diffSpecs(parseYaml(oldYaml) as Record<string, unknown>, doc);
  const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
  const result: UpdateResult = {
    report: specReport(changes, { old: sha256(oldYaml), new: sha256(yaml) }),
    changedBytes: yaml !== oldYaml,
    wrote: [],
  };
  if (checkOnly || !result.changedBytes) return result;

  const oldSource = await readFile(sourcePath, 'utf8').catch(() => '{}');
  const previous = JSON.parse(oldSource) as Record<string, unknown>;
  const isUrl = /^https?:\/\//i.test(source);
  const record = {
    url: isUrl ? source : (previous['url'] ?? null),
    sha256: result.report.sha256.new,
    retrieved: options.today ?? new Date().toISOString().slice(0, 10),
    extractedFrom: isUrl
      ? 'the ```yaml fence of the docs page'
      : `the \`\`\`yaml fence of ${source}`,
  };
  await mkdir(join(root, '.cache'), { recursive: true });
  const staging = await mkdtemp(join(root, '.cache/spec-update-'));
  try {
    const stagedSpec = join(staging, 'spec/chatdash.yaml');
    await mkdir(dirname(stagedSpec), { recursive: true });
    await writeFile(stagedSpec, yaml);
    let generated: GeneratedFile[];
    try {
      const { generate } = await import('./generate.js');
      generated = await generate(root, { spec: stagedSpec });
    } catch (error) {
      // A spec that does not lint or generate is not vendored.
      throw new RefusedError(`the new spec was not vendored: ${(error as Error).message}`);
    }
    const changeset = await specChangeset(root, result.report);
    // The spec last: a run cut short before it leaves the old spec, and the next run redoes the update.
    const files = [
      ...generated,
      changeset,
      { path: 'spec/SOURCE.json', contents: `${JSON.stringify(record, null, 2)}\n` },
      { path: 'spec/chatdash.yaml', contents: yaml },
    ];
    await replaceFiles(root, staging, files);
    result.wrote = [
      'spec/chatdash.yaml',
      'spec/SOURCE.json',
      ...generated.map((f) => f.path),
      changeset.path,
    ];
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
  return result;
}

/**
 * The changeset for a vendored spec change: it names chatdash-client with
 * `major` for a breaking change and `minor` otherwise (callers must act on a
 * breaking change, not on an addition; even a change to descriptions changes
 * the generated declarations), and its text is the Markdown report. Named
 * after the new spec, so running the update again rewrites the same file.
 */
export async function specChangeset(root: string, report: SpecReport): Promise<GeneratedFile> {
  const path = `.changeset/spec-update-${report.sha256.new.slice(0, 12)}.md`;
  const bump = report.breaking ? 'major' : 'minor';
  const text = `---\n'chatdash-client': ${bump}\n---\n\n${renderReport(report, 'markdown')}\n`;
  const { formatMarkdown } = await import('./changelog.js');
  return { path, contents: await formatMarkdown(root, path, text) };
}

/**
 * Writes every file under `staging` (inside the root, so a rename never
 * crosses file systems), then renames each over its target. A rename that
 * fails puts back the files already replaced: each old file is kept as a hard
 * link (a copy where links are not allowed), so it returns as it was.
 * `move` is `rename` but for a test that makes one fail.
 */
export async function replaceFiles(
  root: string,
  staging: string,
  files: GeneratedFile[],
  move: (from: string, to: string) => Promise<void> = rename,
): Promise<void> {
  const staged = (path: string) => join(staging, 'new', path);
  const saved = (path: string) => join(staging, 'old', path);
  const existed = new Set<string>();
  for (const file of files) {
    await mkdir(dirname(staged(file.path)), { recursive: true });
    await writeFile(staged(file.path), file.contents);
    await mkdir(dirname(saved(file.path)), { recursive: true });
    if (await keep(join(root, file.path), saved(file.path))) existed.add(file.path);
  }
  const replaced: string[] = [];
  try {
    for (const file of files) {
      await mkdir(dirname(join(root, file.path)), { recursive: true });
      await move(staged(file.path), join(root, file.path));
      replaced.push(file.path);
    }
  } catch (error) {
    for (const path of replaced.reverse()) {
      if (existed.has(path)) await rename(saved(path), join(root, path));
      else await rm(join(root, path), { force: true });
    }
    throw error;
  }
}

const USAGE = `usage: npm run spec:update -- <page.md | https://...> [--check-only] [--format text|markdown|json] [--timeout-ms N]

Pulls the OpenAPI document out of a ChatDash docs page (a file or an http(s) URL),
vendors it as spec/chatdash.yaml, regenerates generated/, adds a changeset
(.changeset/spec-update-*.md: major if breaking, minor otherwise) whose text is the
Markdown report, and prints the report.

  --check-only     print the report; change no file
  --format F       the report's form: text (default), markdown or json
  --timeout-ms N   how long to wait for the page, in milliseconds (default 15000)
  -h, --help       show this help

Exit codes: 0 done, nothing breaking; 3 done, something breaking; 1 refused; 2 usage.
`;

/** `npm run spec:update` (scripts/bin/update-spec.ts runs it): the exit code. */
export async function main(args: string[]): Promise<number> {
  const usage = (problem: string) => {
    console.error(`spec:update: ${problem}\n${USAGE.slice(0, USAGE.indexOf('\n'))}`);
    return 2;
  };
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: {
        'check-only': { type: 'boolean', default: false },
        format: { type: 'string', default: 'text' },
        root: { type: 'string' },
        'timeout-ms': { type: 'string', default: '15000' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (error) {
    // Node's text for an unknown flag ends in advice about `--` with an unclosed quote.
    return usage(
      (error as Error).message.replace(/\. To specify a positional argument[\s\S]*$/, ''),
    );
  }
  const { values, positionals } = parsed;
  if (values.help) {
    console.log(USAGE.trimEnd());
    return 0;
  }
  const timeoutMs = Number(values['timeout-ms']);
  const format = values.format as ReportFormat;
  if (positionals.length !== 1) {
    return usage(
      positionals.length === 0
        ? 'no page given'
        : `one page at a time, got ${positionals.length}: ${positionals.map((p) => JSON.stringify(p)).join(', ')}`,
    );
  }
  if (!FORMATS.includes(format)) {
    return usage(`--format must be text, markdown or json, got ${JSON.stringify(values.format)}`);
  }
  if (!(timeoutMs > 0 && Number.isFinite(timeoutMs))) {
    return usage(
      `--timeout-ms must be a positive number of milliseconds, got ${JSON.stringify(values['timeout-ms'])}`,
    );
  }
  let result;
  try {
    result = await updateSpec({
      root: resolve(values.root ?? repoRoot),
      source: positionals[0] ?? '',
      checkOnly: values['check-only'] ?? false,
      timeoutMs,
    });
  } catch (error) {
    console.error(
      `spec:update: ${error instanceof RefusedError ? error.message : String((error as Error)?.stack ?? error)}`,
    );
    return 1;
  }
  console.log(renderReport(result.report, format));
  // The text report has always carried these lines on stdout; the others keep stdout for the report.
  const status = format === 'text' ? console.log : console.error;
  if (!result.changedBytes) status('spec/chatdash.yaml is unchanged; nothing rewritten.');
  else if (values['check-only'])
    status('--check-only: the upstream spec differs; nothing written.');
  else status(`wrote ${result.wrote.join(', ')}`);
  return result.report.breaking ? 3 : 0;
}

/** Keeps the file at `from` as `to`; false when there is none. */
async function keep(from: string, to: string): Promise<boolean> {
  try {
    await link(from, to);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    await copyFile(from, to); // a file system without hard links
  }
  return true;
}
