/**
 * Hostile upstreams (the upstream, or something between, misbehaving):
 * bodies too large to hold, bodies that lie about their length, bytes no
 * parser expects. Real servers on 127.0.0.1; the gzip bomb runs in a child
 * process with a small heap.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import {
  APIConnectionTimeoutError,
  APIUserAbortError,
  ChatDashError,
  createChatDashClient,
  InternalServerError,
  RateLimitError,
  ResponseValidationError,
  type ChatDashClientOptions,
  transport,
} from '../helpers/transport.js';
import { httpServer, tcpServer } from '../helpers/servers.js';
import { makeConversation } from '../../src/testing.js';

const apiKey = 'ck_hostile_test_key';
const params = { agentId: 'a1', conversationId: 'c1' };
const MiB = 1024 * 1024;

function client(baseUrl: string, options: ChatDashClientOptions = {}) {
  return createChatDashClient({ apiKey, baseUrl, ...options });
}

async function outcome(promise: Promise<unknown>): Promise<Error> {
  const error = await promise.then(
    () => new Error('expected the call to reject'),
    (e: unknown) => e as Error,
  );
  return error;
}

/** A JSON object body of exactly `size` bytes: the example conversation padded in a `note`. */
function bodyOfSize(size: number): Buffer {
  // In bytes: the conversation's summary has a character that UTF-8 writes in three.
  const base = Buffer.byteLength(JSON.stringify(makeConversation({ note: '' })));
  return Buffer.from(JSON.stringify(makeConversation({ note: 'x'.repeat(size - base) })));
}

/** One call from a child process with a 256 MB heap: its outcome and peak RSS. */
async function boundedChild(
  baseUrl: string,
): Promise<{ error?: string; message?: string; peakRssMb: number }> {
  const child = fileURLToPath(new URL('../fixtures/bounded-client.ts', import.meta.url));
  const stdout = await new Promise<string>((resolve, reject) =>
    execFile(
      process.execPath,
      ['--max-old-space-size=256', '--import', 'tsx', child, baseUrl],
      { timeout: 60_000 },
      (error, out, err) => (error ? reject(new Error(`${error.message}\n${err}`)) : resolve(out)),
    ),
  );
  return JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as {
    error?: string;
    message?: string;
    peakRssMb: number;
  };
}

describe('maxResponseBytes', () => {
  it('ends a 1 GiB gzip bomb (1 MB on the wire) in ResponseValidationError under 300 MB peak RSS, without retrying', async () => {
    // Concatenated gzip members: 16 x 64 MiB of zeros, about 1 MB compressed.
    const member = gzipSync(Buffer.alloc(64 * MiB));
    const bomb = Buffer.concat(Array.from({ length: 16 }, () => member));
    expect(bomb.length).toBeLessThan(1.5 * MiB);
    const server = await httpServer((_, res) => {
      res.writeHead(200, {
        'content-type': 'application/json',
        'content-encoding': 'gzip',
        'content-length': bomb.length,
      });
      res.end(bomb);
    });
    const result = await boundedChild(server.baseUrl);
    expect(result.error).toBe('ResponseValidationError');
    // chatdash-client/undici never decompresses (it asks for identity): the bomb
    // arrives as 1 MB of gzip, which is not JSON. Node's fetch inflates it and is cut off.
    expect(result.message).toContain(
      transport === 'undici' ? 'is not valid JSON' : 'maxResponseBytes (10485760 bytes)',
    );
    expect(result.peakRssMb).toBeLessThan(300);
    expect(server.requests).toHaveLength(1);
  }, 90_000);

  it('stops reading an endless plain body at maxResponseBytes, under 300 MB peak RSS', async () => {
    let sent = 0;
    const server = await httpServer((_, res) => {
      res.writeHead(200, { 'content-type': 'application/json' }); // chunked, no length
      const chunk = Buffer.alloc(MiB, ' ');
      const pump = () => {
        while (sent < 1024 * MiB && res.write(chunk)) sent += chunk.length;
        if (sent < 1024 * MiB) res.once('drain', pump);
      };
      res.on('close', () => res.off('drain', pump));
      pump();
    });
    const result = await boundedChild(server.baseUrl);
    expect(result.error).toBe('ResponseValidationError');
    expect(result.message).toContain('maxResponseBytes (10485760 bytes)');
    expect(result.peakRssMb).toBeLessThan(300);
    expect(sent).toBeLessThan(512 * MiB);
  }, 90_000);

  it.each([
    ['with a Content-Length', true],
    ['chunked, without a Content-Length', false],
  ])('accepts a body at the limit and refuses one byte over it (%s)', async (_, withLength) => {
    let size = 0;
    const server = await httpServer((_req, res) => {
      const body = bodyOfSize(size);
      res.writeHead(200, {
        'content-type': 'application/json',
        ...(withLength ? { 'content-length': body.length } : {}),
      });
      // Two writes, so the chunked case arrives in more than one piece.
      res.write(body.subarray(0, 100));
      res.end(body.subarray(100));
    });
    const limit = 4_096;
    const chatdash = client(server.baseUrl, { maxResponseBytes: limit });
    size = limit;
    await expect(chatdash.getConversation(params)).resolves.toMatchObject({ _id: 'conv_0001' });
    size = limit + 1;
    const error = await outcome(chatdash.getConversation(params));
    expect(error).toBeInstanceOf(ResponseValidationError);
    expect((error as ResponseValidationError).issues).toEqual([
      { path: '', message: 'is larger than maxResponseBytes (4096 bytes)' },
    ]);
    expect(server.requests).toHaveLength(2); // not retried
  });

  it('takes a per-call maxResponseBytes over the client’s', async () => {
    const body = bodyOfSize(2_000);
    const server = await httpServer((_, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(body);
    });
    const chatdash = client(server.baseUrl, { maxResponseBytes: 1_000 });
    await expect(chatdash.getConversation(params)).rejects.toBeInstanceOf(ResponseValidationError);
    await expect(
      chatdash.getConversation(params, { maxResponseBytes: 2_000 }),
    ).resolves.toMatchObject({ _id: 'conv_0001' });
  });

  it('refuses a Content-Length over the limit before reading the body', async () => {
    // Headers only: the body never comes, so only a refusal before reading can settle the call.
    const server = await tcpServer((socket) =>
      socket.write(
        'HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 104857600\r\n\r\n',
      ),
    );
    const error = await outcome(
      client(server.baseUrl, { maxResponseBytes: 1_000, timeoutMs: 30_000 }).getConversation(
        params,
      ),
    );
    expect(error).toBeInstanceOf(ResponseValidationError);
    expect(error.message).toContain('maxResponseBytes (1000 bytes)');
    expect(server.requests).toHaveLength(1);
  });

  it.each([
    [500, InternalServerError],
    [429, RateLimitError],
  ])(
    'gives a %s with a 100 MB body its typed error after reading 64 KiB',
    async (status, Class) => {
      let sent = 0;
      const server = await httpServer((_, res) => {
        res.writeHead(status, { 'content-type': 'text/plain', 'content-length': 100 * MiB });
        const chunk = Buffer.alloc(MiB, 'e');
        // Writes until the client goes away: 100 MB if nobody stops it.
        const pump = () => {
          while (sent < 100 * MiB && res.write(chunk)) sent += chunk.length;
          if (sent < 100 * MiB) res.once('drain', pump);
        };
        res.on('close', () => res.off('drain', pump));
        pump();
      });
      const error = await outcome(
        client(server.baseUrl, { maxRetries: 0 }).getConversation(params),
      );
      expect(error).toBeInstanceOf(Class);
      expect(typeof (error as InternalServerError).body).toBe('string');
      expect(((error as InternalServerError).body as string).length).toBe(1_000);
      // The client stopped reading: far less than the 100 MB went out.
      expect(sent).toBeLessThan(50 * MiB);
    },
  );
});

