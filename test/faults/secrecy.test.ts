/**
 * A server that echoes the key back, against keys with characters that
 * change form in JSON (`"`, `\`), in regular expressions and in URLs.
 * The key must be in no view of any error: it is the agency's server secret,
 * and errors end up in logs, error trackers and crash reports.
 */
import { performance } from 'node:perf_hooks';
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ChatDashError, createChatDashClient, transport } from '../helpers/transport.js';
import { httpServer } from '../helpers/servers.js';

// Made up for this test; each holds a character that a naive redaction misses.
const KEYS = [
  'ck_quote"in"the_key_0001',
  'ck_back\\slash\\key_0002',
  'ck_regex.*+?^${}()|[]_0003',
  'ck_with inner spaces_0004',
  'ck_"mix\\of all.*_0005',
  'ck_url/safe+plus%41~tilde_0006',
];
const params = { agentId: 'a1', conversationId: 'c1' };

function everythingShown(value: unknown): string {
  const parts = [inspect(value, { depth: 10, showHidden: true }), JSON.stringify(value) ?? ''];
  for (let error: unknown = value; error instanceof Error; error = error.cause)
    parts.push(error.message, error.stack ?? '', String(error));
  const withBody = value as { body?: unknown; headers?: Headers };
  parts.push(JSON.stringify(withBody.body) ?? '', String(withBody.body));
  if (withBody.headers) parts.push(JSON.stringify([...withBody.headers]));
  return parts.join('\n');
}

type Echo =
  | 'raw text'
  | 'text that repeats it'
  | 'a URL (percent-encoded)'
  | 'a URL in lowercase hex, "/" and "+" left as they are'
  | 'a query string ("+" for a space)'
  | 'JSON'
  | 'text across the 1,000-character cut'
  | 'JSON across the cut'
  | 'JSON longer than the 64 KiB an error body is read to';

/** The key as a server writes it into a URL: each is a spelling RFC 3986 reads as the key. */
function inUrl(echo: Echo, key: string): string {
  const encoded = encodeURIComponent(key);
  if (echo === 'a query string ("+" for a space)')
    return new URLSearchParams({ key }).toString().slice('key='.length);
  if (echo === 'a URL (percent-encoded)') return encoded;
  return encoded
    .replace(/%[0-9A-F]{2}/g, (hex) => hex.toLowerCase())
    .replaceAll('%2f', '/')
    .replaceAll('%2b', '+');
}

// `_id: 1` breaks the schema, so a 200 gives a ResponseValidationError holding the body.
function echoBody(echo: Echo, key: string): { type: string; body: string } {
  switch (echo) {
    case 'raw text':
      return { type: 'text/plain', body: `invalid key: ${key}` };
    case 'text that repeats it':
      return { type: 'text/plain', body: `invalid key: ${key} (${key})` };
    case 'a URL (percent-encoded)':
    case 'a URL in lowercase hex, "/" and "+" left as they are':
    case 'a query string ("+" for a space)':
      return { type: 'text/plain', body: `see https://x.test/?key=${inUrl(echo, key)}` };
    case 'JSON':
      return {
        type: 'application/json',
        body: JSON.stringify({ _id: 1, error: 'invalid key', key }),
      };
    case 'text across the 1,000-character cut':
      return { type: 'text/plain', body: `${'x'.repeat(990)}${key}${'y'.repeat(100)}` };
    case 'JSON across the cut':
      return {
        type: 'application/json',
        body: JSON.stringify({ _id: 1, pad: 'x'.repeat(980), key, more: 'y'.repeat(200) }),
      };
    case 'JSON longer than the 64 KiB an error body is read to':
      // Cut at 64 KiB it no longer parses, so the key stays JSON-escaped in the text.
      return {
        type: 'application/json',
        body: JSON.stringify({ _id: 1, key, pad: 'x'.repeat(70_000) }),
      };
  }
}

