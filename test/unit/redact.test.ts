import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ChatDashError, createChatDashClient } from '../../src/index.js';
import { escapeControl, Redactor } from '../../src/redact.js';
import { fakeFetch, json } from '../helpers/fake-fetch.js';

// Made up for this test; no real key appears in this repository.
const KEY = 'ck_secret_9f8e7d6c5b4a';
const params = { agentId: 'a', conversationId: 'c' };

/** Everything a log line or error report could show of a value. */
function everythingShown(value: unknown): string {
  const parts = [inspect(value, { depth: 10, showHidden: true }), JSON.stringify(value) ?? ''];
  let error: unknown = value;
  while (error instanceof Error) {
    parts.push(error.message, error.stack ?? '', String(error));
    error = error.cause;
  }
  return parts.join('\n');
}

describe('the API key', () => {
  it('does not show in util.inspect(client) or JSON.stringify(client)', () => {
    const client = createChatDashClient({ apiKey: KEY, headers: { 'X-Team': 'billing' } });
    expect(inspect(client, { depth: 10, showHidden: true })).not.toContain(KEY);
    expect(JSON.stringify(client)).not.toContain(KEY);
    expect(Object.values(client).join(' ')).not.toContain(KEY);
  });

  it.each([401, 404, 422, 500, 302])(
    'does not show in a %i error that echoes it, nor in its stack, cause, headers or JSON',
    async (status) => {
      // A server that echoes the key back in its body and headers is the worst case.
      const fake = fakeFetch((call) => {
        const key = call.headers.get('authorization') ?? '';
        return json(
          status,
          { error: `invalid key ${key}`, details: [{ [key]: key }] },
          { 'x-request-id': 'r1', 'x-echo': key },
        );
      });
      const client = createChatDashClient({ apiKey: KEY, fetch: fake.fetch, maxRetries: 0 });
      const error = await client.getConversation(params).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ChatDashError);
      expect(everythingShown(error)).not.toContain(KEY);
      expect(JSON.stringify((error as { body: unknown }).body)).toContain('[redacted]');
      expect((error as { headers: Headers }).headers.get('x-echo')).toBe('[redacted]');
    },
  );

  it('does not show in a ResponseValidationError for a 2xx body that echoes it', async () => {
    const fake = fakeFetch((call) =>
      json(200, { _id: 1, note: call.headers.get('authorization') }),
    );
    const client = createChatDashClient({
      apiKey: KEY,
      fetch: fake.fetch,
      validateResponses: true,
    });
    const error = await client.getConversation(params).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'ResponseValidationError', issues: [{ path: '/_id' }] });
    expect(everythingShown(error)).not.toContain(KEY);
  });

  it('is redacted by value from a connection error that quotes it', async () => {
    const fake = fakeFetch((call) =>
      Promise.reject(new TypeError(`proxy refused header ${call.headers.get('authorization')}`)),
    );
    const client = createChatDashClient({ apiKey: KEY, fetch: fake.fetch, maxRetries: 0 });
    const error = (await client.getConversation(params).catch((e: unknown) => e)) as Error;
    expect(error.message).toContain('[redacted]');
    expect(error.message).not.toContain(KEY);
    expect(error.stack).not.toContain(KEY);
  });

  it('does not show in input or option errors', async () => {
    const client = createChatDashClient({ apiKey: KEY });
    const error = await client
      .getConversation({ agentId: '..', conversationId: 'c' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ChatDashError);
    expect(everythingShown(error)).not.toContain(KEY);
    expect(() => createChatDashClient({ apiKey: `${KEY}\n` })).toThrow(ChatDashError);
    try {
      createChatDashClient({ apiKey: `${KEY}\n` });
    } catch (e) {
      expect(everythingShown(e)).not.toContain(KEY);
    }
  });

  // A custom fetch (an axios adapter, a proxy wrapper) may quote the request anywhere.
  it.each([
    ['its message', () => new Error(`request failed with Authorization: ${KEY}`)],
    [
      'a property (config.headers.authorization)',
      () =>
        Object.assign(new Error('Request failed'), {
          config: { url: 'https://x', headers: { authorization: KEY, accept: 'application/json' } },
          [KEY]: 'a key named after the key',
        }),
    ],
    [
      'a nested cause',
      () =>
        new Error('outer', {
          cause: new TypeError('middle', {
            cause: Object.assign(new Error(`inner ${KEY}`), { code: 'ECONNRESET', header: KEY }),
          }),
        }),
    ],
    ['a thrown plain object', () => ({ message: 'not an Error', headers: { authorization: KEY } })],
    ['a thrown string', () => `failed: ${KEY}`],
    // The message is cut at 500 characters: a cut before redaction left `ck_secret_9f`.
    ['its message, across the cut of the message', () => new Error(`${'x'.repeat(488)}${KEY}`)],
    ['a thrown string, across the cut', () => `${'x'.repeat(494)}${KEY}`],
  ])('is in no view of an error whose custom fetch threw the key in %s', async (_, thrown) => {
    const client = createChatDashClient({
      apiKey: KEY,
      fetch: () => Promise.reject(thrown()),
      maxRetries: 0,
    });
    const error = await client.getConversation(params).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'APIConnectionError' });
    expect((error as Error).cause).toBeDefined();
    expect(everythingShown(error)).not.toContain(KEY);
    expect(everythingShown(error)).not.toContain(KEY.slice(0, 12));
    expect((error as Error).message).not.toContain(KEY.slice(0, 4));
  });

  it('keeps what a sanitized cause says besides the key (name, code, nested causes)', async () => {
    const thrown = new TypeError(`fetch failed for ${KEY}`, {
      cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }),
    });
    const client = createChatDashClient({
      apiKey: KEY,
      fetch: () => Promise.reject(thrown),
      maxRetries: 0,
    });
    const error = (await client.getConversation(params).catch((e: unknown) => e)) as Error;
    expect(error.cause).toMatchObject({
      name: 'TypeError',
      message: 'fetch failed for [redacted]',
      cause: { code: 'ECONNREFUSED', message: 'connect ECONNREFUSED' },
    });
  });

  it('survives a custom fetch error with a cycle and a throwing getter', async () => {
    const thrown = new Error(`cyclic ${KEY}`) as Error & { self?: unknown };
    thrown.self = thrown;
    Object.defineProperty(thrown, 'boom', {
      enumerable: true,
      get() {
        throw new Error(KEY);
      },
    });
    const client = createChatDashClient({
      apiKey: KEY,
      fetch: () => Promise.reject(thrown),
      maxRetries: 0,
    });
    const error = await client.getConversation(params).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'APIConnectionError' });
    expect(everythingShown(error)).not.toContain(KEY);
  });

  it('is in no view of the abort error when the abort reason quotes it', async () => {
    const client = createChatDashClient({ apiKey: KEY, fetch: () => new Promise(() => {}) });
    const error = await client
      .getConversation(params, { signal: AbortSignal.abort(new Error(`aborted ${KEY}`)) })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'APIUserAbortError' });
    expect(everythingShown(error)).not.toContain(KEY);
  });
});

