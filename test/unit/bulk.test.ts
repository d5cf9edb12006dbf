/**
 * `getConversations`' scheduling on its own: a fake `call` stands for the
 * client, so order, concurrency, laziness and `break` are seen without a network.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { getConversations } from '../../src/policies/bulk.js';
import { APIUserAbortError, ChatDashError } from '../../src/errors.js';
import { checkConcurrency } from '../../src/options.js';
import type {
  BulkOptions,
  BulkResult,
  Conversation,
  GetConversationParams,
  RequestOptions,
} from '../../src/types.js';
import { collect } from '../helpers/settle.js';

const ids = (n: number, from = 0) =>
  Array.from({ length: n }, (_, i) => ({ agentId: 'a', conversationId: `c${from + i}` }));

function* endless(pulled: { count: number }): Generator<GetConversationParams> {
  for (let i = 0; ; i++) {
    pulled.count++;
    yield { agentId: 'a', conversationId: `c${i}` };
  }
}

const tick = (ms = 0) => new Promise((resolve) => setTimeout(resolve, ms));

/** A fake client call: answers after `delay(params)` ms, counting how many run at once. */
function fakeCall(delay: (params: GetConversationParams) => number = () => 1) {
  const seen = { inFlight: 0, most: 0, calls: 0, aborted: 0, signals: [] as AbortSignal[] };
  const call = (params: GetConversationParams, options: RequestOptions) => {
    seen.calls++;
    seen.inFlight++;
    seen.most = Math.max(seen.most, seen.inFlight);
    const { signal } = options;
    if (signal) seen.signals.push(signal);
    return new Promise<Conversation>((resolve, reject) => {
      const timer = setTimeout(() => {
        seen.inFlight--;
        signal?.removeEventListener('abort', onAbort);
        if (params.conversationId.startsWith('bad'))
          reject(new ChatDashError(`no ${params.conversationId}`));
        else resolve({ _id: params.conversationId } as Conversation);
      }, delay(params));
      const onAbort = () => {
        clearTimeout(timer);
        seen.inFlight--;
        seen.aborted++;
        reject(new APIUserAbortError('aborted'));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  };
  return { call, seen };
}

function run(
  input: Iterable<GetConversationParams> | AsyncIterable<GetConversationParams>,
  options: BulkOptions,
  call: ReturnType<typeof fakeCall>['call'],
  checkOptions: (concurrency: unknown, options: RequestOptions) => number = checkConcurrency,
) {
  return getConversations(input, options, call, checkOptions);
}

describe('getConversations (bulk scheduling)', () => {
  it('yields one result per input, in input order, however the calls finish', async () => {
    // Later inputs finish first: c0 takes longest.
    const { call } = fakeCall((p) => 30 - Number(p.conversationId.slice(1)));
    const results = await collect(run(ids(30), { concurrency: 8 }, call));
    expect(results.map((r) => r.data?._id)).toEqual(ids(30).map((p) => p.conversationId));
    expect(results.map((r) => r.params)).toEqual(ids(30));
  });

  it('never runs more than `concurrency` calls at once, and does run that many', async () => {
    const { call, seen } = fakeCall(() => 2 + Math.floor(Math.random() * 5));
    await collect(run(ids(100), { concurrency: 5 }, call));
    expect(seen.calls).toBe(100);
    expect(seen.most).toBe(5);
  });

  it('runs 8 at once by default', async () => {
    const { call, seen } = fakeCall(() => 5);
    await collect(run(ids(40), {}, call));
    expect(seen.most).toBe(8);
  });

  it('keeps the other slots busy while the head is slow, but only a bounded distance ahead', async () => {
    const { call, seen } = fakeCall((p) => (p.conversationId === 'c0' ? 200 : 1));
    const results = run(ids(1_000), { concurrency: 4 }, call)[Symbol.asyncIterator]();
    const first = results.next();
    await tick(100);
    // The head is still running; the other three slots have gone through several
    // inputs, and stopped a few multiples of `concurrency` ahead (finished results wait).
    expect(seen.calls).toBeGreaterThan(8);
    expect(seen.calls).toBeLessThanOrEqual(4 * 4);
    expect((await first).value).toMatchObject({ data: { _id: 'c0' } });
    await results.return?.();
  });

  it('gives a failure as an item and goes on', async () => {
    const { call } = fakeCall();
    const input = [...ids(2), { agentId: 'a', conversationId: 'bad1' }, ...ids(2, 2)];
    const results = await collect(run(input, { concurrency: 2 }, call));
    expect(results).toHaveLength(5);
    expect(results[2]).toMatchObject({ params: input[2] });
    expect(results[2]?.error).toBeInstanceOf(ChatDashError);
    expect(results[2]?.data).toBeUndefined();
    expect(results.filter((r) => r.data)).toHaveLength(4);
  });

  it('reads its input lazily: a million-item generator is pulled only a few slots ahead', async () => {
    const pulled = { count: 0 };
    const { call } = fakeCall();
    let taken = 0;
    for await (const result of run(endless(pulled), { concurrency: 4 }, call)) {
      expect(result.data).toBeDefined();
      if (++taken === 10) break;
    }
    expect(pulled.count).toBeLessThanOrEqual(10 + 4 * 4);
  });

  it('on break, aborts the calls in flight and stops reading an infinite input', async () => {
    const pulled = { count: 0 };
    const { call, seen } = fakeCall((p) => (p.conversationId === 'c0' ? 1 : 10_000));
    let finished = false;
    const input = (function* () {
      try {
        yield* endless(pulled);
      } finally {
        finished = true;
      }
    })();
    for await (const result of run(input, { concurrency: 6 }, call)) {
      expect(result.data?._id).toBe('c0');
      break;
    }
    expect(seen.inFlight).toBe(0);
    expect(seen.aborted).toBe(6);
    // Every call still running was aborted; c0, finished, had nothing left to abort.
    expect(seen.signals.filter((s) => s.aborted)).toHaveLength(6);
    expect(finished).toBe(true);
    const count = pulled.count;
    await tick(20);
    expect(pulled.count).toBe(count);
  });

  it('reads an AsyncIterable input too', async () => {
    const { call } = fakeCall();
    async function* input() {
      for (const p of ids(12)) {
        await tick();
        yield p;
      }
    }
    const results = await collect(run(input(), { concurrency: 3 }, call));
    expect(results.map((r) => r.data?._id)).toEqual(ids(12).map((p) => p.conversationId));
  });

  it('passes the per-call options on, each call with a signal of its own run', async () => {
    const received: RequestOptions[] = [];
    const call = (params: GetConversationParams, options: RequestOptions) => {
      received.push(options);
      return Promise.resolve({ _id: params.conversationId } as Conversation);
    };
    await collect(run(ids(2), { concurrency: 1, timeoutMs: 1234, maxRetries: 0 }, call));
    expect(received).toHaveLength(2);
    for (const options of received) {
      expect(options).toMatchObject({ timeoutMs: 1234, maxRetries: 0 });
      expect(options.signal).toBeInstanceOf(AbortSignal);
      expect(options).not.toHaveProperty('concurrency');
    }
  });

  it('when the caller aborts, aborts the calls in flight and rejects with APIUserAbortError', async () => {
    const { call, seen } = fakeCall(() => 10_000);
    const controller = new AbortController();
    const done = collect(run(ids(10), { concurrency: 3, signal: controller.signal }, call));
    await tick(10);
    controller.abort();
    await expect(done).rejects.toBeInstanceOf(APIUserAbortError);
    expect(seen.aborted).toBe(3);
    expect(seen.calls).toBe(3);
  });

  describe('with a slow async input (fake timers)', () => {
    afterEach(() => {
      vi.useRealTimers();
    });

    /** Yields c0 at once, then c1 only after `ms`; `state.stopped` once it has been told to stop. */
    function slowInput(ms: number, state = { stopped: false }) {
      return (async function* () {
        try {
          yield { agentId: 'a', conversationId: 'c0' };
          await tick(ms);
          yield { agentId: 'a', conversationId: 'c1' };
        } finally {
          state.stopped = true;
        }
      })();
    }

    /** Runs the loop in the background, keeping what it yields and how it ended. */
    function drive(results: AsyncIterable<BulkResult>, onItem?: () => boolean) {
      const seen = { items: [] as BulkResult[], ended: undefined as unknown };
      void (async () => {
        for await (const result of results) {
          seen.items.push(result);
          if (onItem?.()) break;
        }
      })().then(
        () => (seen.ended = 'done'),
        (error: unknown) => (seen.ended = error),
      );
      return seen;
    }

    it('hands out a finished result at once, while the input is still producing the next item', async () => {
      vi.useFakeTimers();
      const { call, seen } = fakeCall(() => 10);
      const loop = drive(run(slowInput(2_000), { concurrency: 2 }, call));
      await vi.advanceTimersByTimeAsync(100);
      // c0's call ended at 10 ms; c1 is 1.9 s away.
      expect(loop.items.map((r) => r.data?._id)).toEqual(['c0']);
      expect(loop.ended).toBeUndefined();
      await vi.advanceTimersByTimeAsync(2_000);
      expect(loop.items.map((r) => r.data?._id)).toEqual(['c0', 'c1']);
      expect(loop.ended).toBe('done');
      expect(seen.calls).toBe(2);
    });

    it('rejects at once when aborted while waiting on the input; the late item is never sent', async () => {
      vi.useFakeTimers();
      const { call, seen } = fakeCall(() => 10);
      const input = { stopped: false };
      const controller = new AbortController();
      const options = { concurrency: 2, signal: controller.signal };
      const loop = drive(run(slowInput(3_700, input), options, call));
      await vi.advanceTimersByTimeAsync(100);
      expect(loop.items).toHaveLength(1);
      controller.abort();
      await vi.advanceTimersByTimeAsync(1);
      expect(loop.ended).toBeInstanceOf(APIUserAbortError);
      // The input is told to stop once its pending item arrives; that item goes nowhere.
      await vi.advanceTimersByTimeAsync(4_000);
      expect(input.stopped).toBe(true);
      expect(seen.calls).toBe(1);
    });

    it('ends at once on break while waiting on the input, and stops the input once it yields', async () => {
      vi.useFakeTimers();
      const { call, seen } = fakeCall(() => 10);
      const input = { stopped: false };
      const loop = drive(run(slowInput(3_700, input), { concurrency: 2 }, call), () => true);
      await vi.advanceTimersByTimeAsync(100);
      expect(loop.items).toHaveLength(1);
      expect(loop.ended).toBe('done');
      expect(input.stopped).toBe(false); // still inside its wait
      await vi.advanceTimersByTimeAsync(4_000);
      expect(input.stopped).toBe(true);
      expect(seen.calls).toBe(1);
    });

    it('keeps the slots busy while the caller is slow to take each result, up to the bound', async () => {
      vi.useFakeTimers();
      const { call, seen } = fakeCall(() => 10);
      const results = run(ids(100), { concurrency: 2 }, call)[Symbol.asyncIterator]();
      const first = results.next();
      await vi.advanceTimersByTimeAsync(10);
      expect((await first).value).toMatchObject({ data: { _id: 'c0' } });
      // The caller has not asked for the next result for 200 ms: calls went on meanwhile,
      // and stopped with 4 x concurrency results read ahead.
      await vi.advanceTimersByTimeAsync(200);
      expect(seen.calls).toBe(1 + 2 * 4);
      await results.return?.();
    });

    it('rejects with the error the input throws, and aborts the calls in flight', async () => {
      vi.useFakeTimers();
      const { call, seen } = fakeCall(() => 10_000);
      const broken = new Error('input broke');
      async function* input() {
        yield* ids(2);
        await tick(50);
        throw broken;
      }
      const loop = drive(run(input(), { concurrency: 4 }, call));
      await vi.advanceTimersByTimeAsync(60);
      expect(loop.ended).toBe(broken);
      expect(seen.aborted).toBe(2);
      expect(seen.inFlight).toBe(0);
    });
  });

  it.each([0, 65, 2.5, '8', null, Number.NaN])(
    'rejects concurrency %s with a ChatDashError before calling or reading anything',
    async (concurrency) => {
      const pulled = { count: 0 };
      const { call, seen } = fakeCall();
      const options = { concurrency } as unknown as BulkOptions;
      await expect(collect(run(endless(pulled), options, call))).rejects.toThrow(
        /getConversations: concurrency must be an integer from 1 to 64/,
      );
      expect(seen.calls).toBe(0);
      expect(pulled.count).toBe(0);
    },
  );

  it('checks the per-call options before calling anything', async () => {
    const { call, seen } = fakeCall();
    const check = () => {
      throw new ChatDashError('getConversations: timeoutMs must be an integer');
    };
    await expect(collect(run(ids(3), { timeoutMs: -1 }, call, check))).rejects.toThrow('timeoutMs');
    expect(seen.calls).toBe(0);
  });

  it('rejects an input that is not iterable (a string included) with a ChatDashError', async () => {
    const { call } = fakeCall();
    for (const input of [42, 'c1', null, { agentId: 'a', conversationId: 'c' }])
      await expect(
        collect(run(input as unknown as GetConversationParams[], {}, call)),
      ).rejects.toThrow(/params must be an Iterable or AsyncIterable/);
  });
});
