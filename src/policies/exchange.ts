/**
 * The transport's part of an attempt: send the request (through the caller's
 * openapi-fetch middleware, when there is any) and read the body within
 * bounds. What fails here without a response is an `APIConnectionError`
 * whose cause is a sanitized copy of the transport's error.
 */
import { createQuerySerializer, defaultPathSerializer } from 'openapi-fetch';
import { ENDPOINT } from '../endpoint.js';
import { APIConnectionError } from '../errors.js';
import type { Call, ClientContext, Outcome } from '../pipeline.js';
import type { Middleware } from '../types.js';
import { ERROR_BODY_LIMIT, readBody, type Body } from './body.js';
import { isFinal, markFinal } from './waits.js';
import { settle } from './settle.js';
import type { SendAbort } from '../transports/transport.js';

/**
 * The innermost step of one client: send through its transport and
 * middleware, read, settle. It runs after the last step, so it takes no `next`.
 */
export function exchange(client: ClientContext): (call: Call) => Promise<Outcome> {
  return (call) => attempt(client, call);
}

async function attempt(client: ClientContext, call: Call): Promise<Outcome> {
  let response: Response;
  let body: Body;
  const via = client.middleware.length === 0 ? undefined : new Via();
  try {
    response = via ? await viaMiddleware(client, call, via) : await send(client, call, call.url);
    // A response a middleware made is read as untrusted: its Content-Length binds nothing.
    const fromTransport = via === undefined || response === via.sent;
    const ok = response.status >= 200 && response.status < 300;
    body = ok
      ? await readBody(response, call.settings.maxResponseBytes, true, fromTransport)
      : await readBody(response, ERROR_BODY_LIMIT, false, fromTransport);
  } catch (cause) {
    if (isFinal(cause)) throw cause;
    throw new APIConnectionError(
      `Connection error: GET ${call.url}: ${client.redactor.describe(cause)}`,
      {
        url: call.url,
        attempts: call.attempts,
        cause: client.redactor.error(cause),
      },
    );
  } finally {
    via?.unlink();
  }
  return settle(client, call, response, body);
}

/** Sends through the client's transport, with the attempt's abort unless told otherwise. */
function send(
  client: ClientContext,
  call: Call,
  url: string,
  headers = call.headers,
  abort: SendAbort | undefined = call.abort,
  method = 'GET',
): Promise<Response> {
  return client.transport.send(url, method, headers, abort);
}

// What openapi-fetch hands its middleware as `options` (read-only).
const OPTIONS = Object.freeze({
  baseUrl: '',
  fetch: globalThis.fetch,
  parseAs: 'json' as const,
  querySerializer: createQuerySerializer(),
  bodySerializer: JSON.stringify,
  pathSerializer: defaultPathSerializer,
});

/**
 * openapi-fetch's middleware order: every `onRequest` in order (a `Response`
 * ends the list and is the answer: nothing is sent, no `onResponse` runs),
 * then fetch, then on a transport error every `onError` in reverse (a
 * `Response` is the answer, an `Error` replaces the error), then every
 * `onResponse` in reverse. A `Request` object is built only here, so a client
 * without middleware pays nothing for it.
 */
