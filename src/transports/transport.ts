/**
 * How an attempt reaches the network, chosen once when the client is made
 * (as Azure's pipeline is handed its HttpClient when it is built), never per
 * attempt. A transport makes each attempt's abort (`newAbort()`) and sends
 * the request with it (`send()`); the abort is the client's light
 * `AttemptAbort` where the fetch can take one, else an `AbortController`
 * whose signal the fetch gets (see attempt-abort.ts for why).
 */
import type { FetchLike } from '../types.js';
import { ATTEMPT_ABORT, AttemptAbort } from './attempt-abort.js';

/** One attempt's abort, as its transport made it. */
export type Abort = AttemptAbort | AbortController;

/**
 * What a request goes out with: the attempt's abort, or (when middleware
 * rebuilt the Request) the holder of the signal joined to it.
 */
export type SendAbort = AttemptAbort | { readonly signal: AbortSignal };

export interface Transport {
  /** `fetch`: signals; `undici`: createUndiciFetch's light abort; `node-fetch`: Node's own fetch. */
  readonly name: 'fetch' | 'undici' | 'node-fetch';
  /** A fresh abort for one attempt. */
  newAbort(): Abort;
  /** Sends one request; `abort` is one this transport made, or a signal's holder. */
  send(
    url: string,
    method: string,
    headers: Record<string, string>,
    abort: SendAbort | undefined,
  ): Promise<Response>;
}

/**
 * fetch's init with what the client's own transports take besides. The key
 * must never reach another origin: a 3xx is an APIError, never followed.
 * `dispatcher` is undici's, typed there as a full Dispatcher; fetch only
 * calls its `dispatch`.
 */
export type Init = Omit<RequestInit, 'dispatcher'> & {
  [ATTEMPT_ABORT]?: AttemptAbort;
  dispatcher?: object;
};

export function requestInit(method: string, headers: Record<string, string>): Init {
  return { method, headers, redirect: 'manual' };
}

/** What the transports share: each puts an attempt's abort on the request in its own way. */
export abstract class FetchTransport implements Transport {
  abstract readonly name: Transport['name'];
  constructor(readonly fetch: FetchLike) {}

  abstract newAbort(): Abort;

  /** Puts `abort` on `init`; may return what the response must pass through (a probe's). */
  protected abstract carry(
    init: Init,
    abort: SendAbort,
  ): ((response: Response) => Response) | undefined;

  send(
    url: string,
    method: string,
    headers: Record<string, string>,
    abort: SendAbort | undefined,
  ): Promise<Response> {
    const init = requestInit(method, headers);
    const then = abort && this.carry(init, abort);
    const sent = this.fetch(url, init as RequestInit);
    return then ? sent.then(then) : sent;
  }
}

/** Any fetch (the app's own, or any behind middleware): every attempt gets an AbortSignal. */
export class SignalTransport extends FetchTransport {
  readonly name = 'fetch';

  newAbort(): Abort {
    return new AbortController();
  }

  protected carry(init: Init, abort: SendAbort): undefined {
    // Every abort this transport makes is an AbortController.
    init.signal = (abort as { signal: AbortSignal }).signal;
    return undefined;
  }
}

/** createUndiciFetch's fetch: the request is handed the light abort itself, no signal. */
export class UndiciTransport extends FetchTransport {
  readonly name = 'undici';

  newAbort(): Abort {
    return new AttemptAbort();
  }

  protected carry(init: Init, abort: SendAbort): undefined {
    if (abort instanceof AttemptAbort) init[ATTEMPT_ABORT] = abort;
    else init.signal = abort.signal;
    return undefined;
  }
}
