import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ChatDashError, createChatDashClient, DEFAULT_BASE_URL } from '../../src/index.js';
import { fakeFetch } from '../helpers/fake-fetch.js';

const KEY = 'ck_live_0123456789abcdef';
const params = { agentId: 'a1', conversationId: 'c1' };

beforeEach(() => {
  vi.stubEnv('CHATDASH_API_KEY', undefined);
  vi.stubEnv('CHATDASH_BASE_URL', undefined);
});
afterEach(() => {
  vi.unstubAllEnvs();
  vi.unstubAllGlobals();
});

function creationError(options: Parameters<typeof createChatDashClient>[0]): ChatDashError {
  try {
    createChatDashClient(options);
  } catch (error) {
    expect(error).toBeInstanceOf(ChatDashError);
    expect((error as Error).name).toBe('ChatDashError');
    return error as ChatDashError;
  }
  throw new Error('expected createChatDashClient to throw');
}

describe('createChatDashClient options', () => {
  it('reads the key from CHATDASH_API_KEY and sends it verbatim as Authorization', async () => {
    vi.stubEnv('CHATDASH_API_KEY', KEY);
    const { fetch, calls } = fakeFetch();
    await createChatDashClient({ fetch }).getConversation(params);
    expect(calls[0]?.headers.get('authorization')).toBe(KEY);
  });

  it('prefers an explicit apiKey over the environment', async () => {
    vi.stubEnv('CHATDASH_API_KEY', 'from-env');
    const { fetch, calls } = fakeFetch();
    await createChatDashClient({ apiKey: KEY, fetch }).getConversation(params);
    expect(calls[0]?.headers.get('authorization')).toBe(KEY);
  });

  it('names CHATDASH_API_KEY when no key is given or the key is empty', () => {
    expect(creationError({}).message).toContain('CHATDASH_API_KEY');
    expect(creationError({ apiKey: '' }).message).toContain('CHATDASH_API_KEY');
    vi.stubEnv('CHATDASH_API_KEY', '');
    expect(creationError({}).message).toContain('CHATDASH_API_KEY');
  });

  it.each([
    ['a carriage return', `${KEY}\r`],
    ['a line feed and an injected header', `${KEY}\nX-Evil: 1`],
    ['a NUL', `${KEY}\0`],
    ['a tab', `${KEY}\tx`],
    ['a DEL', `${KEY}\x7f`],
    ['a leading space', ` ${KEY}`],
    ['a trailing space', `${KEY} `],
    ['a non-ASCII character', `${KEY}é`],
  ])('rejects a key with %s without echoing it', (_, apiKey) => {
    const error = creationError({ apiKey });
    expect(error.message).toBe(
      'createChatDashClient: apiKey is not a valid header value: control or non-ASCII character, or surrounding whitespace',
    );
    expect(error.stack).not.toContain(KEY);
  });

  it('names CHATDASH_API_KEY on a bad header value only when the key came from it', () => {
    const bad = `${KEY}\n`;
    const given = creationError({ apiKey: bad }).message;
    expect(given).toMatch(/^createChatDashClient: apiKey is not a valid header value/);
    expect(given).not.toContain('CHATDASH_API_KEY');
    vi.stubEnv('CHATDASH_API_KEY', bad);
    const fromEnv = creationError({}).message;
    expect(fromEnv).toMatch(/apiKey is not a valid header value.*\(from CHATDASH_API_KEY\)$/);
    for (const message of [given, fromEnv]) expect(message).not.toContain(KEY);
  });

  it.each([
    ['a number', 12345, 'number'],
    ['a boolean', true, 'boolean'],
    ['null', null, 'null'],
    ['an object', { key: 'ck_live_in_an_object' }, 'object'],
  ])(
    'says apiKey must be a string when it is %s, giving the type but not the value',
    (_, value, type) => {
      expect(creationError({ apiKey: value as never }).message).toBe(
        `createChatDashClient: apiKey must be a string, got ${type}`,
      );
    },
  );

  it('uses the public API by default, CHATDASH_BASE_URL when set, and an explicit baseUrl first', async () => {
    expect(createChatDashClient({ apiKey: KEY }).baseUrl).toBe(DEFAULT_BASE_URL);
    expect(DEFAULT_BASE_URL).toBe('https://api.chat-dash.com/v1/public');
    vi.stubEnv('CHATDASH_BASE_URL', 'https://staging.example.com/v1/');
    expect(createChatDashClient({ apiKey: KEY }).baseUrl).toBe('https://staging.example.com/v1');
    const { fetch, calls } = fakeFetch();
    await createChatDashClient({
      apiKey: KEY,
      baseUrl: 'https://eu.example.com/api/',
      fetch,
    }).getConversation(params);
    expect(calls[0]?.url).toBe('https://eu.example.com/api/agents/a1/conversations/c1');
  });

  const absolute = 'must be an absolute URL';
  const https = 'must use https: (http: only for localhost, 127.0.0.0/8 and [::1])';
  const credentials = 'must not carry credentials';
  const query = 'must not have a query or fragment';
  it.each([
    ['a relative URL', '/v1/public', absolute, '"/v1/public"'],
    ['a host without a scheme', 'api.chat-dash.com', absolute, '"api.chat-dash.com"'],
    ['an empty string', '', absolute, '""'],
    ['a non-http scheme', 'ftp://api.chat-dash.com/v1', https, '"ftp://api.chat-dash.com/v1"'],
    ['a file URL', 'file:///etc/passwd', https, '"file:///etc/passwd"'],
    [
      'plain http to a remote host',
      'http://api.chat-dash.com/v1/public',
      https,
      '"http://api.chat-dash.com/v1/public"',
    ],
    ['plain http to a private address', 'http://10.0.0.5:8080', https, '"http://10.0.0.5:8080"'],
    [
      'credentials in the URL',
      'https://ada:s3cret@api.chat-dash.com/v1',
      credentials,
      '"https://***@api.chat-dash.com/v1"',
    ],
    [
      'a username alone in the URL',
      'https://user@api.chat-dash.com',
      credentials,
      '"https://***@api.chat-dash.com"',
    ],
    [
      'a password alone in the URL',
      'https://:pass@api.chat-dash.com',
      credentials,
      '"https://***@api.chat-dash.com"',
    ],
    [
      'a query string',
      'https://api.chat-dash.com/v1?x=1',
      query,
      '"https://api.chat-dash.com/v1?***"',
    ],
    ['an empty query', 'https://api.chat-dash.com/v1?', query, '"https://api.chat-dash.com/v1?"'],
    ['a fragment', 'https://api.chat-dash.com/v1#top', query, '"https://api.chat-dash.com/v1#***"'],
    [
      'an empty fragment',
      'https://api.chat-dash.com/v1#',
      query,
      '"https://api.chat-dash.com/v1#"',
    ],
    ['a number', 42, 'must be a string', 'number'],
  ])(
    'rejects %s as baseUrl, saying which one rule it breaks and the value',
    (_, baseUrl, rule, got) => {
      const { message } = creationError({ apiKey: KEY, baseUrl: baseUrl as string });
      expect(message).toBe(`createChatDashClient: baseUrl ${rule}, got ${got}`);
      // One rule per message, not the list of all of them.
      for (const other of [absolute, https, credentials, query].filter((r) => r !== rule))
        expect(message).not.toContain(other);
    },
  );

  it('names CHATDASH_BASE_URL when the value came from it, and only then', () => {
    vi.stubEnv('CHATDASH_BASE_URL', 'api.chat-dash.com');
    expect(creationError({ apiKey: KEY }).message).toBe(
      `createChatDashClient: baseUrl ${absolute}, got "api.chat-dash.com" (from CHATDASH_BASE_URL)`,
    );
    vi.stubEnv('CHATDASH_BASE_URL', 'http://10.0.0.5:8080');
    expect(creationError({ apiKey: KEY }).message).toBe(
      `createChatDashClient: baseUrl ${https}, got "http://10.0.0.5:8080" (from CHATDASH_BASE_URL)`,
    );
    // An explicit baseUrl wins over the variable, and the message does not blame it.
    expect(creationError({ apiKey: KEY, baseUrl: 'http://example.com' }).message).not.toContain(
      'CHATDASH_BASE_URL',
    );
  });

  it.each([
    'https://ada:s3cret@api.chat-dash.com/v1',
    'http://ada:s3cret@example.com',
    'https://ada:s3cret@evil@api.chat-dash.com',
    ' https://ada:s3cret@api.chat-dash.com',
    'https:ada:s3cret@api.chat-dash.com',
    'https:\\\\ada:s3cret@api.chat-dash.com',
    'ht\ttps://ada:s3cret@api.chat-dash.com',
    'https://ada:s3cret\n@api.chat-dash.com',
    '//ada:s3cret@api.chat-dash.com',
    'ada:s3cret@api.chat-dash.com',
    'https://api.chat-dash.com/v1?user=ada&token=s3cret',
    'http://example.com/v1#ada:s3cret',
  ])('masks the user and password (or a query) of baseUrl %j in its message', (baseUrl) => {
    const error = creationError({ apiKey: KEY, baseUrl });
    expect(error.message).toContain('***');
    expect(error.message).not.toContain('ada');
    expect(error.message).not.toContain('s3cret');
    expect(error.stack).not.toContain('s3cret');
  });

  it.each([
    'http://localhost:4010',
    'http://127.0.0.1:4010/',
    'http://127.8.9.10',
    'http://[::1]:4010',
  ])('allows plain http to the loopback host %s', (baseUrl) => {
    expect(createChatDashClient({ apiKey: KEY, baseUrl }).baseUrl).toBe(baseUrl.replace(/\/$/, ''));
  });

  it('defaults to a 30 s timeout and 2 retries', () => {
    const client = createChatDashClient({ apiKey: KEY });
    expect(client.timeoutMs).toBe(30_000);
    expect(client.maxRetries).toBe(2);
  });

  it('accepts the bounds themselves', () => {
    const client = createChatDashClient({
      apiKey: KEY,
      timeoutMs: 2 ** 31 - 1,
      maxRetries: 10,
      maxResponseBytes: 1,
    });
    expect(client.timeoutMs).toBe(2 ** 31 - 1);
    expect(client.maxRetries).toBe(10);
    expect(createChatDashClient({ apiKey: KEY, timeoutMs: 1, maxRetries: 0 }).maxRetries).toBe(0);
    // A rate is a number, not only an integer: a tenth of a request a second is allowed.
    for (const rateLimit of [
      { perSecond: 0.1, burst: 1 },
      { perSecond: 100_000, burst: 1_000_000 },
    ])
      expect(createChatDashClient({ apiKey: KEY, rateLimit }).baseUrl).toBe(DEFAULT_BASE_URL);
  });

  const integer = (name: string, min: number) =>
    `createChatDashClient: ${name} must be an integer from ${min} to 2147483647, got`;
  const retries = 'createChatDashClient: maxRetries must be an integer from 0 to 10, got';
  const rate = 'createChatDashClient: rateLimit.perSecond must be a number from 0.1 to 100000, got';
  it.each([
    ['timeoutMs', 0, `${integer('timeoutMs', 1)} number 0`],
    ['timeoutMs', Number.NaN, `${integer('timeoutMs', 1)} number NaN`],
    ['timeoutMs', 1e12, `${integer('timeoutMs', 1)} number 1000000000000`],
    ['timeoutMs', 2 ** 31, `${integer('timeoutMs', 1)} number 2147483648`],
    ['timeoutMs', 1.5, `${integer('timeoutMs', 1)} number 1.5`],
    ['timeoutMs', '5000', `${integer('timeoutMs', 1)} string "5000"`],
    ['timeoutMs', [5000], `${integer('timeoutMs', 1)} array`],
    // A long value is cut, so a pasted blob does not flood the message.
    ['timeoutMs', 'x'.repeat(50), `${integer('timeoutMs', 1)} string "${'x'.repeat(40)}..."`],
    ['maxRetries', -1, `${retries} number -1`],
    ['maxRetries', 1.5, `${retries} number 1.5`],
    ['maxRetries', 11, `${retries} number 11`],
    ['maxRetries', 1e9, `${retries} number 1000000000`],
    ['maxRetries', null, `${retries} null`],
    ['maxResponseBytes', 0, `${integer('maxResponseBytes', 1)} number 0`],
    ['maxResponseBytes', 2 ** 31, `${integer('maxResponseBytes', 1)} number 2147483648`],
    ['deadlineMs', -1, `${integer('deadlineMs', 1)} number -1`],
    ['rateLimit', { perSecond: 0.05 }, `${rate} number 0.05`],
    ['rateLimit', { perSecond: '5' }, `${rate} string "5"`],
    [
      'rateLimit',
      { perSecond: 10, burst: 0 },
      'createChatDashClient: rateLimit.burst must be a number from 1 to 1000000, got number 0',
    ],
    [
      'validateResponses',
      'yes',
      'createChatDashClient: validateResponses must be true, false or \'report\', got string "yes"',
    ],
  ])('states the rule for %s = %j, and what it got', (name, value, message) => {
    expect(creationError({ apiKey: KEY, [name]: value }).message).toBe(message);
  });

  it('rejects an unknown option by name, so a typo does not silently do nothing', () => {
    const options = { apiKey: KEY, timeout: 5 } as unknown as Parameters<
      typeof createChatDashClient
    >[0];
    expect(creationError(options).message).toContain('`timeout`');
  });

  it('sends extra headers on every request but never lets them replace Authorization', async () => {
    const { fetch, calls } = fakeFetch();
    const client = createChatDashClient({
      apiKey: KEY,
      fetch,
      headers: { Prefer: 'code=200', authorization: 'stolen', 'X-Team': 'billing' },
    });
    await client.getConversation(params);
    await client.getConversation(params);
    for (const call of calls) {
      expect(call.headers.get('prefer')).toBe('code=200');
      expect(call.headers.get('x-team')).toBe('billing');
      expect(call.headers.get('authorization')).toBe(KEY);
    }
  });

  it('rejects an extra header with an invalid name or value', () => {
    expect(creationError({ apiKey: KEY, headers: { 'Bad Name': 'x' } }).message).toContain(
      'headers["Bad Name"]',
    );
    expect(creationError({ apiKey: KEY, headers: { 'X-A': 'a\r\nb' } }).message).toContain(
      'headers["X-A"]',
    );
  });

  it('refuses to run in a browser-like runtime unless dangerouslyAllowBrowser is set', () => {
    vi.stubGlobal('window', {});
    vi.stubGlobal('document', {});
    expect(creationError({ apiKey: KEY }).message).toContain('dangerouslyAllowBrowser');
    expect(createChatDashClient({ apiKey: KEY, dangerouslyAllowBrowser: true }).baseUrl).toBe(
      DEFAULT_BASE_URL,
    );
  });

  it('uses the given fetch, called as fetch(url, init)', async () => {
    const { fetch } = fakeFetch();
    await createChatDashClient({ apiKey: KEY, fetch }).getConversation(params);
    expect(fetch).toHaveBeenCalledTimes(1);
    expect(typeof fetch.mock.calls[0]?.[0]).toBe('string');
  });
});
