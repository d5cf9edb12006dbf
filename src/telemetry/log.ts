/**
 * Log lines an operator can read at 3 a.m.: one per attempt at `debug`, one
 * per retry at `info`, the unusual at `warn`. Request headers go through an
 * allowlist (Azure core-rest-pipeline's approach): anything not on it, the
 * `Authorization` header included, is written `REDACTED`. A logger that
 * throws never breaks a call.
 */
import { escapeControl, type Redactor } from '../redact.js';
import type { Logger, LogLevel } from '../types.js';

const RANK: Record<LogLevel, number> = { off: 0, error: 1, warn: 2, info: 3, debug: 4 };
const SHOWN_HEADERS = new Set([
  'accept',
  'user-agent',
  'content-type',
  'traceparent',
  'x-request-id',
]);

export class Log {
  readonly debugOn: boolean;
  readonly infoOn: boolean;
  readonly warnOn: boolean;
  readonly #logger: Logger;
  readonly #redactor: Redactor;

  constructor(level: LogLevel, logger: Logger, redactor: Redactor) {
    this.debugOn = RANK[level] >= RANK.debug;
    this.infoOn = RANK[level] >= RANK.info;
    this.warnOn = RANK[level] >= RANK.warn;
    this.#logger = logger;
    this.#redactor = redactor;
  }

  debug(message: string, fields: Record<string, unknown>): void {
    if (this.debugOn) this.#write('debug', message, fields);
  }

  info(message: string, fields: Record<string, unknown>): void {
    if (this.infoOn) this.#write('info', message, fields);
  }

  warn(message: string, fields: Record<string, unknown>): void {
    if (this.warnOn) this.#write('warn', message, fields);
  }

  #write(level: 'debug' | 'info' | 'warn', message: string, fields: Record<string, unknown>): void {
    try {
      ignoreRejection(
        this.#logger[level](`chatdash-client: ${this.#shown(message)}`, this.#clean(fields)),
      );
    } catch {
      // The logger's failure is the logger's: the call goes on.
    }
  }

  /**
   * Strings, and strings one level down (header values), as `#shown` makes
   * them: a last line of defence for anything a server sent.
   */
  #clean(fields: Record<string, unknown>): Record<string, unknown> {
    const clean: Record<string, unknown> = {};
    for (const [name, value] of Object.entries(fields)) {
      if (value === undefined) continue;
      clean[name] =
        typeof value === 'string'
          ? this.#shown(value)
          : typeof value === 'object' && value !== null && !Array.isArray(value)
            ? Object.fromEntries(
                Object.entries(value).map(([k, v]) => [
                  this.#shown(k),
                  typeof v === 'string' ? this.#shown(v) : v,
                ]),
              )
            : value;
    }
    return clean;
  }

  /** Redacted of the key by value, and control characters escaped: a reason phrase can hold ESC or NUL. */
  #shown(text: string): string {
    return escapeControl(this.#redactor.text(text));
  }
}

/** Request headers for a log line: allowlisted values kept, every other value `REDACTED`. */
export function loggedHeaders(headers: Record<string, string>): Record<string, string> {
  const shown: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    const lower = name.toLowerCase();
    shown[lower] = SHOWN_HEADERS.has(lower) ? value : 'REDACTED';
  }
  return shown;
}

/**
 * A callback typed `=> void` can still be async: its rejection, left
 * unhandled, would end the process (Node's default since 15), so it is dropped.
 */
export function ignoreRejection(result: unknown): void {
  if (typeof (result as PromiseLike<unknown> | undefined)?.then === 'function')
    (result as PromiseLike<unknown>).then(undefined, () => {});
}
