import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { APIConnectionError, APIError, ResponseValidationError } from '../../../src/errors.js';
import { apiKey, failure, makeCall, outcome, step } from '../../helpers/call.js';

beforeEach(() => void vi.useFakeTimers());
afterEach(() => void vi.useRealTimers());

/** A stub transport that takes `ms` and then settles as `settle` says. */
function after<T>(ms: number, settle: () => T) {
  return () =>
    new Promise<Awaited<T>>((resolve, reject) => {
      setTimeout(() => {
        try {
          void Promise.resolve(settle()).then(resolve, reject);
        } catch (error) {
          reject(error);
        }
      }, ms);
    });
}

describe('the observe step', () => {
  it('records a successful attempt with its status and duration, and logs it at debug', async () => {
    const { call, logs } = makeCall();
    const done = step.observe(
      call,
      after(40, () => outcome(call, 200, { 'x-request-id': 'req_1' })),
    );
    await vi.advanceTimersByTimeAsync(40);
    await done;
    expect(call.attempts).toEqual([{ attempt: 1, status: 200, durationMs: 40 }]);
    const debug = logs.filter((l) => l.level === 'debug');
    expect(debug).toHaveLength(1);
    expect(debug[0]?.message).toBe(`chatdash-client: GET ${call.url} attempt 1: 200 in 40 ms`);
    expect(debug[0]?.fields).toMatchObject({ status: 200, requestId: 'req_1' });
    // The request headers are logged through the allowlist: the key never.
    expect(debug[0]?.fields?.['headers']).toEqual({
      accept: 'application/json',
      authorization: 'REDACTED',
      'user-agent': expect.stringMatching(/^chatdash-client\/\d/),
    });
    expect(JSON.stringify(logs)).not.toContain(apiKey);
  });

  it('records the status of an answered failure and the class of an unanswered one', async () => {
    const { call } = makeCall();
    const context = { url: call.url, attempts: [] };
    const answered = APIError.from(503, '', new Headers(), {}, context);
    const invalid = new ResponseValidationError([], '', 200, new Headers(), context);
    const unanswered = new APIConnectionError('reset', context);
    for (const error of [answered, invalid, unanswered]) {
      const thrown = await failure(step.observe(call, () => Promise.reject(error)));
      expect(thrown).toBe(error);
      call.n++;
    }
    expect(call.attempts).toEqual([
      { attempt: 1, status: 503, durationMs: 0 },
      { attempt: 2, status: 200, durationMs: 0 },
      { attempt: 3, error: 'APIConnectionError', durationMs: 0 },
    ]);
  });

  it('puts the wait attempt 1 was held for on its own record, and on no later one', async () => {
    const { call } = makeCall();
    call.heldMs = 612.345;
    call.heldSource = 'rate-limit';
    await step.observe(call, async () => outcome(call));
    call.n = 2;
    await step.observe(call, async () => outcome(call));
    expect(call.attempts).toEqual([
      { attempt: 1, status: 200, durationMs: 0, delayMs: 612.3, delaySource: 'rate-limit' },
      { attempt: 2, status: 200, durationMs: 0 },
    ]);
  });

  it('gives each attempt its own copy of the request headers', async () => {
    const { call, context } = makeCall();
    let seen: Record<string, string> | undefined;
    await step.observe(call, async () => {
      seen = call.headers;
      call.headers['x-mutated'] = 'by a custom fetch';
      return outcome(call);
    });
    expect(seen).not.toBe(context.headers);
    expect(seen).toEqual({ ...context.headers, 'x-mutated': 'by a custom fetch' });
    expect(context.headers).not.toHaveProperty('x-mutated');
  });

  it('writes no debug line when the level is above debug', async () => {
    const { call, logs } = makeCall({ logLevel: 'info' });
    await step.observe(call, async () => outcome(call));
    expect(call.attempts).toHaveLength(1);
    expect(logs).toEqual([]);
  });
});