/** A custom fetch error that throws from wherever it is read. */
function hostile(which: 'message' | 'name' | 'stack' | 'toString'): unknown {
  const error = new Error('hostile');
  Object.defineProperty(error, which, {
    get() {
      throw new Error(`getter ${KEY}`);
    },
  });
  return error;
}

describe('a custom fetch error that throws when read', () => {
  it.each([
    ['a message getter', () => hostile('message')],
    ['a name getter', () => hostile('name')],
    ['a stack getter', () => hostile('stack')],
    [
      'a toString that throws (a thrown plain object)',
      () => ({
        toString() {
          throw new Error('no');
        },
      }),
    ],
    [
      'a proxy whose every trap throws',
      () =>
        new Proxy(new Error('proxied'), {
          get: () => {
            throw new Error('get');
          },
          getPrototypeOf: () => {
            throw new Error('getPrototypeOf');
          },
          ownKeys: () => {
            throw new Error('ownKeys');
          },
        }),
    ],
    [
      'a revoked proxy',
      () => {
        const { proxy, revoke } = Proxy.revocable({}, {});
        revoke();
        return proxy;
      },
    ],
  ])('still ends the call in APIConnectionError: %s', async (_, thrown) => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => void unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const client = createChatDashClient({
        apiKey: KEY,
        fetch: () => Promise.reject(thrown()),
        maxRetries: 0,
        timeoutMs: 1_000,
      });
      const error = await client.getConversation(params).catch((e: unknown) => e);
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(error).toMatchObject({ name: 'APIConnectionError' });
      expect((error as Error).message).toMatch(/^Connection error: GET https:\/\/\S+: \S/);
      expect(everythingShown(error)).not.toContain(KEY);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
    expect(unhandled).toEqual([]);
  });
});

// Made up for this test: `/`, `+`, a space, `%41`, `"`, `\` and `~` each change form in a URL or in JSON.
const ODD_KEY = 'ck_u/n+i c%41"o\\de~_7';
const redactor = new Redactor(ODD_KEY);
const percentEncoded = encodeURIComponent(ODD_KEY); // uppercase hex, `~` left as is
const jsonEscaped = JSON.stringify(ODD_KEY).slice(1, -1);

