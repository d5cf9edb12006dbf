/**
 * One request of `createUndiciFetch`, as an undici dispatch handler, and the
 * light `Response` it resolves with.
 *
 * Not `undici.request`: that wraps every body in a Node `Readable` (stream
 * state, events, its own consume machinery) and parses the URL once more; the
 * client reads a body of a few kilobytes whole, and that wrapper cost about a
 * quarter of the request's CPU. Here the body's chunks are kept in an array
 * until `text()` takes them all, or a web stream takes them one by one; the
 * socket is paused while 64 KiB wait unread, as undici's `Readable` did.
 */
import type * as Undici from 'undici';
import type { AttemptAbort } from './attempt-abort.js';
import { HEADER_VALUE, plain, rawValue, toHeaders, type RawHeaders } from './light-headers.js';

type Controller = Undici.Dispatcher.DispatchController;

/** What can abort a request: the caller's AbortSignal, or the client's light attempt abort. */
export type Abort = AbortSignal | AttemptAbort;

// A paused socket holds this much unread (undici's Readable's highWaterMark).
const HIGH_WATER_MARK = 65_536;

// Statuses whose response has no body (fetch's "null body status"), so `body` is null.
const NULL_BODY = new Set([101, 103, 204, 205, 304]);

/** fetch's shape for a transport error: the abort's reason when aborted, else a TypeError with the cause. */
export function failure(cause: unknown, abort: Abort | undefined, message: string): unknown {
  return abort?.aborted ? abort.reason : new TypeError(message, { cause });
}

/**
 * The dispatch handler: resolves with a `LightResponse` at the headers, then
 * feeds it the body. It listens to its abort itself (as the signal's
 * `handleEvent`, or the attempt abort's listener) until the body is complete.
 */
export class Exchange implements Undici.Dispatcher.DispatchHandler {
  #controller: Controller | undefined;
  #response: LightResponse | undefined;
  #settled = false;
  #done = false;

  constructor(
    readonly url: string,
    readonly abort: Abort | undefined,
    readonly statusTexts: Record<number, string | undefined>,
    readonly resolve: (response: Response) => void,
    readonly reject: (error: unknown) => void,
  ) {
    if (!abort) return;
    if ('listener' in abort) abort.listener = this;
    else abort.addEventListener('abort', this, { once: true });
  }

  /** The caller's signal fired. */
  handleEvent(): void {
    this.aborted(this.abort!.reason);
  }

  /** The abort fired: stop the request where it is (connecting, headers or body). */
  aborted(reason: unknown): void {
    this.#finish();
    if (!this.#settled) {
      this.#settled = true;
      this.reject(reason);
    }
    this.#response?.fail(reason);
    // Before the request has a socket there is no controller yet: onRequestStart aborts it.
    this.#controller?.abort(reason as Error);
  }

  onRequestStart(controller: Controller): void {
    this.#controller = controller;
    if (this.abort?.aborted) controller.abort(this.abort.reason as Error);
  }

  onResponseStart(
    controller: Controller,
    statusCode: number,
    headers: Record<string, string | string[] | undefined>,
  ): void {
    // An informational head (1xx) is not the answer; undici.request skipped it too.
    if (statusCode < 200 || this.#settled) return;
    this.#settled = true;
    let response: LightResponse;
    try {
      response = new LightResponse(this, controller, statusCode, headers);
    } catch (cause) {
      // A header value Headers refuses: the body is never handed out, so free its socket.
      this.#finish();
      this.reject(failure(cause, this.abort, 'fetch failed'));
      controller.abort(cause as Error);
      return;
    }
    this.#response = response;
    this.resolve(response as unknown as Response);
  }

  onResponseData(controller: Controller, chunk: Buffer): void {
    this.#response?.push(controller, chunk);
  }

  onResponseEnd(): void {
    this.#finish();
    this.#response?.end();
  }

  onResponseError(_controller: Controller | undefined, error: Error): void {
    this.#finish();
    if (!this.#settled) {
      this.#settled = true;
      this.reject(failure(error, this.abort, 'fetch failed'));
    }
    this.#response?.fail(failure(error, this.abort, 'terminated'));
  }

  #finish(): void {
    if (this.#done) return;
    this.#done = true;
    const abort = this.abort;
    if (!abort) return;
    if ('listener' in abort) abort.listener = undefined;
    else abort.removeEventListener('abort', this);
  }
}

/** UTF-8, skipping a byte order mark, as fetch's text() and undici's did. */
function decode(whole: Buffer): string {
  const bom = whole.length > 2 && whole[0] === 0xef && whole[1] === 0xbb && whole[2] === 0xbf;
  return whole.toString('utf8', bom ? 3 : 0);
}

/** The part of `Response` the client reads, over the body's chunks as they arrive. */
class LightResponse {
  readonly status: number;
  readonly statusText: string;
  readonly ok: boolean;
  readonly url: string;
  readonly redirected = false;
  readonly type = 'basic';
  readonly #controller: Controller;
  readonly #nullBody: boolean;
  readonly #raw: RawHeaders;
  #headers: Headers | undefined;
  #chunks: Buffer[] = [];
  #buffered = 0;
  #ended = false;
  #error: { reason: unknown } | undefined;
  /** Set while a reader waits for the next chunk, the end or an error. */
  #wake: (() => void) | undefined;
  /** `text()` or `arrayBuffer()` takes the whole body: nothing to pause for. */
  #whole = false;
  #stream: ReadableStream<Uint8Array> | undefined;
  #used = false;

