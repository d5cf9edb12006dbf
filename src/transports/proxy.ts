/**
 * The proxy dispatchers of `createUndiciFetch`, with each CONNECT tried once.
 *
 * undici 7 (to 8.5) takes a proxy that closes the connection while the CONNECT
 * tunnel is set up (`UND_ERR_SOCKET`) for a failure it may recover from: it
 * leaves the request queued and connects again at once, without end, until the
 * call's timeout (one call opened 301 proxy connections in 2 s). Upstream:
 * nodejs/undici#3897, fixed in 8.6. So the proxy's own client, which sends the
 * CONNECT, is ours (ProxyAgent's documented `clientFactory`): any tunnel the
 * proxy will not give fails the request with an error saying the proxy refused,
 * and the client's own retries decide what happens next.
 *
 * undici comes in as an argument: only transports/undici.ts loads it.
 */
import type * as Undici from 'undici';

type ConnectData = Undici.Dispatcher.ConnectData;
type Callback = (error: Error | null, data: ConnectData | null) => void;

/** A ProxyAgent for one proxy URL, or an EnvHttpProxyAgent for `'env'`. */
export function proxyAgent(
  undici: typeof Undici,
  proxy: string,
  pool: { connections?: number },
): Undici.Dispatcher {
  const options = {
    ...pool,
    clientFactory: (origin: URL, opts: object) => client(undici, origin, opts),
  };
  // EnvHttpProxyAgent hands its options to each ProxyAgent it makes (and to its direct
  // Agent, which has no use for clientFactory and leaves it alone).
  return proxy === 'env'
    ? new undici.EnvHttpProxyAgent(options as Undici.EnvHttpProxyAgent.Options)
    : new undici.ProxyAgent({ ...options, uri: proxy });
}

/** ProxyAgent's default client to the proxy (a Pool), whose CONNECT fails instead of looping. */
function client(undici: typeof Undici, origin: URL, options: object): Undici.Dispatcher {
  const pool = new undici.Pool(origin, options);
  const connect = pool.connect.bind(pool) as (
    params: Undici.Dispatcher.ConnectOptions,
  ) => Promise<ConnectData>;
  // The proxy's origin, never its user name or password.
  const proxy = origin.origin;
  const tunnel = async (params: Undici.Dispatcher.ConnectOptions): Promise<ConnectData> => {
    const target = String(params.path);
    let data: ConnectData;
    try {
      data = await connect(params);
    } catch (cause) {
      const code = (cause as { code?: unknown } | null)?.code;
      if (code !== 'UND_ERR_SOCKET' && code !== 'ECONNRESET' && code !== 'EPIPE') throw cause;
      throw refused(target, proxy, 'it closed the connection', cause);
    }
    if (data.statusCode === 200) return data;
    data.socket.on('error', () => {}).destroy();
    // Otherwise undici's own error for this: a RequestAbortedError the client reports as UND_ERR_ABORTED.
    throw refused(target, proxy, `it answered ${data.statusCode}`);
  };
  pool.connect = ((params: Undici.Dispatcher.ConnectOptions, callback?: Callback) => {
    if (!callback) return tunnel(params);
    tunnel(params).then(
      (data) => callback(null, data),
      (error: Error) => callback(error, null),
    );
  }) as typeof pool.connect;
  return pool;
}

/**
 * Note: no `code`, so undici fails the queued requests rather than reconnecting (it only
 * retries `UND_ERR_SOCKET` and `UND_ERR_INFO`), and the client's message quotes this one.
 */
function refused(target: string, proxy: string, what: string, cause?: unknown): Error {
  return new Error(`the proxy refused the tunnel to ${target}: ${what} (proxy ${proxy})`, {
    cause,
  });
}
