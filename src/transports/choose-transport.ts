/**
 * The one place that picks a client's transport, when the client is made.
 */
import type { FetchLike, Middleware } from '../types.js';
import { takesAttemptAbort } from './attempt-abort.js';
import { isNodeGlobalFetch, NodeFetchTransport } from './node-fetch.js';
import { SignalTransport, UndiciTransport, type Transport } from './transport.js';

export function chooseTransport(fetch: FetchLike, middleware: readonly Middleware[]): Transport {
  // Middleware gets a Request, whose signal is what a rebuilt Request carries on:
  // every attempt through middleware needs a real AbortSignal, whatever the fetch.
  if (middleware.length > 0) return new SignalTransport(fetch);
  if (takesAttemptAbort(fetch)) return new UndiciTransport(fetch);
  if (isNodeGlobalFetch(fetch)) return new NodeFetchTransport(fetch);
  return new SignalTransport(fetch);
}