async function viaMiddleware(client: ClientContext, call: Call, via: Via): Promise<Response> {
  const { params } = call;
  const { isPlatformId, agentId, conversationId } = params;
  // A client with middleware has a transport that makes AbortControllers: the Request carries its signal.
  const signal = call.abort && 'signal' in call.abort ? call.abort.signal : undefined;
  let request = new Request(call.url, {
    method: 'GET',
    headers: call.headers,
    ...(signal ? { signal } : {}),
    redirect: 'manual',
  });
  const base = {
    schemaPath: ENDPOINT,
    params: {
      path: { agentId, conversationId },
      ...(isPlatformId === undefined ? {} : { query: { isPlatformId } }),
    },
    id: Math.random().toString(36).slice(2, 11), // as openapi-fetch makes it
    options: { ...OPTIONS, baseUrl: new URL(call.url).origin },
  };
  const list = client.middleware;
  // As in openapi-fetch, a falsy result is "no change" (`cond && new Request(...)` is a common form).
  for (const m of list) {
    if (typeof m.onRequest !== 'function') continue;
    const result = await own(client, call, 'onRequest', () => m.onRequest!({ ...base, request }));
    if (result instanceof Response) return result;
    if (result instanceof Request) request = result;
    else if (result)
      throw own.error(
        client,
        call,
        'onRequest',
        new TypeError('must return a Request, a Response or nothing'),
      );
  }
  let response: Response | undefined;
  try {
    response = via.sent = await send(
      client,
      call,
      request.url,
      Object.fromEntries(request.headers),
      via.join(signal, request.signal),
      request.method,
    );
  } catch (error) {
    let current: unknown = error;
    for (const m of [...list].reverse()) {
      if (typeof m.onError !== 'function') continue;
      const result = await own(client, call, 'onError', () =>
        m.onError!({ ...base, request, error: current }),
      );
      if (result instanceof Response) {
        response = result;
        break;
      }
      if (result instanceof Error) current = result;
      else if (result as unknown)
        throw own.error(
          client,
          call,
          'onError',
          new TypeError('must return a Response, an Error or nothing'),
        );
    }
    if (!response) throw current;
  }
  for (const m of [...list].reverse()) {
    if (typeof m.onResponse !== 'function') continue;
    const seen: Response = response;
    const result = await own(client, call, 'onResponse', () =>
      m.onResponse!({ ...base, request, response: seen }),
    );
    // Handing back the response it was given changes nothing; with `createUndiciFetch`
    // that response is a light one, not `instanceof Response`.
    if (result instanceof Response) response = result;
    else if (result && result !== seen)
      throw own.error(
        client,
        call,
        'onResponse',
        new TypeError('must return a Response or nothing'),
      );
  }
  return response;
}

/**
 * One attempt through middleware: the response the transport gave (any other
 * is a middleware's own), and the abort the request goes out with. A rebuilt
 * `Request` (`new Request(url, init)`) has its own signal, which the attempt's
 * timeout and abort do not reach: the request is sent with both joined, so
 * either closes the socket. The listeners go when the attempt's body is read.
 */
class Via {
  sent: Response | undefined = undefined;
  #unlink: (() => void) | undefined = undefined;

  join(attempt: AbortSignal | undefined, own: AbortSignal): SendAbort {
    if (!attempt || own === attempt || attempt.aborted) return { signal: attempt ?? own };
    if (own.aborted) return { signal: own };
    const joined = new AbortController();
    const onAttempt = () => joined.abort(attempt.reason);
    const onOwn = () => joined.abort(own.reason);
    attempt.addEventListener('abort', onAttempt);
    own.addEventListener('abort', onOwn);
    this.#unlink = () => {
      attempt.removeEventListener('abort', onAttempt);
      own.removeEventListener('abort', onOwn);
    };
    return joined;
  }

  unlink(): void {
    this.#unlink?.();
    this.#unlink = undefined;
  }
}

/**
 * Runs the caller's own middleware code: what it throws ends the call at once
 * as an `APIConnectionError` with a sanitized cause, not retried (a retry
 * would run the same code again).
 */
async function own<T>(
  client: ClientContext,
  call: Call,
  hook: keyof Middleware,
  run: () => T | Promise<T>,
): Promise<T> {
  try {
    return await run();
  } catch (error) {
    throw own.error(client, call, hook, error);
  }
}
own.error = (client: ClientContext, call: Call, hook: string, error: unknown): APIConnectionError =>
  markFinal(
    new APIConnectionError(
      `Middleware ${hook} failed: GET ${call.url}: ${client.redactor.describe(error)}`,
      {
        url: call.url,
        attempts: call.attempts,
        cause: client.redactor.error(error),
      },
    ),
  );
