/**
 * An injected fetch for pure unit tests only: records each call and answers
 * with a canned Response. Integration and fault tests use real servers.
 */
import { vi } from 'vitest';

export interface RecordedCall {
  url: string;
  method: string | undefined;
  headers: Headers;
}

export function fakeFetch(
  respond: (call: RecordedCall, n: number) => Response | Promise<Response> = () => json(200, {}),
) {
  const calls: RecordedCall[] = [];
  const fetch = vi.fn(async (input: string, init: RequestInit) => {
    const call = { url: input, method: init.method, headers: new Headers(init.headers) };
    calls.push(call);
    return respond(call, calls.length - 1);
  });
  return { fetch, calls };
}

export function json(
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json', ...headers },
  });
}
