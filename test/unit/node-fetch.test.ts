/**
 * The light abort for Node's own fetch (src/transports/node-fetch.ts), with a
 * fake global dispatcher and fake fetch handlers: which fetch gets a
 * dispatcher, and what the dispatcher does with an abort at each moment.
 * test/faults/node-fetch.test.ts runs the same path on real sockets.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createChatDashClient } from '../../src/index.js';
import { makeConversation } from '../../src/testing.js';
import { ATTEMPT_ABORT, AttemptAbort } from '../../src/transports/attempt-abort.js';
import { chooseTransport } from '../../src/transports/choose-transport.js';
import { DispatcherAbort, NodeFetchTransport } from '../../src/transports/node-fetch.js';

const GLOBAL_DISPATCHER = Symbol.for('undici.globalDispatcher.1');
type Global = { [GLOBAL_DISPATCHER]?: unknown; fetch: typeof fetch };
const realFetch = globalThis.fetch;
const realDispatcher = (globalThis as Global)[GLOBAL_DISPATCHER];
afterEach(() => {
  vi.restoreAllMocks();
  globalThis.fetch = realFetch;
  (globalThis as Global)[GLOBAL_DISPATCHER] = realDispatcher;
});

/** A global dispatcher that records what it is given. */
function fakeGlobalDispatcher() {
  const seen: { options: object; handler: Record<string, unknown> }[] = [];
  (globalThis as Global)[GLOBAL_DISPATCHER] = {
    dispatch(options: object, handler: Record<string, unknown>) {
      seen.push({ options, handler });
      return true;
    },
  };
  return seen;
}

describe('DispatcherAbort', () => {
  it('forwards the request to the global dispatcher, with the same options and handler', () => {
    const seen = fakeGlobalDispatcher();
    const handler = { onConnect() {} };
    const options = { path: '/x', method: 'GET' };
    expect(new DispatcherAbort(new AttemptAbort()).dispatch(options, handler)).toBe(true);
    expect(seen).toEqual([{ options, handler }]);
  });

  it('aborts the request with the reason once it has a socket', () => {
    fakeGlobalDispatcher();
    const calls: string[] = [];
    const handler = { onConnect: (_abort: (reason: Error) => void) => calls.push('onConnect') };
    const attempt = new AttemptAbort();
    new DispatcherAbort(attempt).dispatch({}, handler);
    const aborts: unknown[] = [];
    handler.onConnect.call(handler, (reason: Error) => aborts.push(reason));
    expect(calls).toEqual(['onConnect']);
    expect(aborts).toEqual([]);
    const reason = new Error('timed out');
    attempt.abort(reason);
    expect(aborts).toEqual([reason]);
  });

  it('aborts a request aborted before it had a socket as soon as it gets one, after fetch has seen it', () => {
    fakeGlobalDispatcher();
    const calls: string[] = [];
    const aborts: unknown[] = [];
    const handler = {
      onConnect: (_abort: (reason: Error) => void) => calls.push('fetch saw onConnect'),
    };
    const attempt = new AttemptAbort();
    new DispatcherAbort(attempt).dispatch({}, handler);
    attempt.abort('not an Error');
    expect(aborts).toEqual([]);
    handler.onConnect.call(handler, (reason: Error) => {
      calls.push('aborted');
      aborts.push(reason);
    });
    expect(calls).toEqual(['fetch saw onConnect', 'aborted']);
    // undici reads name and message: a reason that is not an Error becomes an AbortError.
    expect(aborts[0]).toBeInstanceOf(DOMException);
    expect((aborts[0] as DOMException).name).toBe('AbortError');
  });

  it("aborts through the controller of a handler that speaks undici 7's onRequestStart", () => {
    fakeGlobalDispatcher();
    const handler = { onRequestStart(_controller: { abort(reason: Error): void }) {} };
    const attempt = new AttemptAbort();
    new DispatcherAbort(attempt).dispatch({}, handler);
    const aborts: unknown[] = [];
    handler.onRequestStart.call(handler, { abort: (reason: Error) => aborts.push(reason) });
    const reason = new Error('caller aborted');
    attempt.abort(reason);
    expect(aborts).toEqual([reason]);
  });
});

