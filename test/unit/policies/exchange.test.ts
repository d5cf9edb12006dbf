import { getEventListeners } from 'node:events';
import { inspect } from 'node:util';
import type { Middleware } from 'openapi-fetch';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { APIConnectionError, NotFoundError, ResponseValidationError } from '../../../src/errors.js';
import { isFinal } from '../../../src/policies/waits.js';
import { ENDPOINT } from '../../../src/endpoint.js';
import type { Call } from '../../../src/pipeline.js';
import { apiKey, failure, makeCall, origin, send } from '../../helpers/call.js';
import { fakeFetch, json } from '../../helpers/fake-fetch.js';

afterEach(() => void vi.restoreAllMocks());

/** The signal of the attempt's abort (a client with a plain fetch makes AbortControllers). */
const attemptSignal = (call: Call) => (call.abort as AbortController | undefined)?.signal;

const conversation = { _id: 'conv_1', status: 'ai' };

describe('the exchange', () => {
  it('sends one GET with the attempt headers and signal, never following a redirect', async () => {
    const { fetch } = fakeFetch(() => json(200, conversation));
    const { call } = makeCall({ fetch });
    call.abort = new AbortController();
    call.headers = { ...call.headers, traceparent: '00-abc-def-01' };
    const outcome = await send(call);
    expect(outcome.data).toEqual(conversation);
    expect(fetch).toHaveBeenCalledOnce();
    expect(fetch).toHaveBeenCalledWith(call.url, {
      method: 'GET',
      headers: call.headers,
      signal: attemptSignal(call),
      redirect: 'manual',
    });
  });

  it('turns a transport failure into APIConnectionError naming its code, with a sanitized cause', async () => {
    const refused = new TypeError('fetch failed', {
      cause: Object.assign(new Error(`connect ECONNREFUSED (key ${apiKey})`), {
        code: 'ECONNREFUSED',
        config: { headers: { authorization: apiKey } },
      }),
    });
    const { call } = makeCall({ fetch: () => Promise.reject(refused) });
    const error = await failure(send(call));
    expect(error).toBeInstanceOf(APIConnectionError);
    expect(error.message).toBe(`Connection error: GET ${call.url}: ECONNREFUSED`);
    expect(isFinal(error)).toBe(false);
    expect(error.cause).not.toBe(refused);
    expect(inspect(error, { showHidden: true, depth: 10 })).not.toContain(apiKey);
    expect((error.cause as Error).message).toBe('fetch failed');
  });

  it('sanitizes a transport error that holds an array, such as an AggregateError of refused addresses', async () => {
    const refused = (address: string) =>
      Object.assign(new Error(`connect ECONNREFUSED ${address}`), { code: 'ECONNREFUSED' });
    const cause = Object.assign(new AggregateError([refused('::1'), refused('127.0.0.1')]), {
      code: 'ECONNREFUSED',
      key: apiKey,
    });
    const { call } = makeCall({
      fetch: () => Promise.reject(new TypeError('fetch failed', { cause })),
    });
    const error = await failure(send(call));
    expect(error).toBeInstanceOf(APIConnectionError);
    expect(error.message).toBe(`Connection error: GET ${call.url}: ECONNREFUSED`);
    const copied = (error.cause as { cause: { errors: Error[] } }).cause.errors;
    expect(copied.map((e) => e.message)).toEqual([
      'connect ECONNREFUSED ::1',
      'connect ECONNREFUSED 127.0.0.1',
    ]);
    expect(inspect(error, { showHidden: true, depth: 10 })).not.toContain(apiKey);
  });

  it('reads a 2xx body only up to maxResponseBytes', async () => {
    const { call } = makeCall({
      fetch: async () => new Response(JSON.stringify(conversation)),
      settings: { maxResponseBytes: 10 },
    });
    const error = (await failure(send(call))) as ResponseValidationError;
    expect(error).toBeInstanceOf(ResponseValidationError);
    expect(error.issues[0]?.message).toBe('is larger than maxResponseBytes (10 bytes)');
  });

  it('builds no Request object without middleware, and one per attempt with it', async () => {
    let built = 0;
    const RealRequest = globalThis.Request;
    vi.spyOn(globalThis, 'Request', 'get').mockReturnValue(
      new Proxy(RealRequest, {
        construct(target, args: ConstructorParameters<typeof Request>, newTarget) {
          built++;
          return Reflect.construct(target, args, newTarget) as object;
        },
      }),
    );
    const { fetch } = fakeFetch(() => json(200, conversation));
    await send(makeCall({ fetch }).call);
    expect(built).toBe(0);
    // The control: the same spy sees the Request a middleware needs.
    await send(makeCall({ fetch, middleware: [{ onRequest: () => undefined }] }).call);
    expect(built).toBe(1);
    expect(fetch).toHaveBeenCalledTimes(2);
  });
});

