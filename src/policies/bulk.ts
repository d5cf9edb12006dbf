/**
 * `getConversations`: many calls, `concurrency` at a time, results in input
 * order, failures as items. The input is pulled lazily (a million-item
 * generator is fine) and leaving the loop aborts what is in flight.
 */
import { APIUserAbortError, ChatDashError } from '../errors.js';
import { checkConcurrency } from '../options.js';
import type {
  BulkOptions,
  BulkResult,
  Conversation,
  GetConversationParams,
  RequestOptions,
} from '../types.js';

// How far finished results may run ahead of the one the loop waits for, in
// multiples of `concurrency`: a slow head must not stall the rest, nor let
// finished results pile up without bound.
const LOOKAHEAD = 4;

export async function* getConversations(
  input: Iterable<GetConversationParams> | AsyncIterable<GetConversationParams>,
  options: BulkOptions,
  call: (params: GetConversationParams, options: RequestOptions) => Promise<Conversation>,
  checkOptions: (options: RequestOptions) => void,
): AsyncGenerator<BulkResult, void, undefined> {
  if (typeof options !== 'object' || options === null)
    throw new ChatDashError('getConversations: options must be an object');
  const { concurrency: asked, ...callOptions } = options;
  const concurrency = checkConcurrency(asked);
  checkOptions(callOptions); // every rule checked before anything is sent
  const { signal } = callOptions;
  const iterator = iterate(input);
  // One controller per call, not one signal for all: each attempt listens on its
  // call's signal, and 11+ listeners on one AbortSignal make Node print a
  // MaxListenersExceededWarning (concurrency goes up to 64).
  const inFlight = new Set<AbortController>();
  const abortAll = (reason?: unknown) => inFlight.forEach((c) => c.abort(reason));
  const onAbort = () => abortAll(signal?.reason);
  signal?.addEventListener('abort', onAbort, { once: true });
  const pending: Promise<BulkResult>[] = [];
  let running = 0;
  let exhausted = false;
  let wake: (() => void) | undefined;
  try {
    for (;;) {
      if (signal?.aborted)
        throw new APIUserAbortError('getConversations was aborted', { cause: signal.reason });
      while (!exhausted && running < concurrency && pending.length < concurrency * LOOKAHEAD) {
        const next = await iterator.next();
        if (next.done) {
          exhausted = true;
          break;
        }
        const params = next.value;
        running++;
        const controller = new AbortController();
        inFlight.add(controller);
        pending.push(
          call(params, { ...callOptions, signal: controller.signal })
            .then(
              (data): BulkResult => ({ params, data }),
              (error: Error): BulkResult => ({ params, error }),
            )
            .finally(() => {
              inFlight.delete(controller);
              running--;
              wake?.();
            }),
        );
      }
      const head = pending[0];
      if (!head) return;
      // Wait for the head, or for any call to finish (a free slot to refill).
      const headDone = await Promise.race([
        head.then(() => true),
        new Promise<false>((resolve) => (wake = () => resolve(false))),
      ]);
      wake = undefined;
      if (headDone) yield await pending.shift()!;
    }
  } finally {
    signal?.removeEventListener('abort', onAbort);
    abortAll(); // a `break` leaves nothing running
    if (!exhausted) await iterator.return?.();
  }
}

function iterate<T>(input: Iterable<T> | AsyncIterable<T>): AsyncIterator<T> | Iterator<T> {
  const source = input as Partial<AsyncIterable<T> & Iterable<T>> | null;
  const asyncIterator = source?.[Symbol.asyncIterator];
  if (typeof asyncIterator === 'function') return asyncIterator.call(source);
  const syncIterator = source?.[Symbol.iterator];
  if (typeof syncIterator === 'function' && typeof input !== 'string')
    return syncIterator.call(source);
  throw new ChatDashError(
    'getConversations: params must be an Iterable or AsyncIterable of { agentId, conversationId }',
  );
}
