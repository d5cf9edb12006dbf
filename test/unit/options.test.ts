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
    expect(error.message).toContain('apiKey');
    expect(error.message).not.toContain(KEY);
    expect(error.stack).not.toContain(KEY);
  });

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
    ['a relative URL', '/v1/public', absolute],
    ['a non-http scheme', 'ftp://api.chat-dash.com/v1', https],
    ['a file URL', 'file:///etc/passwd', https],
    ['plain http to a remote host', 'http://api.chat-dash.com/v1/public', https],
    ['plain http to a private address', 'http://10.0.0.5:8080', https],
    ['credentials in the URL', 'https://user:pass@api.chat-dash.com', credentials],
    ['a username alone in the URL', 'https://user@api.chat-dash.com', credentials],
    ['a password alone in the URL', 'https://:pass@api.chat-dash.com', credentials],
    ['a query string', 'https://api.chat-dash.com/v1?x=1', query],
    ['an empty query', 'https://api.chat-dash.com/v1?', query],
    ['a fragment', 'https://api.chat-dash.com/v1#top', query],
    ['an empty fragment', 'https://api.chat-dash.com/v1#', query],
    ['an empty string', '', absolute],
  ])('rejects %s as baseUrl, saying which rule it breaks', (_, baseUrl, rule) => {
    const { message } = creationError({ apiKey: KEY, baseUrl });
    expect(message).toContain(`createChatDashClient: baseUrl ${rule}, got "`);
    // One rule per message, not the list of all of them.
    for (const other of [absolute, https, credentials, query].filter((r) => r !== rule))
      expect(message).not.toContain(other);
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

  it('defaults to a 30 s timeout and 2 retries, and rejects nonsense values', () => {
    const client = createChatDashClient({ apiKey: KEY });
    expect(client.timeoutMs).toBe(30_000);
    expect(client.maxRetries).toBe(2);
    expect(creationError({ apiKey: KEY, timeoutMs: 0 }).message).toContain('timeoutMs');
    expect(creationError({ apiKey: KEY, timeoutMs: Number.NaN }).message).toContain('timeoutMs');
    expect(creationError({ apiKey: KEY, maxRetries: -1 }).message).toContain('maxRetries');
    expect(creationError({ apiKey: KEY, maxRetries: 1.5 }).message).toContain('maxRetries');
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