describe('Redactor.text', () => {
  it.each([
    ['raw', ODD_KEY],
    ['JSON-escaped', jsonEscaped],
    ['JSON-escaped with `/` as `\\/` (PHP)', jsonEscaped.replaceAll('/', '\\/')],
    [
      'JSON with every character as \\u00XX',
      [...ODD_KEY].map((c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`).join(''),
    ],
    ['percent-encoded (encodeURIComponent)', percentEncoded],
    [
      'percent-encoded in lowercase hex',
      percentEncoded.replace(/%[0-9A-F]{2}/g, (h) => h.toLowerCase()),
    ],
    [
      'percent-encoded with `/` and `+` left as they are',
      percentEncoded.replace('%2F', '/').replace('%2B', '+'),
    ],
    [
      'in a query string (`+` for a space)',
      new URLSearchParams({ k: ODD_KEY }).toString().slice(2),
    ],
    [
      'with every character percent-encoded, unreserved ones too',
      [...ODD_KEY].map((c) => `%${c.charCodeAt(0).toString(16)}`).join(''),
    ],
  ])('replaces the key %s, every time it occurs', (_, spelling) => {
    expect(redactor.text(`a ${spelling} b ${spelling}${spelling} c`)).toBe(
      'a [redacted] b [redacted][redacted] c',
    );
  });

  it('leaves a text without the key as it is', () => {
    const near = [
      ODD_KEY.slice(0, -1),
      percentEncoded.slice(0, -3),
      ODD_KEY.replace('%41', 'A'), // `%41` in the key is three characters, not an encoded `A`
      'ck_secret_9f8e7d6c5b4a',
    ].join(' | ');
    expect(redactor.text(near)).toBe(near);
  });

  it.each([
    ['raw', ODD_KEY],
    ['percent-encoded', percentEncoded],
  ])('redacts the %s key before the cut, wherever the cut falls in it', (_, spelling) => {
    for (let at = 500 - spelling.length; at < 500; at++) {
      const cut = redactor.text(`${'x'.repeat(at)}${spelling}${'y'.repeat(50)}`, 500);
      expect(cut.length).toBeLessThanOrEqual(500);
      expect(cut.startsWith(`${'x'.repeat(at)}[redacted]`.slice(0, 500))).toBe(true);
    }
  });

  it('keeps no part of a key cut off past the 500th character that redacting the text before it pulls back', () => {
    // 18 encoded keys shrink to `[redacted]` each: what followed the first 500 characters moves up.
    const before = `${percentEncoded} `.repeat(18);
    for (let pad = 0; pad < 200; pad++) {
      const cut = redactor.text(`${before}${'x'.repeat(pad)}${ODD_KEY} and more`, 500);
      expect(cut).toMatch(/^(\[redacted\] )+\[redacted\]$/);
    }
  });
});

describe('Redactor.error', () => {
  it('describes a 4 MiB Buffer, an ArrayBuffer and a typed array by size, without reading them', () => {
    const thrown = Object.assign(new Error('request failed'), {
      response: { data: Buffer.alloc(4 * 1024 * 1024) },
      raw: new ArrayBuffer(16),
      view: new Uint16Array(8),
    });
    const started = performance.now();
    const copy = redactor.error(thrown);
    // Copying every index took seconds; a description takes microseconds.
    expect(performance.now() - started).toBeLessThan(50);
    expect(copy).toMatchObject({
      message: 'request failed',
      response: { data: '[Buffer 4194304 bytes]' },
      raw: '[ArrayBuffer 16 bytes]',
      view: '[Uint16Array 16 bytes]',
    });
  });

  it('copies at most 32 own properties of an object, 32 items of an array, 200 values in all', () => {
    const wide = Object.fromEntries(Array.from({ length: 1_000 }, (_, i) => [`p${i}`, i]));
    const long = Array.from({ length: 100_000 }, (_, i) => i);
    const copy = redactor.error(Object.assign(new Error('wide'), { wide, long })) as {
      wide: object;
      long: unknown[];
    };
    expect(Object.keys(copy.wide)).toHaveLength(32);
    expect(copy.long).toEqual(long.slice(0, 32));
    // 30 objects of 32 copied values each would be 991 values: the copy stops at 200.
    const thirty = Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`o${i}`, { ...wide }]));
    const count = (value: unknown): number =>
      typeof value === 'object' && value !== null
        ? Object.values(value).reduce((n: number, v) => n + count(v), 1)
        : 1;
    const copied = count(redactor.error(thirty));
    expect(copied).toBeLessThanOrEqual(200);
    expect(copied).toBeGreaterThan(190);
  });

  it('cuts a string to 2,000 characters after redacting it, so no prefix of the key survives', () => {
    const message = `${'x'.repeat(1_995)}${ODD_KEY}${'y'.repeat(1_000_000)}`;
    const copy = redactor.error(Object.assign(new Error(message), { detail: message })) as Error & {
      detail: string;
    };
    for (const text of [copy.message, copy.detail]) {
      expect(text.length).toBeLessThanOrEqual(2_000);
      expect(text).not.toContain(ODD_KEY.slice(0, 4));
    }
  });
});

describe('escapeControl', () => {
  it('writes ESC, NUL, VT, DEL, C1, line separators and bidi overrides as escapes, and leaves the rest', () => {
    expect(escapeControl('a\x1b[2Jb\x00c\x0bd\x7fe\x9bf\u2028g\u202eh\ti')).toBe(
      'a\\x1b[2Jb\\x00c\\x0bd\\x7fe\\x9bf\\u2028g\\u202eh\\x09i',
    );
    const plain = 'Not Found: é ü \\x1b "quoted"';
    expect(escapeControl(plain)).toBe(plain);
  });
});
