/**
 * A small RESP server on 127.0.0.1 (node:net) that speaks enough Redis for
 * ioredis and the coordinator, and answers the coordinator's scripts however
 * a test says: the wrong shape (a proxy, a Redis-compatible service, a bug),
 * or never (a server that stalls). What a real redis-server cannot be made
 * to do.
 */
import { createHash } from 'node:crypto';
import { createServer, type Socket } from 'node:net';
import { SCRIPTS, type ScriptName } from '../../src/coordination/redis-scripts.js';

/** A RESP reply, written as it goes on the wire; `undefined`: never answer this nor anything after it on that connection. */
export type Reply = string | undefined;

export const resp = {
  int: (n: number): string => `:${n}\r\n`,
  bulk: (s: string): string => `$${Buffer.byteLength(s)}\r\n${s}\r\n`,
  simple: (s: string): string => `+${s}\r\n`,
  error: (s: string): string => `-${s}\r\n`,
  nil: '$-1\r\n',
  array: (items: string[]): string => `*${items.length}\r\n${items.join('')}`,
};

/** What each script answers when it is well: the shapes the real scripts give. */
export function wellFormed(name: ScriptName): string {
  const ints = (...ns: number[]) => resp.array(ns.map(resp.int));
  switch (name) {
    case 'pay':
      return ints(1, 490);
    case 'slots':
      return resp.array([
        resp.bulk('-100'),
        resp.bulk('10'),
        resp.int(0),
        resp.bulk('100'),
        resp.int(1),
      ]);
    case 'fail':
      return ints(1, 0);
    case 'sync':
      return ints(-2, 0, -2, 0);
    case 'probe':
      return resp.int(-1);
    case 'refund':
      return resp.int(500);
    default:
      return resp.int(1);
  }
}

const bySha = new Map<string, ScriptName>(
  Object.entries(SCRIPTS).map(([name, { lua }]) => [
    createHash('sha1').update(lua).digest('hex'),
    name as ScriptName,
  ]),
);

export interface FakeRedis {
  url: string;
  /** Every script run, by name, in order. */
  runs: ScriptName[];
  close(): Promise<void>;
}

/** `answer` decides each script's reply; everything else gets what ioredis expects. */
export async function fakeRedis(answer: (name: ScriptName) => Reply): Promise<FakeRedis> {
  const sockets = new Set<Socket>();
  const runs: ScriptName[] = [];
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    let buffer = Buffer.alloc(0);
    let subscribed = 0;
    // Redis answers in order: once one command goes unanswered, so does every later one.
    let stalled = false;
    socket.on('data', (chunk) => {
      buffer = Buffer.concat([buffer, chunk]);
      for (;;) {
        const parsed = parseCommand(buffer);
        if (!parsed) return;
        buffer = buffer.subarray(parsed.used);
        const [command = '', ...args] = parsed.args;
        const reply = stalled ? undefined : respond(command.toUpperCase(), args);
        if (reply === undefined) stalled = true;
        else socket.write(reply);
      }
    });
    const respond = (command: string, args: string[]): Reply => {
      switch (command) {
        case 'INFO':
          return resp.bulk('# Server\r\nredis_version:7.0.0\r\nloading:0\r\n');
        case 'PING':
          return resp.simple('PONG');
        case 'SUBSCRIBE':
          return args
            .map((channel) =>
              resp.array([resp.bulk('subscribe'), resp.bulk(channel), resp.int(++subscribed)]),
            )
            .join('');
        case 'EVALSHA':
        case 'EVAL': {
          const sha =
            command === 'EVAL' ? createHash('sha1').update(args[0]!).digest('hex') : args[0]!;
          const name = bySha.get(sha);
          if (!name) return resp.error('NOSCRIPT No matching script.');
          runs.push(name);
          return answer(name);
        }
        default:
          return resp.simple('OK');
      }
    };
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `redis://127.0.0.1:${port}`,
    runs,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** One command (an array of bulk strings) from the front of `buffer`, or undefined until it is all there. */
function parseCommand(buffer: Buffer): { args: string[]; used: number } | undefined {
  const line = (from: number) => {
    const end = buffer.indexOf('\r\n', from);
    return end < 0 ? undefined : { text: buffer.toString('latin1', from, end), next: end + 2 };
  };
  const head = line(0);
  if (!head) return undefined;
  if (!head.text.startsWith('*')) {
    // An inline command (as redis-cli may send): words on one line.
    return { args: head.text.split(' ').filter(Boolean), used: head.next };
  }
  const count = Number(head.text.slice(1));
  const args: string[] = [];
  let at = head.next;
  for (let i = 0; i < count; i++) {
    const size = line(at);
    if (!size) return undefined;
    const length = Number(size.text.slice(1));
    if (buffer.length < size.next + length + 2) return undefined;
    args.push(buffer.toString('utf8', size.next, size.next + length));
    at = size.next + length + 2;
  }
  return { args, used: at };
}
