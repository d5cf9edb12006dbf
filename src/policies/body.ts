/**
 * Bounded body reading: a hostile upstream (a gzip bomb, an endless stream)
 * must not take the process's memory. Bytes are counted after
 * `Content-Encoding` is undone, as the transport hands them over, and reading
 * stops at the limit with the stream cancelled.
 */
import { headerValue } from '../transports/light-headers.js';

/** A non-2xx body is read up to this much: enough for any error document. */
export const ERROR_BODY_LIMIT = 65_536;

export interface Body {
  text: string;
  /** The body had more than `limit` bytes (only the first `limit` were read). */
  overLimit: boolean;
}

/**
 * Reads at most `limit` decoded bytes. With `refuse`, a declared plain
 * `Content-Length` over the limit is refused before reading anything;
 * without, the first `limit` bytes are kept. `fromTransport`: the response
 * came from the transport, which holds a body to its `Content-Length`; a
 * `Response` a middleware made can declare any length over any body.
 */
export async function readBody(
  response: Response,
  limit: number,
  refuse: boolean,
  fromTransport = true,
): Promise<Body> {
  const length = declaredLength(response);
  // Fast path: a plain body of known, acceptable size. The transport fails a body
  // longer than its Content-Length, so text() cannot read past the limit.
  if (fromTransport && length !== undefined && length <= limit)
    return { text: await response.text(), overLimit: false };
  if (length !== undefined && length > limit && refuse) {
    cancel(response);
    return { text: '', overLimit: true };
  }
  const body = response.body as unknown as
    AsyncIterable<Uint8Array> | ReadableStream<Uint8Array> | null;
  if (!body) return { text: '', overLimit: false };
  const decoder = new TextDecoder();
  let text = '';
  let total = 0;
  const reader = 'getReader' in body ? iterate(body.getReader()) : body[Symbol.asyncIterator]();
  try {
    for (let step = await reader.next(); !step.done; step = await reader.next()) {
      const chunk = step.value;
      if (total + chunk.byteLength > limit) {
        text += decoder.decode(chunk.subarray(0, limit - total));
        return { text, overLimit: true };
      }
      total += chunk.byteLength;
      text += decoder.decode(chunk, { stream: true });
    }
    return { text: text + decoder.decode(), overLimit: false };
  } finally {
    // Stops the transport at once (and undoes no more gzip) when we leave early.
    void reader.return?.()?.catch(() => {});
  }
}

/** Content-Length, when it counts decoded bytes (no Content-Encoding) and is a plain number. */
function declaredLength(response: Response): number | undefined {
  const value = headerValue(response, 'content-length');
  if (value === null || !/^\d+$/.test(value)) return undefined;
  return encoded(response) ? undefined : Number(value);
}

function encoded(response: Response): boolean {
  const encoding = headerValue(response, 'content-encoding');
  return encoding !== null && encoding.trim().toLowerCase() !== 'identity' && encoding !== '';
}

function cancel(response: Response): void {
  const body = response.body as { cancel?: () => Promise<void>; destroy?: () => void } | null;
  if (typeof body?.cancel === 'function') void body.cancel().catch(() => {});
  else body?.destroy?.();
}

/** A web stream reader as an iterator whose `return()` cancels the stream. */
function iterate(reader: ReadableStreamDefaultReader<Uint8Array>): AsyncIterator<Uint8Array> {
  return {
    next: () => reader.read() as Promise<IteratorResult<Uint8Array>>,
    return: async () => {
      await reader.cancel();
      return { done: true, value: undefined };
    },
  };
}
