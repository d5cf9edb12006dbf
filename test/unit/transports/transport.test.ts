/**
 * The transports a client is given when it is made (src/transports/transport.ts):
 * what each makes as an attempt's abort and what its fetch receives. Node's
 * own fetch is test/unit/node-fetch.test.ts's subject.
 */
import { describe, expect, it, vi } from 'vitest';
import { ATTEMPT_ABORT, AttemptAbort } from '../../../src/transports/attempt-abort.js';
import { SignalTransport, UndiciTransport } from '../../../src/transports/transport.js';

const url = 'https://api.chat-dash.test/v1/public/agents/a/conversations/c';
const headers = { Accept: 'application/json', Authorization: 'ck_unit_transport_key' };
const recording = () =>
  vi.fn((_url: string, _init: RequestInit) => Promise.resolve(new Response('{}')));

describe('a fetch of the app', () => {
  it('makes an AbortController per attempt, and sends its signal, never following a redirect', async () => {
    const fetch = recording();
    const transport = new SignalTransport(fetch);
    const abort = transport.newAbort();
    expect(abort).toBeInstanceOf(AbortController);
    expect(transport.newAbort()).not.toBe(abort);
    await transport.send(url, 'GET', headers, abort);
    expect(fetch).toHaveBeenCalledWith(url, {
      method: 'GET',
      headers,
      redirect: 'manual',
      signal: (abort as AbortController).signal,
    });
  });
});

describe("createUndiciFetch's fetch", () => {
  it('makes a light AttemptAbort per attempt and hands it over in place of a signal', async () => {
    const fetch = recording();
    const transport = new UndiciTransport(fetch);
    const abort = transport.newAbort();
    expect(abort).toBeInstanceOf(AttemptAbort);
    await transport.send(url, 'GET', headers, abort);
    const init = fetch.mock.calls[0]![1] as RequestInit & { [ATTEMPT_ABORT]?: unknown };
    expect(init[ATTEMPT_ABORT]).toBe(abort);
    expect(init.signal).toBeUndefined();
    expect(init.redirect).toBe('manual');
  });

  it('sends the signal it is given instead (a Request rebuilt by middleware carries one)', async () => {
    const fetch = recording();
    const controller = new AbortController();
    await new UndiciTransport(fetch).send(url, 'HEAD', headers, { signal: controller.signal });
    const init = fetch.mock.calls[0]![1] as RequestInit & { [ATTEMPT_ABORT]?: unknown };
    expect(init.signal).toBe(controller.signal);
    expect(init.method).toBe('HEAD');
    expect(ATTEMPT_ABORT in init).toBe(false);
  });
});
