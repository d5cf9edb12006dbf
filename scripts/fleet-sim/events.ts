/**
 * Simulated time for `npm run fleet:sim`: an event queue (a binary heap of
 * timers by due time) and a clock that reads the time of the event being run.
 * The client's steps and scopes are handed this queue's `clock` (its time,
 * its waits and its timers), so no global timer is touched; after each
 * event, every promise continuation it set off runs (one real `setImmediate`
 * drains the microtask queue) before the clock moves on.
 * Errors carry no stack meanwhile: the 429s of a thousand processes are many,
 * and capturing their stacks is most of the time a simulation would take.
 */
import { makeClock, type Clock } from '../../src/coordination/clock.js';

export interface Timer {
  at: number;
  seq: number;
  fn: () => void;
}

const cancelled = () => {};

export class EventQueue {
  /** The simulated time in ms: the due time of the event being run. */
  now = 0;
  /** Events run so far (for the closing line). */
  events = 0;
  readonly #heap: Timer[] = [];
  #seq = 0;

  /** The clock the simulated clients run on. An attempt's timeout timer is
   * cancelled long before it is due: dropping its function lets what it holds
   * be collected while the entry waits in the heap. */
  readonly clock: Clock = makeClock(
    () => this.now,
    (ms, fn, arg) => this.at(ms, () => fn(arg)),
    (timer) => void ((timer as Timer).fn = cancelled),
  );

  at(ms: number, fn: () => void): Timer {
    const timer = { at: this.now + Math.max(0, ms || 0), seq: this.#seq++, fn };
    const heap = this.#heap;
    heap.push(timer);
    for (let i = heap.length - 1; i > 0;) {
      const parent = (i - 1) >> 1;
      if (!before(heap[i]!, heap[parent]!)) break;
      [heap[i], heap[parent]] = [heap[parent]!, heap[i]!];
      i = parent;
    }
    return timer;
  }

  /** Runs every event due before `end` (ms). */
  async run(end: number): Promise<void> {
    const stackTraceLimit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    try {
      await drain();
      for (let next = this.#pop(); next && next.at < end; next = this.#pop()) {
        if (next.fn === cancelled) continue;
        this.now = next.at;
        this.events++;
        next.fn();
        await drain();
      }
      this.now = end;
    } finally {
      Error.stackTraceLimit = stackTraceLimit;
    }
  }

  #pop(): Timer | undefined {
    const heap = this.#heap;
    const top = heap[0];
    const last = heap.pop();
    if (heap.length === 0 || !last) return top;
    heap[0] = last;
    for (let i = 0; ;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let min = i;
      if (l < heap.length && before(heap[l]!, heap[min]!)) min = l;
      if (r < heap.length && before(heap[r]!, heap[min]!)) min = r;
      if (min === i) break;
      [heap[i], heap[min]] = [heap[min]!, heap[i]!];
      i = min;
    }
    return top;
  }
}

function before(a: Timer, b: Timer): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}

const drain = () => new Promise<void>((resolve) => setImmediate(resolve));
