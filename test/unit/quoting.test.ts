/**
 * A secret in the wrong option: `redis: process.env.REDIS_URL`, or a URL with a
 * password where a number, a function or a client belongs. Every message that
 * says what came instead masks the user and password (and a query), so the
 * password is quoted nowhere: every option whose error describes its value is
 * tried here.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ChatDashError, createChatDashClient } from '../../src/index.js';
import { runCli } from '../../src/cli.js';
import { createRedisCoordinator } from '../../src/coordination/redis.js';
import { maskSecrets } from '../../src/rules.js';
import { createUndiciFetch } from '../../src/transports/undici.js';
import { fakeFetch } from '../helpers/fake-fetch.js';

const apiKey = 'ck_quoting_unit_key';
const params = { agentId: 'a1', conversationId: 'c1' };

// Each a URL that carries a password, in the spellings a parser accepts.
const secrets = [
  'redis://default:Pw0rdSecret@redis.internal:6379',
  'rediss://:Pw0rdSecret@cache.example.com:6380/0',
  'redis://user:Pw0rdSecret@h', // short: the whole URL fits in 40 characters
  'redis://user:Pw0rdSecret\\x@h:6379', // a backslash, no delimiter in a redis: URL
  'https://ada:Pw0rdSecret@evil@api.chat-dash.com',
  'http://proxy.internal:3128/?token=Pw0rdSecret',
  'redis://u:Pw0rdSecret@h1,redis://u:Pw0rdSecret@h2', // a list
];
const SECRET = 'Pw0rdSecret';

function thrown(run: () => unknown): Error {
  try {
    run();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected it to throw');
}

async function rejected(run: () => Promise<unknown>): Promise<Error> {
  return run().then(
    () => {
      throw new Error('expected it to reject');
    },
    (error: unknown) => error as Error,
  );
}

const client = (options: Record<string, unknown>) =>
  createChatDashClient({ apiKey, fetch: fakeFetch().fetch, ...options });

// Every client option whose error says what it got, given the secret where it does not belong.
const clientOptions = [
  'timeoutMs',
  'maxRetries',
  'maxResponseBytes',
  'deadlineMs',
  'fetch',
  'headers',
  'validateResponses',
  'onValidationIssue',
  'logLevel',
  'tracing',
  'retryBudget',
  'dedupe',
  'coordinator',
  'rateLimit',
  'circuitBreaker',
  'middleware',
];
const nested: [string, (secret: string) => Record<string, unknown>][] = [
  ['middleware[0]', (s) => ({ middleware: [s] })],
  ['retryBudget.capacity', (s) => ({ retryBudget: { capacity: s } })],
  ['retryBudget.retryCost', (s) => ({ retryBudget: { retryCost: s } })],
  ['retryBudget.timeoutCost', (s) => ({ retryBudget: { timeoutCost: s } })],
  ['rateLimit.perSecond', (s) => ({ rateLimit: { perSecond: s } })],
  ['rateLimit.burst', (s) => ({ rateLimit: { perSecond: 5, burst: s } })],
  ['rateLimit.adaptive', (s) => ({ rateLimit: { perSecond: 5, adaptive: s } })],
  ['circuitBreaker.failureThreshold', (s) => ({ circuitBreaker: { failureThreshold: s } })],
  ['circuitBreaker.openMs', (s) => ({ circuitBreaker: { openMs: s } })],
];
const callOptions = ['signal', 'timeoutMs', 'maxRetries', 'maxResponseBytes', 'deadlineMs'];

/** The message describes the value (so the path went through the rule) and holds no password. */
function expectMasked(error: Error, name: string) {
  expect(error).toBeInstanceOf(ChatDashError);
  expect(error.message).toContain(`: ${name} `);
  expect(error.message).toMatch(/got string "/);
  expect(error.message).toContain('***');
  for (const view of [error.message, error.stack ?? '', String(error)])
    expect(view).not.toContain(SECRET);
}

describe.each(secrets)('a URL with a password in the wrong option: %s', (secret) => {
  it.each(clientOptions)('createChatDashClient %s', (name) => {
    expectMasked(
      thrown(() => client({ [name]: secret })),
      name,
    );
  });

  it.each(nested)('createChatDashClient %s', (name, options) => {
    expectMasked(
      thrown(() => client(options(secret))),
      name,
    );
  });

  it('createChatDashClient options themselves', () => {
    expectMasked(
      thrown(() => createChatDashClient(secret as never)),
      'options',
    );
  });

  it.each(callOptions)('getConversation %s', async (name) => {
    const error = await rejected(() =>
      client({}).getConversation(params, { [name]: secret } as never),
    );
    expectMasked(error, name);
  });

  it('getConversation params, isPlatformId and options', async () => {
    const c = client({});
    expectMasked(await rejected(() => c.getConversation(secret as never)), 'params');
    expectMasked(
      await rejected(() => c.getConversation({ ...params, isPlatformId: secret as never })),
      'isPlatformId',
    );
    expectMasked(await rejected(() => c.getConversation(params, secret as never)), 'options');
  });

  it('getConversations concurrency', async () => {
    const results = client({}).getConversations([params], { concurrency: secret as never });
    expectMasked(await rejected(() => results[Symbol.asyncIterator]().next()), 'concurrency');
  });

  it('createRedisCoordinator redis, prefix, timeoutMs and its options', () => {
    expectMasked(
      thrown(() => createRedisCoordinator({ redis: secret as never })),
      'redis',
    );
    expectMasked(
      thrown(() => createRedisCoordinator(secret as never)),
      'options',
    );
    const redis = {
      status: 'ready',
      ...Object.fromEntries(
        ['duplicate', 'evalsha', 'eval', 'ping', 'on', 'off', 'disconnect'].map((m) => [
          m,
          () => {},
        ]),
      ),
    };
    expectMasked(
      thrown(() => createRedisCoordinator({ redis: redis as never, prefix: secret.repeat(10) })),
      'prefix',
    );
    expectMasked(
      thrown(() => createRedisCoordinator({ redis: redis as never, timeoutMs: secret as never })),
      'timeoutMs',
    );
  });

  it('createUndiciFetch connections and its options', () => {
    expectMasked(
      thrown(() => createUndiciFetch({ connections: secret as never })),
      'connections',
    );
    expectMasked(
      thrown(() => createUndiciFetch(secret as never)),
      'options',
    );
  });

  it('the CLI --timeout-ms and --max-retries', async () => {
    for (const flag of ['--timeout-ms', '--max-retries']) {
      const err: string[] = [];
      const io = {
        stdout: () => {},
        stderr: (t: string) => void err.push(t),
        env: { CHATDASH_API_KEY: apiKey },
      };
      expect(await runCli(['get-conversation', 'a1', 'c1', flag, secret], io)).toBe(2);
      expect(err.join('')).toContain(`${flag} must be an integer`);
      expect(err.join('')).toContain('***');
      expect(err.join('')).not.toContain(SECRET);
    }
  });
});

describe('maskSecrets', () => {
  it.each([
    ['redis://default:pw@host:6379', '"redis://***@host:6379"'],
    ['redis://u:p\\w@host:6379', '"redis://***@host:6379"'],
    ['https:\\\\u:p@host', '"***@host"'],
    ['redis://u:p@h1,redis://u:p@h2', '"redis://***@h1,redis://***@h2"'],
    ['https://api.chat-dash.com/v1?token=t', '"https://api.chat-dash.com/v1?***"'],
    ['warn', '"warn"'],
    ['5000', '"5000"'],
  ])('masks %j as %s, and leaves a plain value as it is', (value, masked) => {
    expect(JSON.stringify(maskSecrets(value))).toBe(masked);
  });
});

describe('maskSecrets on any URL with credentials', () => {
  const schemes = ['http', 'https', 'redis', 'rediss', 'ws', 'ftp', 'postgres', 'x-y'];
  // Any text in the user and password, delimiters and backslashes included.
  const text = fc.string({ unit: fc.constantFrom(...'ab:@/\\?#%\t x1'.split('')), maxLength: 12 });
  const urls = fc
    .tuple(fc.constantFrom(...schemes), fc.constantFrom('://', ':', ':\\\\', ' ://'), text, text)
    .map(([scheme, sep, user, password]) => `${scheme}${sep}${user}:${password}@host.example:1/p`);

  it('leaves nothing the URL parser reads as a user or password but the mask', () => {
    fc.assert(
      fc.property(urls, (url) => {
        const masked = maskSecrets(url);
        if (!URL.canParse(masked)) return;
        const parsed = new URL(masked);
        expect(['', '***', '%2A%2A%2A']).toContain(parsed.username);
        expect(parsed.password).toBe('');
      }),
      { numRuns: 2_000 },
    );
  });
});

// The key itself in the wrong option: a long one is cut where it is quoted, a short one is whole.
describe.each([
  ['a short key', 'ck_live_short0123'],
  ['a long key', `ck_live_${'0123456789abcdef'.repeat(4)}`],
])('the API key in the wrong option (%s)', (_, key) => {
  const withKey = (options: Record<string, unknown>) => () =>
    createChatDashClient({ apiKey: key, fetch: fakeFetch().fetch, ...options });

  /** No 8 characters of the key in a row, in any view of the error. */
  function expectHidden(error: Error) {
    expect(error).toBeInstanceOf(ChatDashError);
    expect(error.message).toContain('[redacted]');
    for (const view of [error.message, error.stack ?? '', String(error)])
      for (let i = 0; i + 8 <= key.length; i++) expect(view).not.toContain(key.slice(i, i + 8));
  }

  it.each(['baseUrl', ...clientOptions])('createChatDashClient %s', (name) => {
    expectHidden(thrown(withKey({ [name]: key })));
  });

  it.each(nested)('createChatDashClient %s', (_name, options) => {
    expectHidden(thrown(withKey(options(key))));
  });

  it('createChatDashClient baseUrl, with the key from CHATDASH_API_KEY', () => {
    const saved = process.env['CHATDASH_API_KEY'];
    process.env['CHATDASH_API_KEY'] = key;
    try {
      expectHidden(thrown(() => createChatDashClient({ baseUrl: key, fetch: fakeFetch().fetch })));
    } finally {
      if (saved === undefined) delete process.env['CHATDASH_API_KEY'];
      else process.env['CHATDASH_API_KEY'] = saved;
    }
  });

  it.each(callOptions)('getConversation %s', async (name) => {
    const c = createChatDashClient({ apiKey: key, fetch: fakeFetch().fetch });
    expectHidden(await rejected(() => c.getConversation(params, { [name]: key } as never)));
  });

  it('getConversation params, isPlatformId and options; getConversations options', async () => {
    const c = createChatDashClient({ apiKey: key, fetch: fakeFetch().fetch });
    expectHidden(await rejected(() => c.getConversation(key as never)));
    expectHidden(
      await rejected(() => c.getConversation({ ...params, isPlatformId: key as never })),
    );
    expectHidden(await rejected(() => c.getConversation(params, key as never)));
    const results = c.getConversations([params], { timeoutMs: key as never });
    expectHidden(await rejected(() => results[Symbol.asyncIterator]().next()));
  });

  it('getConversations concurrency', async () => {
    const c = createChatDashClient({ apiKey: key, fetch: fakeFetch().fetch });
    const results = c.getConversations([params], { concurrency: key as never });
    const error = await rejected(() => results[Symbol.asyncIterator]().next());
    expect(error.message).toContain('concurrency must be an integer');
    expectHidden(error);
  });

  it.each([
    ['a stray argument', (k: string) => ['get-conversation', 'a1', 'c1', k]],
    ['the command', (k: string) => [k, 'a1', 'c1']],
    ['a --timeout-ms', (k: string) => ['get-conversation', 'a1', 'c1', '--timeout-ms', k]],
    ['an unknown flag', (k: string) => ['get-conversation', 'a1', 'c1', `--${k}`]],
  ])('the CLI with the key from CHATDASH_API_KEY as %s', async (_, argv) => {
    const err: string[] = [];
    const io = {
      stdout: () => {},
      stderr: (t: string) => void err.push(t),
      env: { CHATDASH_API_KEY: key },
    };
    expect(await runCli(argv(key), io)).toBe(2);
    const text = err.join('');
    expect(text).toContain('[redacted]');
    for (let i = 0; i + 8 <= key.length; i++) expect(text).not.toContain(key.slice(i, i + 8));
  });
});
