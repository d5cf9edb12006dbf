/**
 * What one attempt leaves behind, as a step: its record in `attempts`, its
 * CLIENT span (which also writes `traceparent` into the attempt's headers),
 * its metrics (and those of the wait before it) and its `debug` line. Wraps
 * the timeout and the transport, so the duration runs from sending to the
 * last byte of the body (or the failure).
 */
import { APIError, ResponseValidationError } from '../errors.js';
import type { Clock } from '../coordination/clock.js';
import type { Call, Step } from '../pipeline.js';
import type { Redactor } from '../redact.js';
import { loggedHeaders, type Log } from '../telemetry/log.js';
import { requestId } from '../telemetry/request-id.js';
import type { AttemptSpan } from '../telemetry/tracing.js';
import type { Attempt } from '../types.js';
import { round } from './waits.js';

/** What the observe step is made with: the client's request headers and its redactor. */
export interface ObserveOptions {
  /** The request headers, Authorization included; copied per attempt. */
  readonly headers: Readonly<Record<string, string>>;
  readonly redactor: Redactor;
}

/** The observe step of one client: its attempts are timed on `clock` and logged to `log`. */
export function observe(options: ObserveOptions, clock: Clock, log: Log): Step {
  const { headers: clientHeaders, redactor } = options;
  const logAttempt = (
    call: Call,
    entry: Attempt,
    headers: Record<string, string>,
    responseHeaders: Headers | undefined,
  ): void => {
    const outcome = entry.status !== undefined ? String(entry.status) : (entry.error ?? '');
    log.debug(`GET ${call.url} attempt ${entry.attempt}: ${outcome} in ${entry.durationMs} ms`, {
      method: 'GET',
      url: call.url,
      attempt: entry.attempt,
      status: entry.status,
      error: entry.error,
      durationMs: entry.durationMs,
      requestId: responseHeaders && requestId(responseHeaders, redactor),
      headers: loggedHeaders(headers),
    });
  };

  // The attempt ended: its record, span, metrics and debug line, the same for either outcome.
  // Made once per client, not per attempt: the attempt's state comes as arguments.
  const end = (
    call: Call,
    entry: Attempt,
    started: number,
    span: AttemptSpan | undefined,
    headers: Record<string, string>,
    errorType: string | undefined,
    answer: { readonly headers: Headers } | undefined,
  ): void => {
    const ms = clock.now() - started;
    entry.durationMs = round(ms);
    call.attempts.push(entry);
    span?.end(entry.status, errorType);
    call.metrics?.attempt(ms, entry.status, errorType);
    // The response's headers only for the debug line: createUndiciFetch builds them on first use.
    if (log.debugOn) logAttempt(call, entry, headers, answer?.headers);
  };

  return function observe(call, next) {
    const headers = { ...clientHeaders }; // a copy: tracing adds traceparent, a custom fetch may mutate it
    call.headers = headers;
    const span = call.span?.attempt(call.n, headers);
    call.metrics?.sending(call);
    const entry: Attempt = { attempt: call.n, durationMs: 0 };
    // Attempt 1 held by a pause or the rate limit carries the wait before it (there is no record before it).
    if (call.attempts.length === 0 && call.heldSource !== undefined)
      Object.assign(entry, { delayMs: round(call.heldMs), delaySource: call.heldSource });
    const started = clock.now();
    return next().then(
      (outcome) => {
        entry.status = outcome.response.status;
        end(call, entry, started, span, headers, undefined, outcome.response);
        return outcome;
      },
      (error: Error) => {
        const answered = error instanceof APIError || error instanceof ResponseValidationError;
        if (answered) entry.status = error.status;
        else entry.error = error.name;
        // As on the span: the status for an error answer, the class name when none came.
        end(
          call,
          entry,
          started,
          span,
          headers,
          error instanceof APIError ? String(error.status) : error.name,
          answered ? error : undefined,
        );
        throw error;
      },
    );
  };
}
