/**
 * Writes one JSON response with its byte length. Shared by the testing
 * subpath's mock server and the repository's own test servers, so both send
 * bodies the same way; it is not exported from any entry point.
 */
import type { ServerResponse } from 'node:http';

/** `headers` come last, so a caller can replace `content-type` or `content-length`. */
export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}
