/**
 * `getConversations`: many calls, `concurrency` at a time, results in input
 * order, failures as items. The input is pulled lazily (a million-item
 * generator is fine) and leaving the loop aborts what is in flight.
 *
 * Reading the input, running calls and handing out results are driven by
 * events, not by one `await` after another: a slow async input must neither
 * hold back a result that is ready nor delay an abort until its next item.
 */
import { APIUserAbortError, ChatDashError } from '../errors.js';
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

/** One input item, from the moment it is read until its result is handed out. */
interface Slot {
  params: GetConversationParams;
  result?: BulkResult;
}

type Input =
  { async: true; iterator: AsyncIterator<unknown> } | { async: false; iterator: Iterator<unknown> };

export async function* getConversations(
  input: Iterable<GetConversationParams> | AsyncIterable<GetConversationParams>,
  options: BulkOptions,
  call: (params: GetConversationParams, options: RequestOptions) => Promise<Conversation>,
  /** Checks every option (throwing what the caller may see) and returns the concurrency. */
  checkOptions: (concurrency: unknown, options: RequestOptions) => number,
): AsyncGenerator<BulkResult, void, undefined> {
  if (typeof options !== 'object' || options === null)
    throw new ChatDashError('getConversations: options must be an object');
  const { concurrency: asked, ...callOptions } = options;
  const concurrency = checkOptions(asked, callOptions); // every rule checked before anything is sent
  const { signal } = callOptions;
  const source = iterate(input);
  // One controller per call, not one signal for all: each attempt listens on its
  // call's signal, and 11+ listeners on one AbortSignal make Node print a
  // MaxListenersExceededWarning (concurrency goes up to 64).
  const inFlight = new Set<AbortController>();
  const queue: Slot[] = []; // read, in input order: running, or finished and not yet handed out
  let pulling = false; // an async input's `next()` has not settled yet (one at a time)
  let exhausted = false;
  let inputFailed: { error: unknown } | undefined;
  let closed = false;
  let wake: (() => void) | undefined;
  const changed = () => {
    const resume = wake;
    wake = undefined;
    resume?.();
  };

  const start = (params: GetConversationParams) => {
    const slot: Slot = { params };
    queue.push(slot);
    const controller = new AbortController();
    inFlight.add(controller);
    const done = (result: BulkResult) => {
      slot.result = result;
      inFlight.delete(controller);
      fill(); // a free slot is refilled at once, even while the caller holds the loop at a `yield`
      changed();
    };
    new Promise<Conversation>((resolve) =>
      resolve(call(params, { ...callOptions, signal: controller.signal })),
    ).then(
      (data) => done({ params, data }),
      (error: Error) => done({ params, error }),
    );
  };

  const took = (next: IteratorResult<unknown>) => {
    if (next.done) exhausted = true;
    // An item that arrives after the loop ended or was aborted is dropped, not sent.
    else if (!closed && !signal?.aborted) start(next.value as GetConversationParams);
  };

  // Reads while there is room: a free call slot, and the head not too far behind.
  const fill = () => {
    while (
      !closed &&
      !pulling &&
      !exhausted &&
      !inputFailed &&
      !signal?.aborted &&
      inFlight.size < concurrency &&
      queue.length < concurrency * LOOKAHEAD
    ) {
      if (!source.async) {
        try {
          took(source.iterator.next());
        } catch (error) {
          inputFailed = { error };
        }
        continue;
      }
      pulling = true;
      new Promise<IteratorResult<unknown>>((resolve) => resolve(source.iterator.next()))
        .then(took)
        .catch((error: unknown) => (inputFailed ??= { error }))
        .finally(() => {
          pulling = false;
          fill();
          changed();
        });
    }
  };

  const onAbort = () => {
    inFlight.forEach((c) => c.abort(signal?.reason));
    changed();
  };
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    for (;;) {
      if (signal?.aborted)
        throw new APIUserAbortError('getConversations was aborted', { cause: signal.reason });
      if (inputFailed) throw inputFailed.error;
      fill();
      const head = queue[0];
      if (head?.result) {
        queue.shift();
        fill();
        yield head.result;
      } else if (!head && exhausted) return;
      // Something to wait for: the head's call, the input, or an abort; each calls `changed`.
      else await new Promise<void>((resolve) => (wake = resolve));
    }
  } finally {
    closed = true;
    signal?.removeEventListener('abort', onAbort);
    inFlight.forEach((c) => c.abort()); // a `break` leaves nothing running
    if (!exhausted && !inputFailed) await stop(source, pulling);
  }
}

/** Tells the input no more is wanted, as `for await` does on `break`. */
async function stop(source: Input, pulling: boolean): Promise<void> {
  if (!pulling) return void (await source.iterator.return?.());
  // An async generator runs `return()` only once its pending `next()` settles, which
  // may take as long as the input likes: the loop does not wait for it.
  try {
    void Promise.resolve(source.iterator.return?.()).catch(() => {});
  } catch {
    // Nobody is left to hear about a failure of the input's own clean-up.
  }
}

function iterate(input: unknown): Input {
  const source = input as Partial<AsyncIterable<unknown> & Iterable<unknown>> | null;
  const asyncIterator = source?.[Symbol.asyncIterator];
  if (typeof asyncIterator === 'function')
    return { async: true, iterator: asyncIterator.call(source) };
  const syncIterator = source?.[Symbol.iterator];
  if (typeof syncIterator === 'function' && typeof input !== 'string')
    return { async: false, iterator: syncIterator.call(source) };
  throw new ChatDashError(
    'getConversations: params must be an Iterable or AsyncIterable of { agentId, conversationId }',
  );
}
