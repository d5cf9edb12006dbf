/**
 * A server that echoes the key back, against keys with characters that
 * change form in JSON (`"`, `\`), in regular expressions and in URLs.
 * The key must be in no view of any error: it is the agency's server secret,
 * and errors end up in logs, error trackers and crash reports.
 */
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ChatDashError, createChatDashClient } from '../helpers/transport.js';
import { httpServer } from '../helpers/servers.js';

// Made up for this test; each holds a character that a naive redaction misses.
const KEYS = [
  'ck_quote"in"the_key_0001',
  'ck_back\\slash\\key_0002',
  'ck_regex.*+?^${}()|[]_0003',
  'ck_with inner spaces_0004',
  'ck_"mix\\of all.*_0005',
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
  | 'JSON'
  | 'text across the 1,000-character cut'
  | 'JSON across the cut'
  | 'JSON longer than the 64 KiB an error body is read to';

// `_id: 1` breaks the schema, so a 200 gives a ResponseValidationError holding the body.
function echoBody(echo: Echo, key: string): { type: string; body: string } {
  switch (echo) {
    case 'raw text':
      return { type: 'text/plain', body: `invalid key: ${key}` };
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
        expect((error as { headers: Headers }).headers.get('x-echo')).toBe('key=[redacted]');
      },
    );
  }
});
