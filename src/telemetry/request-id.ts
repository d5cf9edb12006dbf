import type { Redactor } from '../redact.js';

/**
 * The `x-request-id` response header, redacted: it is server text like any
 * other, and a server can echo the key in any header. Every place that shows
 * a request id (errors, results, logs, reports) reads it here.
 */
export function requestId(headers: Headers, redactor: Redactor): string | undefined {
  const id = headers.get('x-request-id');
  return id === null ? undefined : redactor.text(id);
}
