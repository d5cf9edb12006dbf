/**
 * Real servers on 127.0.0.1, port 0, for the fault and property tests.
 * Each records what it received, so tests can count attempts and read request lines.
 */
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import { createServer as createNetServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterEach } from 'vitest';
import { sendJson } from '../../src/send-json.js';
import { makeConversation } from '../../src/testing.js';

export interface SeenRequest {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
}

export interface TestServer {
  baseUrl: string;
  /** Requests received, in order. */
  requests: SeenRequest[];
  close(): Promise<void>;
}

const open: TestServer[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((server) => server.close()));
});

/**
 * An HTTP server whose handler gets the attempt number (0-based).
 * Closed after each test.
 */
export async function httpServer(
  handler: (req: IncomingMessage, res: ServerResponse, attempt: number) => void,
): Promise<TestServer> {
  const requests: SeenRequest[] = [];
  const server = createHttpServer((req, res) => {
    requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
    handler(req, res, requests.length - 1);
  });
  return listen(server, requests, () => server.closeAllConnections());
}

/**
 * An HTTP server whose first answer is `status` with `headers` and `body`,
 * and every later one 200 with a conversation: an upstream that fails once.
 */
export function failingOnce(
  status: number,
  headers: Record<string, string> = {},
  body: unknown = {},
): Promise<TestServer> {
  return httpServer((_, res, attempt) =>
    attempt === 0 ? sendJson(res, status, body, headers) : sendJson(res, 200, makeConversation()),
  );
}

/** A raw TCP server: the handler gets the socket and the attempt number once the request head has arrived. */
export async function tcpServer(
  handler: (socket: Socket, attempt: number, head: string) => void,
): Promise<TestServer> {
  const requests: SeenRequest[] = [];
  return netServer(requests, (socket) => {
    let head = '';
    const onData = (chunk: Buffer) => {
      head += chunk.toString('latin1');
      if (!head.includes('\r\n\r\n')) return;
      socket.off('data', onData);
      requests.push(seen(head));
      handler(socket, requests.length - 1, head);
    };
    socket.on('data', onData);
  });
}

/**
 * A raw HTTP/1.1 server that answers every request with the same bytes, any number of
 * requests per keep-alive socket; for answers node:http refuses to write (a body on a
 * 204 or 304). With `close`, it closes the socket after each answer.
 */
export async function rawHttpServer(
  answer: string,
  options: { close?: boolean } = {},
): Promise<TestServer> {
  const requests: SeenRequest[] = [];
  return netServer(requests, (socket) => {
    let pending = '';
    socket.on('data', (chunk: Buffer) => {
      pending += chunk.toString('latin1');
      // GET requests carry no body: each head ends at a blank line.
      for (let end = pending.indexOf('\r\n\r\n'); end !== -1; end = pending.indexOf('\r\n\r\n')) {
        requests.push(seen(pending.slice(0, end)));
        pending = pending.slice(end + 4);
        if (options.close) socket.end(answer);
        else socket.write(answer);
      }
    });
  });
}

/** A node:net server that keeps its sockets, to destroy them when it closes, and ignores their errors. */
function netServer(
  requests: SeenRequest[],
  onSocket: (socket: Socket) => void,
): Promise<TestServer> {
  const sockets = new Set<Socket>();
  const server = createNetServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    onSocket(socket);
  });
  return listen(server, requests, () => sockets.forEach((s) => s.destroy()));
}

/** The method and URL of a raw request head (a raw server reads no headers). */
function seen(head: string): SeenRequest {
  const [method = '', url = ''] = head.split('\r\n')[0]?.split(' ') ?? [];
  return { method, url, headers: {} };
}

async function listen(
  server: ReturnType<typeof createHttpServer> | ReturnType<typeof createNetServer>,
  requests: SeenRequest[],
  dropConnections: () => void,
): Promise<TestServer> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const handle: TestServer = {
    baseUrl: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        dropConnections();
        server.close(() => resolve());
      }),
  };
  open.push(handle);
  return handle;
}

/** The mock server's way of answering JSON, so the fault tests' servers answer alike. */
export { sendJson };
