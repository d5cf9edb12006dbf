/**
 * `chatdash-client/undici`: a `FetchLike` on undici's dispatcher (one dispatch
 * handler per request, undici-exchange.ts) over one keep-alive `Agent` (or a
 * proxy agent). On its own, 2-4x raw fetch's requests/s at 0.2-0.35x its CPU
 * per request (`npm run bench`, Node 20 and 24), because it skips the WHATWG
 * Request/Response machinery the client does not need.
 *
 * The only file that loads the optional peer dependency `undici`, and it loads
 * it only when `createUndiciFetch` is first called, leaving the app's global
 * fetch dispatcher as it was (see loadUndici).
 */
import { createRequire } from 'node:module';
import type * as Http from 'node:http';
import type * as Undici from 'undici';
import { ChatDashError } from '../errors.js';
import type { FetchLike } from '../types.js';
import { describe, fail, integer, isObject, known } from '../rules.js';
import { ATTEMPT_ABORT, type AttemptAbort } from './attempt-abort.js';
import { proxyAgent } from './proxy.js';
import { Exchange } from './undici-exchange.js';

export type { FetchLike } from '../types.js';

/** Options for {@link createUndiciFetch}. */
export interface UndiciFetchOptions {
  /**
   * The most sockets open to one origin at once; further requests queue. An integer from 1 to 1024.
   * @default no limit (undici's default, as with Node's global fetch)
   */
  connections?: number | undefined;
  /**
   * `'env'`: `HTTPS_PROXY` / `HTTP_PROXY` / `NO_PROXY` (and their lowercase forms), read by
   * undici's `EnvHttpProxyAgent`. A string: one `http:` or `https:` proxy URL, credentials
   * allowed (`http://user:pass@proxy:3128`). `false`: connect directly. A proxy that will not
   * open the tunnel (closes the connection, or answers other than 200) fails the request
   * with an error saying the proxy refused, after one CONNECT.
   * @default false
   */
  proxy?: 'env' | string | false | undefined;
}

