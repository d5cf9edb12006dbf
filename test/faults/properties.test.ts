/**
 * Property tests (fast-check) against real local servers.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ChatDashError, createChatDashClient } from '../../src/index.js';
import { exampleConversation, httpServer, sendJson, tcpServer } from '../helpers/servers.js';

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
    const server = await httpServer((_, res) => sendJson(res, 200, exampleConversation));
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
    const server = await httpServer((_, res) => sendJson(res, 200, exampleConversation));
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
      fc.constant(new TextEncoder().encode(JSON.stringify(exampleConversation))),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 200, max: 599 }),
        bodies,
        fc.boolean(),
        fc.boolean(),
        async (status, body, json, validateResponses) => {
          next = { status, body, json };
          const chatdash = createChatDashClient({
            apiKey,
            baseUrl: server.baseUrl,
            maxRetries: 0,
            validateResponses,
          });
          const outcome = await chatdash
            .getConversation({ agentId: 'a', conversationId: 'c' })
            .then(
              (value) => ({ value }),
              (error: unknown) => ({ error }),
            );
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

  it('any raw bytes from a TCP peer give an object or a ChatDashError', async () => {
    let next = new Uint8Array();
    const server = await tcpServer((socket) => socket.end(next));
    const chatdash = createChatDashClient({
      apiKey,
      baseUrl: server.baseUrl,
      maxRetries: 0,
      // Bounds a case that stalls; each should fail fast (a parse error or a closed socket).
      timeoutMs: 1_000,
    });
    const http = fc
      .tuple(fc.integer({ min: 200, max: 599 }), fc.uint8Array({ maxLength: 100 }))
      .map(([status, body]) =>
        Buffer.concat([
          Buffer.from(`HTTP/1.1 ${status} X\r\ncontent-length: ${body.length + 3}\r\n\r\n`),
          body,
        ]),
      );
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.uint8Array({ maxLength: 200 }), http), async (bytes) => {
        next = bytes;
        const started = performance.now();
        const outcome = await chatdash.getConversation({ agentId: 'a', conversationId: 'c' }).then(
          (value) => ({ value }),
          (error: unknown) => ({ error }),
        );
        if (performance.now() - started > 500) {
          // Not a failure (a timeout is a ChatDashError too), but worth seeing in the CI log.
          console.warn(
            'slow raw-bytes case',
            JSON.stringify(Buffer.from(bytes).toString('latin1')),
            outcome,
          );
        }
        if ('value' in outcome) expect(isConversationLike(outcome.value)).toBe(true);
        else expect(outcome.error).toBeInstanceOf(ChatDashError);
      }),
      { numRuns: 150 },
    );
  }, 90_000);
});
