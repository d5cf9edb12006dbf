import { describe, expect, it } from 'vitest';
import { expectExitByItself } from '../helpers/child.js';
import { httpServer, sendJson } from '../helpers/servers.js';
import { makeConversation } from '../../src/testing.js';

describe('resource hygiene', () => {
  it('lets a process that made 1,000 calls (successes, 500s, retries, timeouts, aborts) exit by itself', async () => {
    const server = await httpServer((req, res) => {
      const kind = req.url?.split('/')[2];
      if (kind === 'ok') sendJson(res, 200, makeConversation());
      else if (kind === 'fail') sendJson(res, 500, { error: 'boom' });
      else if (kind === 'retry') sendJson(res, 503, {}, { 'retry-after-ms': '1' });
      // 'slow' and 'abort' never answer: the client must give up and clean up.
    });
    // Nothing keeps it alive after the last call: no 5 s socket keep-alive, no 30 s timer
    // (it must be gone 2.5 s after its tally). The kill bound is only a backstop: the calls
    // take 4-5 s here, and over 20 s on a 2-core machine running other test files.
    const { result } = await expectExitByItself(
      'test/fixtures/thousand-calls.ts',
      server.baseUrl,
      55_000,
    );
    expect(result).toEqual({
      resolved: 200,
      InternalServerError: 400,
      APIConnectionTimeoutError: 200,
      APIUserAbortError: 200,
    });
    // Every call but an abort that fired before its request left reached the server.
    expect(server.requests.length).toBeGreaterThanOrEqual(1_000);
    expect(server.requests.length).toBeLessThanOrEqual(1_200);
  }, 60_000);
});