/** The fetch {@link createUndiciFetch} returns: a `FetchLike` that owns its connection pool. */
export interface UndiciFetch extends FetchLike {
  /** Closes the pool once in-flight requests finish; later calls reject. */
  close(): Promise<void>;
  /** The same as `close()`, for `await using`. */
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * A `fetch` for `createChatDashClient({ fetch: createUndiciFetch() })`, built on
 * undici's dispatcher. What it keeps of fetch, and where it differs:
 *
 * - `init.signal` aborts at every moment (connecting, waiting for headers,
 *   reading the body): the promise or the body read rejects with the signal's
 *   reason and the request is destroyed.
 * - Redirects are never followed, whatever `init.redirect` says: a 3xx is
 *   returned as it is (the client never wants its key sent elsewhere).
 * - Bodies are not decompressed; `accept-encoding: identity` is sent unless
 *   `init.headers` names an encoding, so servers answer uncompressed.
 * - The response is a light `Response`: `status`, `statusText` (the standard
 *   reason for the status, not the server's), `ok`, `headers` (a real
 *   `Headers`, made on first use), `url`, `redirected`, `body` (a web
 *   `ReadableStream`, made on first use and read lazily; cancelling it
 *   destroys the request), `bodyUsed`, `text()`, `json()`, `arrayBuffer()`,
 *   `bytes()`; no `clone()`. Read or cancel every body: an unread body holds
 *   its socket. As with fetch, a 101, 103, 204, 205 or 304 has no body (`body`
 *   null, `text()` empty), whatever bytes or `Content-Length` the server sent
 *   with it.
 * - Failures reject as fetch's do: `TypeError('fetch failed')` with undici's
 *   error as `cause` (so `cause.code` is `ECONNREFUSED`, `UND_ERR_SOCKET`...),
 *   and a body cut short rejects with `TypeError('terminated')`.
 *
 * Throws `ChatDashError` for invalid options or when `undici` 7 or later is not installed.
 */
export function createUndiciFetch(options: UndiciFetchOptions = {}): UndiciFetch {
  const { connections, proxy } = checkOptions(options);
  const undici = loadUndici();
  const pool = connections === undefined ? {} : { connections };
  const dispatcher: Undici.Dispatcher =
    proxy === false ? new undici.Agent(pool) : proxyAgent(undici, proxy, pool);

  const fetch = (input: string, init: RequestInit = {}): Promise<Response> => {
    // The client's own attempt abort comes in place of a signal (see attempt-abort.ts).
    const abort = init.signal ?? (init as Init)[ATTEMPT_ABORT];
    if (abort?.aborted) return Promise.reject(abort.reason);
    return new Promise((resolve, reject) => {
      let url: URL;
      let headers: Record<string, string>;
      try {
        url = target(undici, input);
        headers = requestHeaders(init.headers);
      } catch (cause) {
        reject(new TypeError('fetch failed', { cause }));
        return;
      }
      dispatcher.dispatch(
        {
          origin: url.origin,
          path: url.search ? `${url.pathname}${url.search}` : url.pathname,
          method: (init.method ?? 'GET') as Undici.Dispatcher.HttpMethod,
          headers,
          body: (init.body ?? null) as string | Uint8Array | null,
        },
        new Exchange(input, abort, STATUS_CODES, resolve, reject),
      );
    });
  };
  const close = () => dispatcher.close();
  return Object.assign(fetch, { close, [Symbol.asyncDispose]: close, [ATTEMPT_ABORT]: true });
}
type Init = RequestInit & { [ATTEMPT_ABORT]?: AttemptAbort };

let loaded: typeof Undici | undefined;
// From node:http, read with require() at load: an ESM import of node:http makes Node 22+ start
// its fetch machinery (it reads every export), which would change the slots at import time.
let STATUS_CODES: Record<number, string | undefined> = {};

/**
 * Loads npm `undici` without touching the app's global fetch dispatcher. Its
 * `lib/global.js` fills empty global dispatcher slots with its own Agent, and
 * in a process where nothing has used fetch yet the slots are empty (Node
 * creates its fetch machinery on first use), so loading it bare would move the
 * app's global fetch onto npm undici. So Node's own fetch machinery goes first
 * (the response's `Headers` needs it anyway): it fills the slots with Node's
 * own Agent, exactly as the app's first fetch would, and npm undici then leaves
 * them alone (test/faults/undici.test.ts checks this in a fresh process).
 * Note: putting the old value back after a bare load does not work:
 * loading npm undici also loads Node's (it touches the fetch globals), which
 * then finds the slot taken, and an emptied slot breaks Node's fetch
 * (`assert(dispatcher)` in its `fetching`).
 * Synchronous (`require`), so a missing package fails at creation.
 */
function loadUndici(): typeof Undici {
  if (loaded) return loaded;
  new Headers(); // starts Node's own fetch machinery, which fills empty slots with Node's Agent
  const require = createRequire(import.meta.url);
  STATUS_CODES = (require('node:http') as typeof Http).STATUS_CODES;
  let undici: typeof Undici;
  try {
    undici = require('undici') as typeof Undici;
  } catch (cause) {
    throw new ChatDashError(
      'createUndiciFetch: needs the optional peer dependency undici (>=7): npm install undici',
      { cause },
    );
  }
  if (typeof undici.EnvHttpProxyAgent !== 'function' || typeof undici.request !== 'function') {
    throw new ChatDashError('createUndiciFetch: needs undici >=7: npm install undici@7');
  }
  return (loaded = undici);
}

function checkOptions(options: unknown): {
  connections: number | undefined;
  proxy: string | false;
} {
  const where = 'createUndiciFetch';
  if (!isObject(options)) fail(`${where}: options must be an object, got ${describe(options)}`);
  known(options as object, ['connections', 'proxy'], where);
  const { connections, proxy = false } = options as UndiciFetchOptions;
  if (connections !== undefined) integer(connections, 'connections', 1, 1024, where);
  if (proxy === false || proxy === 'env') return { connections, proxy };
  const rule = `${where}: proxy must be 'env', false or an http: or https: proxy URL`;
  // A proxy URL may carry credentials: say what is wrong with it, never quote it.
  if (typeof proxy !== 'string') throw new ChatDashError(`${rule}, got ${describe(proxy)}`);
  // Note: even the "protocol" of a malformed string can be a user name ("admin:pass@host").
  const protocol = URL.canParse(proxy) ? new URL(proxy).protocol : undefined;
  if (protocol !== 'http:' && protocol !== 'https:') {
    throw new ChatDashError(
      `${rule}, got a string that is not one (not quoted: it may hold credentials)`,
    );
  }
  return { connections, proxy };
}

/** `init.headers` as undici takes it, asking for an uncompressed body unless the caller chose. */
function requestHeaders(headers: RequestInit['headers']): Record<string, string> {
  // The client passes a plain object; anything else a caller might (Headers, pairs) becomes one.
  const plain: Record<string, string> =
    headers === undefined
      ? {}
      : Array.isArray(headers) || headers instanceof Headers
        ? Object.fromEntries(new Headers(headers))
        : (headers as Record<string, string>);
  // Note: copied by a loop; on Node 20 a spread with a key added after it (`{ ...plain,
  // 'accept-encoding': ... }`) costs over a microsecond, 2-3 % of a request.
  const copy: Record<string, string> = {};
  for (const name in plain) {
    if (name.toLowerCase() === 'accept-encoding') return plain;
    copy[name] = plain[name]!;
  }
  copy['accept-encoding'] = 'identity';
  return copy;
}

/** The URL as undici.request took it (its parseURL): absolute, http: or https:. */
function target(undici: typeof Undici, input: string): URL {
  const url = new URL(input);
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new undici.errors.InvalidArgumentError(
      'Invalid URL protocol: the URL must start with `http:` or `https:`.',
    );
  return url;
}
