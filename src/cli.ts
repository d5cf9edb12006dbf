/**
 * `chatdash`: the client on the command line.
 *
 *   chatdash get-conversation <agentId> <conversationId> [--platform-id] [--validate]
 *            [--base-url URL] [--timeout-ms N] [--max-retries N]
 *   chatdash --version
 *
 * The key comes only from CHATDASH_API_KEY: a flag would show in `ps` and in
 * shell history. Stdout carries the conversation as JSON and nothing else.
 * Exit codes: 0 done, 1 the call failed, 2 usage.
 */
import { parseArgs } from 'node:util';
import { createChatDashClient } from './index.js';
import { APIError, ChatDashError, ResponseValidationError } from './errors.js';
import { LIMITS, type Limited } from './limits.js';
import { checkParams } from './options.js';
import { Redactor } from './redact.js';
import { maskSecrets } from './rules.js';
import { VERSION } from './version.js';

/** As the help shows an option's range: `0 to 10 (default 2)`. */
function range(name: Limited): string {
  const { min, max, default: value } = LIMITS[name];
  return `${min} to ${max}${value === undefined ? '' : ` (default ${value})`}`;
}

const USAGE = `Usage: chatdash get-conversation <agentId> <conversationId> [options]

Fetches one conversation and prints it as JSON.

Options:
  --platform-id        conversationId is the platform's ID (sends ?isPlatformId=true)
  --validate           check the response against the spec's Conversation schema
  --base-url URL       API base URL (default: $CHATDASH_BASE_URL, else https://api.chat-dash.com/v1/public)
  --timeout-ms N       per-attempt timeout in milliseconds, ${range('timeoutMs')}
  --max-retries N      retries after a failed attempt, ${range('maxRetries')}
  -h, --help           show this help
  --version            print the version of chatdash-client

Environment:
  CHATDASH_API_KEY     the agency API key (required; never passed as a flag)
  CHATDASH_BASE_URL    API base URL

Exit codes: 0 done, 1 the request failed, 2 usage error.
`;

class UsageError extends Error {}

export interface CliIO {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  env: Record<string, string | undefined>;
}

export async function runCli(argv: string[], io: CliIO): Promise<number> {
  let request;
  try {
    request = parseCommand(argv, io.env);
  } catch (error) {
    if (!(error instanceof UsageError || error instanceof ChatDashError)) throw error;
    // A usage error quotes the argument it refuses, and that may be the key pasted in by mistake.
    const key = io.env['CHATDASH_API_KEY'];
    const message = key ? new Redactor(key).text(error.message) : error.message;
    io.stderr(`chatdash: ${message}\nRun \`chatdash --help\` for usage.\n`);
    return 2;
  }
  if (request === 'help' || request === 'version') {
    io.stdout(request === 'help' ? USAGE : `${VERSION}\n`);
    return 0;
  }
  try {
    const conversation = await request.client.getConversation(request.params);
    io.stdout(`${JSON.stringify(conversation, null, 2)}\n`);
    return 0;
  } catch (error) {
    io.stderr(describeError(error));
    return 1;
  }
}

const OPTIONS = {
  'platform-id': { type: 'boolean' },
  validate: { type: 'boolean' },
  'base-url': { type: 'string' },
  'timeout-ms': { type: 'string' },
  'max-retries': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean' },
} as const;

function parseCommand(argv: string[], env: Record<string, string | undefined>) {
  const args = joinNumberValues(argv);
  let parsed;
  try {
    parsed = parseArgs({ args, allowPositionals: true, strict: true, options: OPTIONS });
  } catch (error) {
    // Node's own text for an unknown flag ends in advice about `--` with an unclosed quote.
    throw new UsageError(
      (error as { code?: unknown }).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION'
        ? unknownOption(args)
        : (error as Error).message,
    );
  }
  const { values, positionals } = parsed;
  if (values.help) return 'help' as const;
  if (values.version) return 'version' as const;
  const [command, agentId, conversationId, ...extra] = positionals;
  if (command === undefined) throw new UsageError('missing command: get-conversation');
  if (command !== 'get-conversation') throw new UsageError(`unknown command "${command}"`);
  if (agentId === undefined || conversationId === undefined) {
    throw new UsageError('get-conversation needs <agentId> and <conversationId>');
  }
  if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}"`);
  // The client's own id checks, run here so that an id it would refuse is a
  // usage error (exit 2) like any other bad argument, not a failed call (exit 1).
  checkParams({ agentId, conversationId }, 'get-conversation');
  // Checked here, before a client exists, so the message names the flag, not the option.
  const timeoutMs = integer(values['timeout-ms'], '--timeout-ms', 'timeoutMs');
  const maxRetries = integer(values['max-retries'], '--max-retries', 'maxRetries');
  const apiKey = env['CHATDASH_API_KEY'];
  if (!apiKey)
    throw new UsageError('CHATDASH_API_KEY is not set (the key is read only from the environment)');

  const client = createChatDashClient({
    apiKey,
    baseUrl: values['base-url'] ?? (env['CHATDASH_BASE_URL'] || undefined),
    timeoutMs,
    maxRetries,
    validateResponses: values.validate ?? false,
  });
  const params = {
    agentId,
    conversationId,
    ...(values['platform-id'] ? { isPlatformId: true } : {}),
  };
  return { client, params };
}