  constructor(exchange: Exchange, controller: Controller, status: number, headers: RawHeaders) {
    this.status = status;
    this.statusText = exchange.statusTexts[status] ?? '';
    this.ok = status >= 200 && status < 300;
    this.#raw = headers;
    // Built now unless Headers surely accepts them: one it refuses fails the request here.
    if (!plain(headers)) this.#headers = toHeaders(headers);
    this.url = exchange.url;
    this.#controller = controller;
    this.#nullBody = NULL_BODY.has(status);
    if (this.#nullBody) {
      // As fetch does: bytes after such a head are no body. undici hands over a 205's
      // Content-Length worth as one, and fails a 204 or 304 whose Content-Length it did not
      // get (a 304 carries its representation's length). Once the head has been handed
      // over, a response not yet complete is dropped: that frees its socket, or closes it
      // while those bytes are still arriving (as destroying undici.request's body did).
      queueMicrotask(() => {
        if (!this.#ended && !this.#error) controller.abort(new Error('no body expected'));
      });
    }
  }

  /** A real `Headers`, made on first use. */
  get headers(): Headers {
    return (this.#headers ??= toHeaders(this.#raw));
  }

  /** `headers.get(name)` for a lower-case name, without making the `Headers`. */
  [HEADER_VALUE](name: string): string | null {
    return this.#headers ? this.#headers.get(name) : rawValue(this.#raw, name);
  }

  get bodyUsed(): boolean {
    return this.#used;
  }

  /** A web stream over the body, made on first use; nothing is read ahead of the reader. */
  get body(): ReadableStream<Uint8Array> | null {
    if (this.#nullBody) return null;
    return (this.#stream ??= this.#toStream());
  }

  text(): Promise<string> {
    // A null body reads as empty, and as often as asked, as fetch's does.
    if (this.#nullBody) return Promise.resolve('');
    try {
      const whole = this.#readAll();
      return whole instanceof Promise ? whole.then(decode) : Promise.resolve(decode(whole));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  async json(): Promise<unknown> {
    return JSON.parse(await this.text());
  }

  async arrayBuffer(): Promise<ArrayBuffer> {
    if (this.#nullBody) return new ArrayBuffer(0);
    const whole = await this.#readAll();
    return new Uint8Array(whole).buffer;
  }

  async bytes(): Promise<Uint8Array> {
    return new Uint8Array(await this.arrayBuffer());
  }

  clone(): never {
    throw new TypeError('createUndiciFetch: Response.clone() is not supported');
  }

  /** From the handler: a chunk of the body. */
  push(controller: Controller, chunk: Buffer): void {
    if (this.#nullBody) return;
    this.#chunks.push(chunk);
    this.#buffered += chunk.length;
    if (!this.#whole && this.#buffered >= HIGH_WATER_MARK) controller.pause();
    this.#wakeUp();
  }

  /** From the handler: the body is complete. */
  end(): void {
    this.#ended = true;
    this.#wakeUp();
  }

  /** From the handler or the abort: the body will not complete. */
  fail(reason: unknown): void {
    if (this.#ended || this.#error) return;
    this.#error = { reason };
    this.#wakeUp();
  }

  #wakeUp(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  #take(): void {
    if (this.#used) throw new TypeError('Body is unusable: Body has already been read');
    this.#used = true;
  }

  /** Waits for the next event on the body (a chunk, the end, an error). */
  #next(): Promise<void> {
    return new Promise((resolve) => (this.#wake = resolve));
  }

  /** The whole body: at once when it has all arrived (a small body comes with its head). */
  #readAll(): Buffer | Promise<Buffer> {
    this.#take();
    this.#whole = true;
    if (this.#ended) return this.#concat();
    this.#controller.resume();
    return this.#rest();
  }

  async #rest(): Promise<Buffer> {
    while (!this.#ended) {
      if (this.#error) throw this.#error.reason;
      await this.#next();
    }
    return this.#concat();
  }

  #concat(): Buffer {
    const chunks = this.#chunks;
    this.#chunks = [];
    return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, this.#buffered);
  }

  #toStream(): ReadableStream<Uint8Array> {
    let started = false;
    return new ReadableStream<Uint8Array>(
      {
        pull: async (stream) => {
          if (!started) {
            started = true;
            this.#take();
          }
          while (this.#chunks.length === 0 && !this.#ended) {
            if (this.#error) throw this.#error.reason;
            await this.#next();
          }
          const chunk = this.#chunks.shift();
          if (chunk === undefined) return stream.close();
          this.#buffered -= chunk.length;
          if (this.#buffered < HIGH_WATER_MARK) this.#controller.resume();
          stream.enqueue(chunk);
        },
        cancel: () => {
          this.#used = true;
          this.#chunks = [];
          // Destroys the request, and with it the socket when the body is not complete.
          if (!this.#ended) this.#controller.abort(new Error('body cancelled'));
        },
      },
      // Nothing is read ahead: a consumer that stops at a size limit stops the socket.
      { highWaterMark: 0 },
    );
  }
}