describe('a transport that never settles', () => {
  // Node 20's fetch ignores its AbortSignal on a 421 whose body is shorter
  // than its Content-Length while the socket stays open, so the client's own
  // timer must settle the call whatever fetch does.
  const truncated421 = 'HTTP/1.1 421 X\r\nContent-Length: 10\r\n\r\nabc';

  it('times out a truncated 421 at timeoutMs all the same', async () => {
    const server = await tcpServer((socket) => socket.write(truncated421));
    const started = performance.now();
    const error = await outcome(
      client(server.baseUrl, { timeoutMs: 1_000, maxRetries: 0 }).getConversation(params),
    );
    const seconds = (performance.now() - started) / 1000;
    expect(error).toBeInstanceOf(APIConnectionTimeoutError);
    expect(seconds).toBeGreaterThanOrEqual(0.9);
    expect(seconds).toBeLessThan(2.5);
  });

  it('rejects a truncated 421 at once when the caller aborts', async () => {
    const server = await tcpServer((socket) => socket.write(truncated421));
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 300);
    const started = performance.now();
    const error = await outcome(
      client(server.baseUrl, { timeoutMs: 30_000 }).getConversation(params, {
        signal: controller.signal,
      }),
    );
    expect(error).toBeInstanceOf(APIUserAbortError);
    expect((performance.now() - started) / 1000).toBeLessThan(2.5);
  });
});

describe('bytes no parser expects', () => {
  it.each([
    ['a 200', 200],
    ['a 500', 500],
  ])(
    'gives %s nested 20,000 levels deep a value or a ChatDashError, never a RangeError',
    async (_, status) => {
      const deep = `{"metadata":${'{"a":'.repeat(20_000)}[]${'}'.repeat(20_000)}}`;
      const server = await httpServer((_req, res) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(deep);
      });
      for (const validateResponses of [false, true]) {
        const result = await client(server.baseUrl, { maxRetries: 0, validateResponses })
          .getConversation(params)
          .then(
            (value) => value,
            (error: unknown) => error,
          );
        if (status === 200) expect(result).toHaveProperty('metadata');
        else {
          expect(result).toBeInstanceOf(InternalServerError);
          // Every view of it works: JSON.stringify(error) must not overflow either.
          expect(() => JSON.stringify(result)).not.toThrow();
        }
      }
    },
  );

  it('decodes invalid UTF-8 with replacement characters instead of failing', async () => {
    const bytes = Buffer.concat([
      Buffer.from('{"_id":"conv_1","note":"'),
      Buffer.from([0xff, 0xfe, 0xc3]),
      Buffer.from('"}'),
    ]);
    const server = await httpServer((_, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(bytes);
    });
    const conversation = await client(server.baseUrl).getConversation(params);
    expect(conversation.note).toContain('\uFFFD');
  });

  it('gives a body cut off mid-stream a ChatDashError', async () => {
    const server = await tcpServer((socket) =>
      socket.end(
        'HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{"_id":',
      ),
    );
    const error = await outcome(client(server.baseUrl, { maxRetries: 0 }).getConversation(params));
    expect(error).toBeInstanceOf(ChatDashError);
    expect(error.name).toBe('APIConnectionError');
  });
});