describe('which fetch gets the dispatcher', () => {
  const params = { agentId: 'agent_0001', conversationId: 'conv_0001' };
  const ok = () =>
    new Response(JSON.stringify(makeConversation()), {
      headers: { 'content-type': 'application/json' },
    });

  type Init = RequestInit & { dispatcher?: { dispatch(o: object, h: object): boolean } };

  /** Installs a global fetch that records each init and, if `dispatches`, calls its dispatcher. */
  function installGlobalFetch(dispatches: boolean) {
    const inits: Init[] = [];
    const fake = async (_url: string, init: Init) => {
      inits.push(init);
      if (dispatches) init.dispatcher?.dispatch({}, {});
      return ok();
    };
    globalThis.fetch = fake as typeof fetch;
    return { inits, fake };
  }
  const newClient = (options = {}) =>
    createChatDashClient({ apiKey: 'key-unit-node-fetch', baseUrl: 'https://x.test', ...options });

  /** The transports the clients sent through, in order of their sends (`this` of each send). */
  function watchTransports() {
    const send = vi.spyOn(NodeFetchTransport.prototype, 'send');
    return () => send.mock.contexts as NodeFetchTransport[];
  }

  it('is chosen once, when the client is made: the global fetch of a Node process, without middleware', () => {
    const own = async () => ok();
    const light = Object.assign(async () => ok(), { [ATTEMPT_ABORT]: true });
    expect(chooseTransport(globalThis.fetch, []).name).toBe('node-fetch');
    expect(chooseTransport(own, []).name).toBe('fetch');
    expect(chooseTransport(light, []).name).toBe('undici');
    expect(chooseTransport(globalThis.fetch, [{ onRequest() {} }]).name).toBe('fetch');
    expect(chooseTransport(light, [{ onRequest() {} }]).name).toBe('fetch');
  });

  it('keeps giving a signal, and no dispatcher, to a global fetch that answers without dispatching', async () => {
    const { inits } = installGlobalFetch(false);
    const transports = watchTransports();
    const client = newClient();
    await client.getConversation(params);
    await client.getConversation(params);
    expect(transports().map((t) => t.mode)).toEqual(['signal', 'signal']);
    // The first call probes with both; from then on only a signal.
    expect(inits.map((i) => [i.signal instanceof AbortSignal, 'dispatcher' in i])).toEqual([
      [true, true],
      [true, false],
    ]);
  });

  it('gives the light abort (a dispatcher, no signal) to a global fetch once seen to dispatch', async () => {
    const seen = fakeGlobalDispatcher();
    const { inits } = installGlobalFetch(true);
    const transports = watchTransports();
    const client = newClient();
    await client.getConversation(params);
    await client.getConversation(params);
    expect(transports().map((t) => t.mode)).toEqual(['light', 'light']);
    expect(seen).toHaveLength(2);
    expect(
      inits.map((i) => [i.signal instanceof AbortSignal, i.dispatcher?.constructor.name]),
    ).toEqual([
      [true, 'Probe'],
      [false, 'DispatcherAbort'],
    ]);
  });

  it("keeps what it learned on the client's own transport: each client probes on its first attempt", async () => {
    fakeGlobalDispatcher();
    const { inits } = installGlobalFetch(true);
    const transports = watchTransports();
    const first = newClient();
    const second = newClient();
    await first.getConversation(params);
    await first.getConversation(params);
    await second.getConversation(params);
    await second.getConversation(params);
    const [a, , b] = transports();
    expect(a).not.toBe(b);
    expect(inits.map((i) => i.dispatcher?.constructor.name)).toEqual([
      'Probe',
      'DispatcherAbort',
      'Probe',
      'DispatcherAbort',
    ]);
  });

  it('falls back to signals, retrying the attempt, when there is no global dispatcher to forward to', async () => {
    (globalThis as Global)[GLOBAL_DISPATCHER] = undefined;
    const { inits } = installGlobalFetch(true);
    const transports = watchTransports();
    await expect(newClient().getConversation(params)).resolves.toMatchObject({ _id: 'conv_0001' });
    expect(transports().at(-1)!.mode).toBe('signal');
    expect(inits.map((i) => [i.signal instanceof AbortSignal, 'dispatcher' in i])).toEqual([
      [true, true],
      [true, false],
    ]);
  });

  it('gives a signal to the global fetch when middleware builds a Request, even once seen to dispatch', async () => {
    fakeGlobalDispatcher();
    const { inits } = installGlobalFetch(true);
    await newClient().getConversation(params);
    await newClient({ middleware: [{ onRequest() {} }] }).getConversation(params);
    expect(inits.at(-1)!.signal).toBeInstanceOf(AbortSignal);
  });
});
