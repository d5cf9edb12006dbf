/**
 * The `spec:update` change report in its three forms, one per reader:
 * text for a terminal, Markdown for the pull request and CHANGELOG.md, JSON
 * for scripts such as scripts/spec-pr.ts.
 */
import { formatReport, type Change } from './spec-diff.js';

export const FORMATS = ['text', 'markdown', 'json'] as const;
export type ReportFormat = (typeof FORMATS)[number];

/** The JSON form, and what the other two are rendered from. */
export interface SpecReport {
  changes: { level: 'breaking' | 'compatible'; path: string; message: string }[];
  breaking: boolean;
  /** Of spec/chatdash.yaml before, and of the page's YAML (equal when nothing changed). */
  sha256: { old: string; new: string };
}

/** Breaking changes first, as the text report has always listed them. */
export function specReport(changes: Change[], sha256: SpecReport['sha256']): SpecReport {
  const ordered = [...changes].sort((a, b) => Number(b.breaking) - Number(a.breaking));
  return {
    changes: ordered.map((c) => ({
      level: c.breaking ? 'breaking' : 'compatible',
      path: c.where,
      message: c.what,
    })),
    breaking: changes.some((c) => c.breaking),
    sha256,
  };
}

export function renderReport(report: SpecReport, format: ReportFormat): string {
  if (format === 'json') return JSON.stringify(report, null, 2);
  if (format === 'markdown') return markdownReport(report);
  return formatReport(
    report.changes.map((c) => ({
      breaking: c.level === 'breaking',
      where: c.path,
      what: c.message,
    })),
  );
}

/** A Markdown fragment without a heading, so the PR body and the changelog can give it one. */
function markdownReport(report: SpecReport): string {
  const summary = report.breaking
    ? '**Breaking**: code written against the current types may stop compiling or receive values it does not expect.'
    : report.changes.length > 0
      ? 'Compatible: nothing that worked before breaks.'
      : 'No change to the operation or the `Conversation` schema (descriptions or other operations only).';
  const lines = report.changes.map(
    (c) =>
      `- ${c.level === 'breaking' ? '**Breaking**' : 'Compatible'}: ${code(c.path)}: ${escape(c.message)}`,
  );
  const sha =
    report.sha256.old === report.sha256.new
      ? `\`spec/chatdash.yaml\` sha256 ${code(report.sha256.new)} (unchanged).`
      : `\`spec/chatdash.yaml\` sha256 ${code(report.sha256.old)} → ${code(report.sha256.new)}.`;
  return [summary, ...(lines.length > 0 ? ['', ...lines] : []), '', sha].join('\n');
}

/** A code span that survives backticks inside: the fence is longer than any run of them. */
function code(text: string): string {
  const longest = Math.max(0, ...(text.match(/`+/g) ?? []).map((run) => run.length));
  const fence = '`'.repeat(longest + 1);
  const pad = text.startsWith('`') || text.endsWith('`') ? ' ' : '';
  return `${fence}${pad}${text}${pad}${fence}`;
}

/** Upstream names and enum values appear in messages: keep them from becoming markup. */
function escape(text: string): string {
  return text.replace(/[\\`*_[\]<>|#]/g, '\\$&');
}