describe('a server that echoes the key', () => {
  const echoes: Echo[] = [
    'raw text',
    'text that repeats it',
    'a URL (percent-encoded)',
    'a URL in lowercase hex, "/" and "+" left as they are',
    'a query string ("+" for a space)',
    'JSON',
    'text across the 1,000-character cut',
    'JSON across the cut',
    'JSON longer than the 64 KiB an error body is read to',
  ];
  for (const key of KEYS) {
    it.each(echoes.flatMap((echo) => [401, 500, 200].map((status) => [echo, status] as const)))(
      `redacts ${JSON.stringify(key)} echoed as %s in a %i body and in a header`,
      async (echo, status) => {
        const server = await httpServer((req, res) => {
          const sent = String(req.headers.authorization);
          const { type, body } = echoBody(echo, sent);
          res.writeHead(status, { 'content-type': type, 'x-echo': `key=${sent}` });
          res.end(body);
        });
        const client = createChatDashClient({
          apiKey: key,
          baseUrl: server.baseUrl,
          maxRetries: 0,
          validateResponses: true,
        });
        const error = await client.getConversation(params).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(ChatDashError);
        const shown = everythingShown(error);
        expect(shown).not.toContain(key);
        expect(shown).not.toContain(JSON.stringify(key).slice(1, -1));
        // No prefix of it survives a cut either.
        expect(shown).not.toContain(key.slice(0, 14));
        if (echo.startsWith('a ')) expect(shown).not.toContain(inUrl(echo, key));
        expect(shown).toContain('[redacted]');
        if (echo === 'text that repeats it') expect(shown).toContain('[redacted] ([redacted])');
        expect((error as { headers: Headers }).headers.get('x-echo')).toBe('key=[redacted]');
      },
    );
  }
});

describe('a reason phrase that quotes the key', () => {
  it.each(KEYS)('is redacted in the message of the 401: %j', async (key) => {
    const server = await httpServer((req, res) => {
      res.writeHead(401, `denied for ${String(req.headers.authorization)}`);
      res.end();
    });
    const client = createChatDashClient({ apiKey: key, baseUrl: server.baseUrl, maxRetries: 0 });
    const error = await client.getConversation(params).catch((e: unknown) => e);
    expect(error).toMatchObject({
      name: 'AuthenticationError',
      // chatdash-client/undici shows the standard phrase for the status, never the server's.
      message: `401 ${transport === 'undici' ? 'Unauthorized' : 'denied for [redacted]'}: GET ${server.baseUrl}/agents/a1/conversations/c1`,
    });
    expect(everythingShown(error)).not.toContain(key);
  });
});

describe('a custom fetch whose error holds the whole response', () => {
  it('settles a call with timeoutMs: 1000 within 2.5 s, however big the data it carries', async () => {
    const server = await httpServer((_req, res) => {
      res.writeHead(502, { 'content-type': 'application/octet-stream' });
      res.end(Buffer.alloc(4 * 1024 * 1024, 1));
    });
    // Like an HTTP library's error: the response, its 4 MiB body a Buffer, and the request config.
    const axiosLike: typeof fetch = async (input, init) => {
      const response = await fetch(input, init);
      const data = Buffer.from(await response.arrayBuffer());
      throw Object.assign(new Error(`Request failed with status code ${response.status}`), {
        response: { status: response.status, data },
        config: { headers: init?.headers },
      });
    };
    const client = createChatDashClient({
      apiKey: KEYS[0],
      baseUrl: server.baseUrl,
      fetch: axiosLike,
      maxRetries: 0,
      timeoutMs: 1_000,
    });
    const started = performance.now();
    const error = await client.getConversation(params).catch((e: unknown) => e);
    // Copying every byte of the Buffer blocked the event loop for seconds.
    expect(performance.now() - started).toBeLessThan(2_500);
    expect(error).toMatchObject({
      name: 'APIConnectionError',
      cause: { response: { status: 502, data: '[Buffer 4194304 bytes]' } },
    });
    expect(everythingShown(error)).not.toContain(KEYS[0]);
  });
});
