/**
 * The built `chatdash` bin (dist/cli.js, as npm links it), run as a real
 * process against the in-process mock from chatdash-client/testing.
 */
import { execFile } from 'node:child_process';
import { access, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { makeConversation, startMockChatDash, type MockChatDash } from '../../src/testing.js';

const repo = resolve(import.meta.dirname, '../..');
const bin = join(repo, 'dist/cli.js');
const KEY = 'ck_cli_secret_123456';

beforeAll(async () => {
  await access(bin).catch(() => {
    throw new Error('dist/cli.js is missing: run `npm run build` first (npm test does)');
  });
});

let mock: MockChatDash;
afterEach(() => mock?.close());

function chatdash(args: string[], env: Record<string, string | undefined> = {}) {
  return new Promise<{ code: number; stdout: string; stderr: string }>((done) => {
    const childEnv: Record<string, string | undefined> = {
      ...process.env,
      CHATDASH_API_KEY: KEY,
      CHATDASH_BASE_URL: mock?.baseUrl,
      ...env,
    };
    for (const [k, v] of Object.entries(childEnv)) if (v === undefined) delete childEnv[k];
    execFile(
      process.execPath,
      [bin, ...args],
      { env: childEnv as NodeJS.ProcessEnv },
      (error, stdout, stderr) =>
        done({
          code: error ? (typeof error.code === 'number' ? error.code : 1) : 0,
          stdout,
          stderr,
        }),
    );
  });
}

describe('chatdash get-conversation', () => {
  it('prints the conversation as 2-space JSON on stdout and nothing else', async () => {
    mock = await startMockChatDash({ conversations: [makeConversation()] });
    const result = await chatdash(['get-conversation', 'agent_0001', 'conv_0001']);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(`${JSON.stringify(makeConversation(), null, 2)}\n`);
    expect(result.stderr).toBe('');
    expect(mock.requests[0]).toMatchObject({ authorized: true, isPlatformId: undefined });
  });

  it('sends isPlatformId=true with --platform-id and takes --base-url over CHATDASH_BASE_URL', async () => {
    mock = await startMockChatDash({ conversations: [makeConversation()] });
    const result = await chatdash(
      [
        'get-conversation',
        'agent_0001',
        'platform_conv_0001',
        '--platform-id',
        '--base-url',
        mock.baseUrl,
      ],
      { CHATDASH_BASE_URL: 'https://unused.invalid' },
    );
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ _id: 'conv_0001' });
    expect(mock.requests[0]?.isPlatformId).toBe(true);
  });

  it('reports an API error on stderr with class, status and request id, never the key, and exits 1', async () => {
    mock = await startMockChatDash();
    const result = await chatdash(['get-conversation', 'agent_0001', 'missing']);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(
      /^NotFoundError: 404 Not Found: GET http:\/\/127\.0\.0\.1:\d+\/agents\/agent_0001\/conversations\/missing$/m,
    );
    expect(result.stderr).toContain('status: 404');
    expect(result.stderr).toMatch(/request id: mock_\w+/);
    expect(result.stderr).not.toContain(KEY);
  });

  it('lists each validation issue with its pointer under --validate', async () => {
    mock = await startMockChatDash({
      conversations: [makeConversation({ status: 'closed' as never, cost: 'free' as never })],
    });
    const result = await chatdash([
      'get-conversation',
      'agent_0001',
      'conv_0001',
      '--validate',
      '--max-retries',
      '0',
    ]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('ResponseValidationError');
    expect(result.stderr).toContain('/cost: must be number');
    expect(result.stderr).toContain('/status: must be one of "ai", "pending", "human"');
  });

  it('gives up after --timeout-ms with --max-retries 0', async () => {
    mock = await startMockChatDash({ conversations: [makeConversation()] });
    mock.failNext(1, { delayMs: 10_000 });
    const result = await chatdash([
      'get-conversation',
      'agent_0001',
      'conv_0001',
      '--timeout-ms',
      '200',
      '--max-retries',
      '0',
    ]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('APIConnectionTimeoutError: Request timed out after 200 ms');
  });

  it.each([
    ['no command', [], 'missing command'],
    ['an unknown command', ['get-agent', 'a'], 'unknown command "get-agent"'],
    ['a missing conversationId', ['get-conversation', 'a'], 'needs <agentId> and <conversationId>'],
    [
      'a key given as a flag',
      ['get-conversation', 'a', 'c', '--api-key', 'x'],
      'unknown option "--api-key": the key is read only from CHATDASH_API_KEY',
    ],
    [
      'a plain-http remote base URL',
      ['get-conversation', 'a', 'c', '--base-url', 'http://example.com'],
      'baseUrl',
    ],
  ])('exits 2 with a message for %s', async (_, args, message) => {
    const result = await chatdash(args);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(message);
    expect(result.stdout).toBe('');
  });

  it.each([
    ['--timout-ms', '5', 'unknown option "--timout-ms"; did you mean --timeout-ms?'],
    ['--timeout', '5', 'unknown option "--timeout"; did you mean --timeout-ms?'],
    ['--maxRetries', '1', 'unknown option "--maxRetries"; did you mean --max-retries?'],
    ['--platform', '', 'unknown option "--platform"; did you mean --platform-id?'],
    ['--frobnicate', '', 'unknown option "--frobnicate"'],
    ['-x', '', 'unknown option "-x"'],
  ])('exits 2 for the unknown flag %s, naming it in one clean line', async (flag, value, line) => {
    mock = await startMockChatDash({ conversations: [makeConversation()] });
    const args = ['get-conversation', 'agent_0001', 'conv_0001', flag, ...(value ? [value] : [])];
    const result = await chatdash(args);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(`chatdash: ${line}\nRun \`chatdash --help\` for usage.\n`);
    expect(result.stdout).toBe('');
    expect(mock.requests).toEqual([]);
  });

  it.each([
    ['an agentId of ".."', ['..', 'conv_0001'], 'agentId must not be ".."'],
    ['a conversationId of "."', ['agent_0001', '.'], 'conversationId must not be "."'],
    [
      'an empty conversationId',
      ['agent_0001', ''],
      'conversationId must be a non-empty string, got string ""',
    ],
  ])(
    'exits 2 like any usage error for %s, naming it, and sends nothing',
    async (_, ids, message) => {
      mock = await startMockChatDash({ conversations: [makeConversation()] });
      const result = await chatdash(['get-conversation', ...ids]);
      expect(result.code).toBe(2);
      expect(result.stderr.split('\n')[0]).toBe(`chatdash: get-conversation: ${message}`);
      expect(result.stdout).toBe('');
      expect(mock.requests).toEqual([]);
    },
  );

  it.each([
    ['--timeout-ms', '-5', 'an integer from 1 to 2147483647'],
    ['--timeout-ms', 'abc', 'an integer from 1 to 2147483647'],
    ['--timeout-ms', '1.5', 'an integer from 1 to 2147483647'],
    ['--timeout-ms', '0', 'an integer from 1 to 2147483647'],
    ['--timeout-ms', '2147483648', 'an integer from 1 to 2147483647'],
    ['--max-retries', '-1', 'an integer from 0 to 10'],
    ['--max-retries', '11', 'an integer from 0 to 10'],
    ['--max-retries', '2.5', 'an integer from 0 to 10'],
  ])(
    'exits 2 for %s %s, naming the flag, the rule and the value, and sends nothing',
    async (flag, value, rule) => {
      mock = await startMockChatDash({ conversations: [makeConversation()] });
      const expected = `chatdash: ${flag} must be ${rule}, got "${value}"`;
      // Both spellings: parseArgs alone would call `--timeout-ms -5` ambiguous instead.
      for (const args of [[flag, value], [`${flag}=${value}`]]) {
        const result = await chatdash(['get-conversation', 'agent_0001', 'conv_0001', ...args]);
        expect(result.code, args.join(' ')).toBe(2);
        expect(result.stderr.split('\n')[0], args.join(' ')).toBe(expected);
        expect(result.stdout).toBe('');
      }
      expect(mock.requests).toEqual([]);
    },
  );

  it('accepts the bounds of each number flag', async () => {
    mock = await startMockChatDash({ conversations: [makeConversation()] });
    for (const args of [
      ['--timeout-ms', '2147483647', '--max-retries', '0'],
      ['--timeout-ms', '1000', '--max-retries', '10'],
    ]) {
      const result = await chatdash(['get-conversation', 'agent_0001', 'conv_0001', ...args]);
      expect(result.code, args.join(' ')).toBe(0);
    }
    expect(mock.requests).toHaveLength(2);
  });

  it('exits 2 naming CHATDASH_API_KEY when it is not set', async () => {
    const result = await chatdash(['get-conversation', 'a', 'c'], { CHATDASH_API_KEY: undefined });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('CHATDASH_API_KEY');
  });

  it('prints the package version with --version and exits 0, without a key', async () => {
    const { version } = JSON.parse(await readFile(join(repo, 'package.json'), 'utf8')) as {
      version: string;
    };
    const result = await chatdash(['--version'], { CHATDASH_API_KEY: undefined });
    expect(result).toEqual({ code: 0, stdout: `${version}\n`, stderr: '' });
  });

  it('prints usage with --help and exits 0', async () => {
    const result = await chatdash(['--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('Usage: chatdash get-conversation <agentId> <conversationId>');
    expect(result.stdout).toContain('CHATDASH_API_KEY');
  });
});