const NUMBER_FLAGS = new Set(['--timeout-ms', '--max-retries']);

/**
 * `--timeout-ms -5` as `--timeout-ms=-5`: parseArgs reads a value starting with
 * `-` as another flag and rejects it as ambiguous, which would hide the real
 * problem (a negative number) behind a message about dashes.
 */
function joinNumberValues(argv: string[]): string[] {
  const joined: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    const next = argv[i + 1];
    // After `--` everything is a positional, even a word that looks like a flag.
    if (arg === '--') return [...joined, ...argv.slice(i)];
    if (NUMBER_FLAGS.has(arg) && next !== undefined) {
      joined.push(`${arg}=${next}`);
      i++;
    } else joined.push(arg);
  }
  return joined;
}

/** The unknown flag, named as given, with the known one it most likely meant. */
function unknownOption(args: string[]): string {
  const { tokens } = parseArgs({
    args,
    allowPositionals: true,
    strict: false,
    tokens: true,
    options: OPTIONS,
  });
  const unknown = tokens.find((t) => t.kind === 'option' && !Object.hasOwn(OPTIONS, t.name));
  const flag = unknown?.kind === 'option' ? unknown.rawName : String(unknown);
  if (/^--?(api-?key|key|token)$/i.test(flag)) {
    return `unknown option "${flag}": the key is read only from CHATDASH_API_KEY`;
  }
  const near = flag.startsWith('--') ? nearestOption(flag.slice(2)) : undefined;
  return `unknown option "${flag}"${near ? `; did you mean --${near}?` : ''}`;
}

/**
 * The known long option a typo most likely meant: the same words in another
 * spelling (`timeoutMs`, `timeout_ms`), at most two edits away (`--timout-ms`),
 * or a part of it (`--timeout`, `--retries`).
 */
function nearestOption(given: string): string | undefined {
  const name = given
    .replace(/([a-z])([A-Z])/g, '$1-$2')
    .replace(/_/g, '-')
    .toLowerCase();
  let best: { option: string; distance: number } | undefined;
  for (const option of Object.keys(OPTIONS)) {
    const distance = option.includes(name) && name.length >= 3 ? 0 : editDistance(name, option);
    if (distance <= 2 && (!best || distance < best.distance)) best = { option, distance };
  }
  return best?.option;
}

/** Levenshtein distance: insertions, deletions and substitutions. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      row.push(Math.min((previous[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1, substitution));
    }
    previous = row;
  }
  return previous[b.length] ?? 0;
}

/** Plain decimal digits only: `1.5`, `1e3`, ` 5` and `0x10` are not what a user means by N. */
// Not the shared `integer` rule: a flag's value is text as typed, so the message quotes
// it as typed (`got "1e3"`), where the library's rule names a value's type (`got string "1e3"`).
function integer(value: string | undefined, flag: string, option: Limited) {
  if (value === undefined) return undefined;
  const { min, max } = LIMITS[option];
  const n = /^-?\d+$/.test(value) ? Number(value) : NaN;
  if (!(n >= min && n <= max)) {
    throw new UsageError(
      `${flag} must be an integer from ${min} to ${max}, got ${JSON.stringify(maskSecrets(value))}`,
    );
  }
  return n;
}

/** Class, status, request id and message (never the key: errors never carry it). */
function describeError(error: unknown): string {
  if (!(error instanceof ChatDashError)) return `chatdash: unexpected error: ${String(error)}\n`;
  const lines = [`${error.name}: ${error.message}`];
  if (error instanceof APIError || error instanceof ResponseValidationError) {
    lines.push(`  status: ${error.status}`, `  request id: ${error.requestId ?? '(none)'}`);
  }
  if (error instanceof ResponseValidationError) {
    for (const issue of error.issues) lines.push(`  ${issue.path || '(body)'}: ${issue.message}`);
  }
  return `${lines.join('\n')}\n`;
}
