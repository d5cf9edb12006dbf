/**
 * Property tests (fast-check) against real local servers.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ChatDashError, createChatDashClient } from '../helpers/transport.js';
import { httpServer, sendJson, tcpServer } from '../helpers/servers.js';
import { makeConversation } from '../../src/testing.js';

const apiKey = 'ck_property_key';

// Ids drawn both from all of Unicode and from the characters that matter to URLs.
const tricky = fc.constantFrom(
  '/',
  '.',
  '..',
  '%',
  '%2e',
  '?',
  '#',
  '$',
  '&',
  '`',
  "'",
  ' ',
  '\\',
  ';',
  '=',
  '+',
  ':',
  '@',
  'a',
  'é',
  '😀',
  '\0',
  '\n',
  '\t',
);
const anyId = fc.oneof(
  fc.string({ unit: 'binary', minLength: 1, maxLength: 40 }),
  fc.array(tricky, { minLength: 1, maxLength: 8 }).map((parts) => parts.join('')),
);
const acceptedId = anyId.filter((id) => id !== '.' && id !== '..');

describe('ids on the wire', () => {
  it('any accepted ids stay one path segment each and decode back to themselves', async () => {
    const server = await httpServer((_, res) => sendJson(res, 200, makeConversation()));
    const chatdash = createChatDashClient({
      apiKey,
      baseUrl: `${server.baseUrl}/v1/public`,
      maxRetries: 0,
    });
    await fc.assert(
      fc.asyncProperty(acceptedId, acceptedId, async (agentId, conversationId) => {
        const before = server.requests.length;
        await chatdash.getConversation({ agentId, conversationId });
        expect(server.requests.length).toBe(before + 1);
        const url = server.requests.at(-1)?.url ?? '';
        const parts = url.split('/');
        expect(parts).toHaveLength(7);
        expect(parts.slice(0, 4)).toEqual(['', 'v1', 'public', 'agents']);
        expect(parts[5]).toBe('conversations');
        expect(url).not.toContain('?');
        expect(decodeURIComponent(parts[4] ?? '')).toBe(agentId);
        expect(decodeURIComponent(parts[6] ?? '')).toBe(conversationId);
      }),
      { numRuns: 300 },
    );
  });

  it('"." and ".." are rejected before anything is sent, whatever the other id is', async () => {
    const server = await httpServer((_, res) => sendJson(res, 200, makeConversation()));
    const chatdash = createChatDashClient({ apiKey, baseUrl: server.baseUrl });
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('.', '..'),
        acceptedId,
        fc.boolean(),
        async (dots, other, first) => {
          const params = first
            ? { agentId: dots, conversationId: other }
            : { agentId: other, conversationId: dots };
          await expect(chatdash.getConversation(params)).rejects.toThrow(
            first ? 'agentId' : 'conversationId',
          );
        },
      ),
      { numRuns: 50 },
    );
    expect(server.requests).toHaveLength(0);
  });
});

/** One call with a fresh client, as a value or the error it rejected with. */
function oneCall(
  baseUrl: string,
  validateResponses: boolean,
): Promise<{ value: unknown } | { error: unknown }> {
  return createChatDashClient({ apiKey, baseUrl, maxRetries: 0, validateResponses })
    .getConversation({ agentId: 'a', conversationId: 'c' })
    .then(
      (value) => ({ value }),
      (error: unknown) => ({ error }),
    );
}

