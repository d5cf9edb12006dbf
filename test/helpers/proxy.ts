/**
 * A forward HTTP proxy on 127.0.0.1, port 0, that records what it forwarded.
 * It speaks both forms a client may use: CONNECT tunnels (undici's ProxyAgent
 * tunnels every request by default, plain http: targets included, see its
 * `proxyTunnel` option in lib/dispatcher/proxy-agent.js) and absolute-form
 * requests (`GET http://host/path`), as curl sends for http: targets.
 * Closed after each test.
 */
import { createServer, request, type IncomingHttpHeaders } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { afterEach } from 'vitest';

export interface Forwarded {
  /** `CONNECT` or the method of an absolute-form request. */
  method: string;
  /** `host:port` for CONNECT, the absolute URL otherwise. */
  target: string;
  headers: IncomingHttpHeaders;
}

export interface TestProxy {
  url: string;
  forwarded: Forwarded[];
  /** TCP connections accepted so far. */
  connections(): number;
  close(): Promise<void>;
}

/**
 * With `redirectTo`, the proxy answers every request (CONNECT included) with a 302 there
 * instead; with `closeOnConnect`, it closes the connection on every CONNECT without a word.
 */
export async function proxyServer(
  options: { redirectTo?: string; closeOnConnect?: boolean } = {},
): Promise<TestProxy> {
  const forwarded: Forwarded[] = [];
  const sockets = new Set<Socket>();
  let connections = 0;
  const redirect = `HTTP/1.1 302 Found\r\nlocation: ${options.redirectTo}\r\ncontent-length: 0\r\n\r\n`;
  const server = createServer((req, res) => {
    forwarded.push({ method: req.method ?? '', target: req.url ?? '', headers: req.headers });
    if (options.redirectTo) {
      res.writeHead(302, { location: options.redirectTo, 'content-length': 0 }).end();
      return;
    }
    const upstream = request(
      req.url ?? '',
      { method: req.method, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  server.on('connection', (socket: Socket) => {
    connections += 1;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.on('connect', (req, client: Socket, head: Buffer) => {
    forwarded.push({ method: 'CONNECT', target: req.url ?? '', headers: req.headers });
    client.on('error', () => {});
    if (options.closeOnConnect) {
      client.destroy();
      return;
    }
    if (options.redirectTo) {
      client.end(redirect);
      return;
    }
    const [host = '', port = ''] = (req.url ?? '').split(':');
    const upstream = connect(Number(port), host, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    sockets.add(upstream);
    upstream.on('close', () => client.destroy());
    client.on('close', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const handle: TestProxy = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    forwarded,
    connections: () => connections,
    close: () =>
      new Promise<void>((resolve) => {
        sockets.forEach((socket) => socket.destroy());
        server.close(() => resolve());
      }),
  };
  open.push(handle);
  return handle;
}

const open: TestProxy[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((proxy) => proxy.close()));
});
