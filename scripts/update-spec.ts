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
 * lines about what was written go to stderr. A write also files the Markdown
 * report in CHANGELOG.md under `## Unreleased`. Exit codes: 0 done (nothing breaking),
 * 3 something is breaking (CI can stop a release on it), 1 refused (bad page,
 * fetch failed, spec does not lint), 2 usage.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { parse as parseYaml } from 'yaml';
// generate.js (Redocly, openapi-typescript, prettier) and changelog.js (prettier)
// load only when there is something to write.
import { diffSpecs } from './spec-diff.js';
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
  await writeFile(specPath, yaml);
  await writeFile(sourcePath, `${JSON.stringify(record, null, 2)}\n`);
  try {
    const { generate } = await import('./generate.js');
    const files = await generate(root);
    for (const file of files) {
      await mkdir(dirname(join(root, file.path)), { recursive: true });
      await writeFile(join(root, file.path), file.contents);
    }
    result.wrote = ['spec/chatdash.yaml', 'spec/SOURCE.json', ...files.map((f) => f.path)];
  } catch (error) {
    // Leave the checkout as it was: a spec that does not lint is not vendored.
    await writeFile(specPath, oldYaml);
    await writeFile(sourcePath, oldSource);
    throw new RefusedError(`the new spec was not vendored: ${(error as Error).message}`);
  }
  const { updateChangelog } = await import('./changelog.js');
  await updateChangelog(
    root,
    `### Spec update (${record.retrieved})\n\n${renderReport(result.report, 'markdown')}`,
  );
  result.wrote.push('CHANGELOG.md');
  return result;
}

async function main(): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      allowPositionals: true,
      options: {
        'check-only': { type: 'boolean', default: false },
        format: { type: 'string', default: 'text' },
        root: { type: 'string' },
        'timeout-ms': { type: 'string', default: '15000' },
      },
    });
  } catch (error) {
    console.error(`spec:update: ${(error as Error).message}`);
    return 2;
  }
  const { values, positionals } = parsed;
  const timeoutMs = Number(values['timeout-ms']);
  const format = values.format as ReportFormat;
  if (positionals.length !== 1 || !(timeoutMs > 0) || !FORMATS.includes(format)) {
    console.error(
      'usage: npm run spec:update -- <page.md | https://...> [--check-only] [--format text|markdown|json] [--timeout-ms N]',
    );
    return 2;
  }
  const result = await updateSpec({
    root: resolve(values.root ?? repoRoot),
    source: positionals[0] ?? '',
    checkOnly: values['check-only'] ?? false,
    timeoutMs,
  });
  console.log(renderReport(result.report, format));
  // The text report has always carried these lines on stdout; the others keep stdout for the report.
  const status = format === 'text' ? console.log : console.error;
  if (!result.changedBytes) status('spec/chatdash.yaml is unchanged; nothing rewritten.');
  else if (values['check-only'])
    status('--check-only: the upstream spec differs; nothing written.');
  else status(`wrote ${result.wrote.join(', ')}`);
  return result.report.breaking ? 3 : 0;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().then(
    (code) => process.exit(code),
    (error: unknown) => {
      console.error(
        `spec:update: ${error instanceof RefusedError ? error.message : String((error as Error)?.stack ?? error)}`,
      );
      process.exit(1);
    },
  );
}