function isConversationLike(value: unknown): boolean {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

describe('any response', () => {
  it('any status and body bytes give an object or a ChatDashError, never anything else', async () => {
    let next: { status: number; body: Uint8Array; json: boolean } = {
      status: 200,
      body: new Uint8Array(),
      json: true,
    };
    const server = await httpServer((_, res) => {
      res.writeHead(next.status, next.json ? { 'content-type': 'application/json' } : {});
      res.end(next.body);
    });
    const bodies = fc.oneof(
      fc.uint8Array({ maxLength: 300 }),
      fc.json().map((text) => new TextEncoder().encode(text)),
      fc.constant(new TextEncoder().encode(JSON.stringify(makeConversation()))),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 200, max: 599 }),
        bodies,
        fc.boolean(),
        fc.boolean(),
        async (status, body, json, validateResponses) => {
          next = { status, body, json };
          const outcome = await oneCall(server.baseUrl, validateResponses);
          if ('value' in outcome) {
            expect(status).toBeGreaterThanOrEqual(200);
            expect(status).toBeLessThan(300);
            expect(isConversationLike(outcome.value)).toBe(true);
          } else {
            expect(outcome.error).toBeInstanceOf(ChatDashError);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('any JSON nested 1 to 50,000 levels deep, in a 2xx or an error body, gives an object or a ChatDashError', async () => {
    let next = { status: 200, body: '' };
    const server = await httpServer((_, res) => {
      res.writeHead(next.status, { 'content-type': 'application/json' });
      res.end(next.body);
    });
    const nested = fc
      .record({
        depth: fc.integer({ min: 1, max: 50_000 }),
        shape: fc.constantFrom('array', 'object', 'mixed'),
        inConversation: fc.boolean(),
      })
      .map(({ depth, shape, inConversation }) => {
        const open = { array: '[', object: '{"a":', mixed: '[{"a":' }[shape];
        const close = { array: ']', object: '}', mixed: '}]' }[shape];
        const value = `${open.repeat(depth)}1${close.repeat(depth)}`;
        return inConversation ? `{"_id":"c1","metadata":{"deep":${value}}}` : value;
      });
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(200, 201, 400, 404, 429, 500, 503),
        nested,
        fc.boolean(),
        async (status, body, validateResponses) => {
          next = { status, body };
          const outcome = await oneCall(server.baseUrl, validateResponses);
          if ('value' in outcome) expect(isConversationLike(outcome.value)).toBe(true);
          else {
            expect(outcome.error).toBeInstanceOf(ChatDashError);
            // Every view of the error works, however deep its body.
            expect(() => JSON.stringify(outcome.error)).not.toThrow();
            expect(() => String(outcome.error)).not.toThrow();
          }
        },
      ),
      { numRuns: 60 },
    );
  }, 90_000);

  it('any raw bytes from a TCP peer give an object or a ChatDashError', async () => {
    let next = { bytes: new Uint8Array(), keepOpen: false };
    // A peer that keeps the socket open after a short body is the case where
    // Node 20's fetch never settles (a truncated 421); the client's timer must.
    const server = await tcpServer((socket) =>
      next.keepOpen ? socket.write(next.bytes) : socket.end(next.bytes),
    );
    const chatdash = createChatDashClient({
      apiKey,
      baseUrl: server.baseUrl,
      maxRetries: 0,
      // Bounds a case that stalls; each settles by then at the latest.
      timeoutMs: 500,
    });
    const http = fc
      .tuple(fc.integer({ min: 200, max: 599 }), fc.uint8Array({ maxLength: 100 }))
      .map(([status, body]) =>
        Buffer.concat([
          Buffer.from(`HTTP/1.1 ${status} X\r\ncontent-length: ${body.length + 3}\r\n\r\n`),
          body,
        ]),
      );
    const keepOpen = fc.oneof(
      { arbitrary: fc.constant(false), weight: 9 },
      { arbitrary: fc.constant(true), weight: 1 },
    );
    const truncated421 = Buffer.from('HTTP/1.1 421 X\r\nContent-Length: 10\r\n\r\nabc');
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(fc.uint8Array({ maxLength: 200 }), http),
        keepOpen,
        async (bytes, open) => {
          next = { bytes, keepOpen: open };
          const outcome = await chatdash
            .getConversation({ agentId: 'a', conversationId: 'c' })
            .then(
              (value) => ({ value }),
              (error: unknown) => ({ error }),
            );
          if ('value' in outcome) expect(isConversationLike(outcome.value)).toBe(true);
          else expect(outcome.error).toBeInstanceOf(ChatDashError);
        },
      ),
      // The truncated 421 with the socket kept open runs every time, first.
      { numRuns: 150, examples: [[truncated421, true]] },
    );
  }, 90_000);
});
