/**
 * Node's own fetch (the default transport) aborted without an AbortSignal.
 *
 * Why: an AbortSignal given to Node's fetch costs 3-4 % of a request's CPU on
 * Node 24 and more on Node 20, more than the rest of the client's own work:
 * fetch follows it with a listener held through a WeakRef and a
 * FinalizationRegistry entry per request. Yet fetch itself aborts a request
 * with nothing more than the `abort` function its dispatch handler receives in
 * `onConnect`. Node's fetch is undici's and takes undici's `dispatcher` in its
 * init; given one, it hands the request to `dispatcher.dispatch(options,
 * handler)`. So an attempt with the client's light abort passes a one-attempt
 * dispatcher that forwards to the global dispatcher (the one fetch would use,
 * an app's `setGlobalDispatcher` included) and keeps that `abort`.
 *
 * Not every `globalThis.fetch` is Node's (an interceptor in tests, a polyfill,
 * another runtime): until the transport has seen its fetch hand a request to
 * the dispatcher, its attempts also get a real signal; a fetch that answers
 * without calling the dispatcher keeps getting signals. What was seen is kept
 * on the client's transport, so each client learns it on its first attempt.
 */
import { AttemptAbort, type AbortListener } from './attempt-abort.js';
import { FetchTransport, type Abort, type Init, type SendAbort } from './transport.js';

// Where undici (Node's own and npm's) keeps the global dispatcher; fetch reads it there.
const GLOBAL_DISPATCHER = Symbol.for('undici.globalDispatcher.1');

interface Dispatcher {
  dispatch(options: object, handler: Handler): boolean;
}
interface Handler {
  // The handler API fetch uses (undici 6 and 7) ...
  onConnect?: (abort: (reason: Error) => void, context?: unknown) => void;
  // ... and the one undici 7's dispatchers speak natively.
  onRequestStart?: (controller: { abort(reason: Error): void }, context?: unknown) => void;
}

/** `probe`: not known yet; `light`: seen to dispatch, gets the light abort; `signal`: gets signals. */
export type Mode = 'probe' | 'light' | 'signal';

/** The global fetch of a Node process, where fetch is undici's. */
export function isNodeGlobalFetch(fetch: object): boolean {
  const isNode = typeof process === 'object' && typeof process.versions?.['undici'] === 'string';
  return isNode && fetch === globalThis.fetch;
}

/** Node's own global fetch: the light abort once its fetch is seen to dispatch, signals until then. */
export class NodeFetchTransport extends FetchTransport {
  readonly name = 'node-fetch';
  mode: Mode = 'probe';

  newAbort(): Abort {
    return this.mode === 'light' ? new AttemptAbort() : new AbortController();
  }

  protected carry(init: Init, abort: SendAbort): ((response: Response) => Response) | undefined {
    if (abort instanceof AttemptAbort) {
      init.dispatcher = new DispatcherAbort(abort);
      return undefined;
    }
    init.signal = abort.signal;
    // Once the mode is known a signal goes alone, even one made while the probe was out.
    if (this.mode !== 'probe') return undefined;
    const probe = new Probe(this);
    init.dispatcher = probe;
    return probe.answered;
  }
}

function globalDispatcher(): Dispatcher | undefined {
  return (globalThis as { [GLOBAL_DISPATCHER]?: Dispatcher })[GLOBAL_DISPATCHER];
}

/** Learns whether the fetch dispatched; the attempt's signal does the aborting. */
export class Probe implements Dispatcher {
  #dispatched = false;
  constructor(readonly transport: { mode: Mode }) {}

  dispatch(options: object, handler: Handler): boolean {
    this.#dispatched = true;
    const target = globalDispatcher();
    // Node's undici sets it when it loads, before any dispatch; without one there is
    // nothing to forward to: this attempt fails (and is retried) and the fetch keeps signals.
    if (!target) {
      this.transport.mode = 'signal';
      throw new TypeError('no global undici dispatcher to forward the request to');
    }
    if (this.transport.mode === 'probe') this.transport.mode = 'light';
    return target.dispatch(options, handler);
  }

  /** The fetch answered: if it never dispatched, it does not take a dispatcher. */
  answered = (response: Response): Response => {
    if (!this.#dispatched && this.transport.mode === 'probe') this.transport.mode = 'signal';
    return response;
  };
}

/** One attempt's dispatcher: forwards the request and aborts it when the attempt is aborted. */
export class DispatcherAbort implements Dispatcher, AbortListener {
  #abort: ((reason: Error) => void) | undefined = undefined;

  constructor(readonly attempt: AttemptAbort) {
    attempt.listener = this;
  }

  dispatch(options: object, handler: Handler): boolean {
    const { onConnect, onRequestStart } = handler;
    if (typeof onConnect === 'function') {
      handler.onConnect = (abort, context) => {
        this.#abort = abort;
        onConnect.call(handler, abort, context);
        // Aborted before the request reached a socket: stop it now, as fetch does for its signal.
        if (this.attempt.aborted) abort(asError(this.attempt.reason));
      };
    } else if (typeof onRequestStart === 'function') {
      handler.onRequestStart = (controller, context) => {
        this.#abort = (reason) => controller.abort(reason);
        onRequestStart.call(handler, controller, context);
        if (this.attempt.aborted) controller.abort(asError(this.attempt.reason));
      };
    }
    return globalDispatcher()!.dispatch(options, handler);
  }

  aborted(reason: unknown): void {
    this.#abort?.(asError(reason));
  }
}

// undici reads `message` and `name` of what it is aborted with.
function asError(reason: unknown): Error {
  return reason instanceof Error
    ? reason
    : new DOMException('This operation was aborted', 'AbortError');
}