describe('middleware in the exchange', () => {
  it("runs in openapi-fetch's order: onRequest first to last, onResponse last to first", async () => {
    const order: string[] = [];
    const tag = (name: string): Middleware => ({
      onRequest: () => void order.push(`${name}.onRequest`),
      onResponse: () => void order.push(`${name}.onResponse`),
      onError: () => void order.push(`${name}.onError`),
    });
    const { fetch } = fakeFetch(() => {
      order.push('fetch');
      return json(200, conversation);
    });
    await send(makeCall({ fetch, middleware: [tag('a'), tag('b')] }).call);
    expect(order).toEqual(['a.onRequest', 'b.onRequest', 'fetch', 'b.onResponse', 'a.onResponse']);
  });

  it('runs onError last to first on a transport error, the first Response ending the list', async () => {
    const order: string[] = [];
    const middleware: Middleware[] = [
      { onError: () => void order.push('a.onError') },
      {
        onError: () => {
          order.push('b.onError');
          return json(200, conversation);
        },
      },
      { onError: () => void order.push('c.onError') },
    ];
    const { call } = makeCall({
      fetch: () => Promise.reject(new TypeError('fetch failed')),
      middleware,
    });
    await expect(send(call)).resolves.toMatchObject({ data: conversation });
    expect(order).toEqual(['c.onError', 'b.onError']);
  });

  it('passes each onError the error the one before it returned', async () => {
    const seen: unknown[] = [];
    const replaced = new Error('replaced by b');
    const original = new TypeError('fetch failed');
    const middleware: Middleware[] = [
      { onError: ({ error }) => void seen.push(error) },
      {
        onError: ({ error }) => {
          seen.push(error);
          return replaced;
        },
      },
    ];
    const { call } = makeCall({ fetch: () => Promise.reject(original), middleware });
    const error = await failure(send(call));
    expect(seen).toEqual([original, replaced]);
    expect(error).toBeInstanceOf(APIConnectionError);
    expect(error.message).toBe(`Connection error: GET ${call.url}: replaced by b`);
  });

  it('ends the onRequest list at a Response: nothing is sent and no onResponse runs', async () => {
    const later = vi.fn();
    const onResponse = vi.fn();
    const { fetch } = fakeFetch();
    const { call } = makeCall({
      fetch,
      middleware: [
        { onRequest: () => json(404, { error: 'cached miss' }), onResponse },
        { onRequest: later },
      ],
    });
    expect(await failure(send(call))).toBeInstanceOf(NotFoundError);
    expect(fetch).not.toHaveBeenCalled();
    expect(later).not.toHaveBeenCalled();
    expect(onResponse).not.toHaveBeenCalled();
  });

  it('sends a Request an onRequest returns as fetch(url, init) with its method, headers and signal', async () => {
    const controller = new AbortController();
    let abortedInFlight: boolean | undefined;
    // The attempt's timeout fires while the request is in flight: what the transport was given aborts.
    const { fetch, calls } = fakeFetch(() => {
      const signal = fetch.mock.calls[0]?.[1]?.signal;
      controller.abort();
      abortedInFlight = signal?.aborted;
      return json(200, conversation);
    });
    const { call } = makeCall({
      fetch,
      middleware: [
        {
          onRequest: ({ request }) => {
            const headers = new Headers(request.headers);
            headers.set('x-tenant', 't_1');
            return new Request(`${request.url}&via=middleware`, {
              method: 'HEAD',
              headers,
              signal: request.signal,
            });
          },
        },
      ],
      params: { agentId: 'agent_1', conversationId: 'conv_1', isPlatformId: true },
    });
    call.abort = controller;
    await send(call);
    expect(calls[0]?.url).toBe(`${call.url}&via=middleware`);
    expect(calls[0]?.headers.get('x-tenant')).toBe('t_1');
    expect(calls[0]?.headers.get('authorization')).toBe(apiKey);
    const init = fetch.mock.calls[0]?.[1];
    expect(init?.method).toBe('HEAD');
    expect(init?.redirect).toBe('manual');
    expect(abortedInFlight).toBe(true);
  });

  it("joins the attempt's abort to a rebuilt Request's own signal, and lets go of both after the attempt", async () => {
    const attempt = new AbortController();
    const app = new AbortController(); // a long-lived signal of the app's, on every rebuilt Request
    let abortedInFlight: boolean | undefined;
    const { fetch } = fakeFetch(() => {
      const signal = fetch.mock.calls.at(-1)?.[1]?.signal;
      if (fetch.mock.calls.length === 1) attempt.abort();
      abortedInFlight = signal?.aborted;
      return json(200, conversation);
    });
    // Listeners before the client adds its own (a Request follows its signal with one).
    let appListeners = 0;
    let attemptListeners = 0;
    const middleware: Middleware[] = [
      {
        onRequest: ({ request }) => {
          const rebuilt = new Request(request.url, { signal: app.signal });
          appListeners = getEventListeners(app.signal, 'abort').length;
          attemptListeners = getEventListeners(attemptSignal(call)!, 'abort').length;
          return rebuilt;
        },
      },
    ];
    const { call } = makeCall({ fetch, middleware });
    call.abort = attempt;
    await send(call);
    expect(abortedInFlight).toBe(true); // the attempt's abort reached the transport
    for (let i = 0; i < 3; i++) {
      call.abort = new AbortController();
      await send(call);
      expect(abortedInFlight).toBe(false);
      // The client's listener on the app's signal is gone once the attempt is over.
      expect(getEventListeners(app.signal, 'abort')).toHaveLength(appListeners);
      expect(getEventListeners(attemptSignal(call)!, 'abort')).toHaveLength(attemptListeners);
    }
  });

  it('gives middleware what openapi-fetch gives it: the request, schema path, params, id and options', async () => {
    const onRequest = vi.fn();
    const { fetch } = fakeFetch(() => json(200, conversation));
    const { call } = makeCall({
      fetch,
      middleware: [{ onRequest }],
      params: { agentId: 'agent_1', conversationId: 'conv_1', isPlatformId: false },
    });
    await send(call);
    const [arg] = onRequest.mock.calls[0] as [Parameters<NonNullable<Middleware['onRequest']>>[0]];
    expect(arg.request).toBeInstanceOf(Request);
    expect(arg.request.url).toBe(call.url);
    expect(arg.schemaPath).toBe(ENDPOINT);
    expect(arg.params).toEqual({
      path: { agentId: 'agent_1', conversationId: 'conv_1' },
      query: { isPlatformId: false },
    });
    expect(arg.id).toMatch(/^[a-z0-9]+$/);
    expect(arg.options.baseUrl).toBe(origin);
  });

  it('treats what a middleware throws as final, naming the hook, with a sanitized cause', async () => {
    const { fetch } = fakeFetch();
    const thrown = Object.assign(new Error(`bad ${apiKey}`), { key: apiKey });
    const { call } = makeCall({
      fetch,
      middleware: [
        {
          onRequest: () => {
            throw thrown;
          },
        },
      ],
    });
    const error = await failure(send(call));
    expect(error).toBeInstanceOf(APIConnectionError);
    expect(error.message).toBe(`Middleware onRequest failed: GET ${call.url}: bad [redacted]`);
    expect(isFinal(error)).toBe(true);
    expect(fetch).not.toHaveBeenCalled();
    expect(inspect(error, { showHidden: true, depth: 10 })).not.toContain(apiKey);
  });

  it('ignores a falsy result as openapi-fetch does, and refuses any other value, naming the hook', async () => {
    const { fetch } = fakeFetch(() => json(200, conversation));
    const nothing = [null, false, 0, ''] as unknown as undefined[];
    const quiet: Middleware[] = nothing.map((value) => ({
      onRequest: () => value,
      onResponse: () => value,
    }));
    await expect(send(makeCall({ fetch, middleware: quiet }).call)).resolves.toMatchObject({
      data: conversation,
    });

    const odd = { onResponse: () => ({ status: 200 }) as unknown as Response };
    const { call } = makeCall({ fetch, middleware: [odd] });
    const error = await failure(send(call));
    expect(error).toBeInstanceOf(APIConnectionError);
    expect(error.message).toBe(
      `Middleware onResponse failed: GET ${call.url}: must return a Response or nothing`,
    );
  });
});
