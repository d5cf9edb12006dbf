/**
 * De-duplication on its own: a fake `start` stands for the request, no network.
 */
import { describe, expect, it } from 'vitest';
import { Dedupe } from '../../src/policies/dedupe.js';

interface Started {
  signal: AbortSignal;
  resolve(value: string): void;
  reject(error: Error): void;
}

/** A `start` that records each request it was asked to make and lets the test settle it. */
function requests() {
  const started: Started[] = [];
  const start = (signal: AbortSignal) =>
    new Promise<string>((resolve, reject) => started.push({ signal, resolve, reject }));
  return { started, start };
}

const aborted = () => new Error('caller aborted');

async function settled<T>(promise: Promise<T>) {
  return promise.then(
    (value) => ({ value }),
    (error: Error) => ({ error }),
  );
}

describe('Dedupe', () => {
  it('shares one request between concurrent calls with the same key', async () => {
    const dedupe = new Dedupe<string>();
    const { started, start } = requests();
    const calls = Array.from({ length: 10 }, () => dedupe.run('k', undefined, start, aborted));
    expect(started).toHaveLength(1);
    started[0]!.resolve('body');
    expect(await Promise.all(calls)).toEqual(Array(10).fill('body'));
  });

  it('starts a separate request for another key', () => {
    const dedupe = new Dedupe<string>();
    const { started, start } = requests();
    void dedupe.run('a', undefined, start, aborted);
    void dedupe.run('b', undefined, start, aborted);
    expect(started).toHaveLength(2);
  });

  it('starts afresh once the shared request has settled', async () => {
    const dedupe = new Dedupe<string>();
    const { started, start } = requests();
    const first = dedupe.run('k', undefined, start, aborted);
    started[0]!.resolve('one');
    await first;
    void dedupe.run('k', undefined, start, aborted);
    expect(started).toHaveLength(2);
  });

  it('gives every caller the shared failure', async () => {
    const dedupe = new Dedupe<string>();
    const { started, start } = requests();
    const calls = [1, 2].map(() => settled(dedupe.run('k', undefined, start, aborted)));
    started[0]!.reject(new Error('503'));
    for (const result of await Promise.all(calls))
      expect(result).toEqual({ error: new Error('503') });
  });

  it('rejects only the caller that aborts; the others get the result', async () => {
    const dedupe = new Dedupe<string>();
    const { started, start } = requests();
    const leaving = new AbortController();
    const staying = new AbortController();
    const left = settled(dedupe.run('k', leaving.signal, start, aborted));
    const stayed = dedupe.run('k', staying.signal, start, aborted);
    const plain = dedupe.run('k', undefined, start, aborted);
    leaving.abort();
    expect(await left).toEqual({ error: aborted() });
    expect(started[0]!.signal.aborted).toBe(false);
    started[0]!.resolve('body');
    expect(await stayed).toBe('body');
    expect(await plain).toBe('body');
  });

  it('aborts the shared request when every caller has aborted, and the next call starts afresh', async () => {
    const dedupe = new Dedupe<string>();
    const { started, start } = requests();
    const controllers = [new AbortController(), new AbortController()];
    const calls = controllers.map((c) => settled(dedupe.run('k', c.signal, start, aborted)));
    controllers[0]!.abort();
    expect(started[0]!.signal.aborted).toBe(false);
    controllers[1]!.abort();
    expect(started[0]!.signal.aborted).toBe(true);
    for (const result of await Promise.all(calls)) expect(result).toEqual({ error: aborted() });
    void dedupe.run('k', undefined, start, aborted);
    expect(started).toHaveLength(2);
  });

  it('keeps the request going while a caller without a signal waits', () => {
    const dedupe = new Dedupe<string>();
    const { started, start } = requests();
    const controller = new AbortController();
    void dedupe.run('k', undefined, start, aborted);
    void settled(dedupe.run('k', controller.signal, start, aborted));
    controller.abort();
    expect(started[0]!.signal.aborted).toBe(false);
  });

  it('rejects a caller whose signal is already aborted without starting anything', async () => {
    const dedupe = new Dedupe<string>();
    const { started, start } = requests();
    await expect(dedupe.run('k', AbortSignal.abort(), start, aborted)).rejects.toThrow(
      'caller aborted',
    );
    expect(started).toHaveLength(0);
  });
});
