/**
 * Small waits shared by the traffic tests: what a promise rejected with, how
 * long it took, everything an async iterable yields, a condition coming true.
 */
import { performance } from 'node:perf_hooks';

/** The error a promise rejects with; throws if it resolves instead. */
export async function failure(promise: Promise<unknown>): Promise<Error> {
  const result = await promise.then(
    () => undefined,
    (error: unknown) => error,
  );
  if (!(result instanceof Error)) throw new Error('expected the call to reject');
  return result;
}

export async function timed<T>(promise: Promise<T>): Promise<{ value: T; seconds: number }> {
  const start = performance.now();
  const value = await promise;
  return { value, seconds: (performance.now() - start) / 1000 };
}

export async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const all: T[] = [];
  for await (const item of items) all.push(item);
  return all;
}

/** Resolves once `condition` holds, polling every 5 ms. */
export function until(condition: () => boolean): Promise<void> {
  return new Promise((resolve) => {
    const poll = () => (condition() ? resolve() : setTimeout(poll, 5));
    poll();
  });
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
