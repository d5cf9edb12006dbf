/**
 * The shape of one call as it runs: the `Call` every step reads and writes,
 * and the runner that threads it through an ordered list of steps. A step is
 * `(call, next) => Promise<Outcome>`, like Azure core-rest-pipeline's
 * `sendRequest(request, next)`: it may act before `next()`, after it, around
 * it, or instead of it (and `next` may run more than once: that is a retry).
 * Each step is made once per client by a factory that hands it what it needs
 * (its settings, the scope, the clock, the log), so a step reads no more of
 * the call than the call's own data.
 */
import type { Scope } from './coordination/coordinator.js';
import type { Clock } from './coordination/clock.js';
import type { CallSettings } from './options.js';
import type { Log } from './telemetry/log.js';
import type { Redactor } from './redact.js';
import type { Abort, Transport } from './transports/transport.js';
import type { CallSpan } from './telemetry/tracing.js';
import type { Recorder } from './telemetry/metrics.js';
import type {
  Attempt,
  ConversationWithResponse,
  DelaySource,
  GetConversationParams,
  Middleware,
  ValidationReport,
} from './types.js';

/** A settled call: what both methods return, plus the text a de-duplicated caller re-parses. */
export interface Outcome extends ConversationWithResponse {
  text: string;
}

/** What every call of one client shares: fixed when the client is made. */
export interface ClientContext {
  /** How attempts are sent and aborted, chosen once for the client's fetch and middleware. */
  readonly transport: Transport;
  /** The request headers, Authorization included; copied per attempt. */
  readonly headers: Readonly<Record<string, string>>;
  readonly redactor: Redactor;
  readonly log: Log;
  readonly scope: Scope;
  readonly clock: Clock;
  /** The retry jitter's source: `Math.random`, or a simulation's seeded one. */
  readonly random: () => number;
  readonly validate: boolean | 'report';
  readonly onValidationIssue: ((report: ValidationReport) => void) | undefined;
  readonly middleware: readonly Middleware[];
  readonly tracing: boolean;
}

/**
 * One call on its way through the steps: only what is its own. What every
 * call of the client shares (scope, clock, log, transport) each step got
 * when it was made.
 */
export interface Call {
  readonly url: string;
  readonly params: GetConversationParams;
  readonly settings: CallSettings;
  /** Every attempt sent so far; the one in flight is pushed when it ends. */
  readonly attempts: Attempt[];
  /** When the whole call must end, on the client's clock; undefined without a deadline. */
  deadlineAt: number | undefined;
  span: CallSpan | undefined;
  /** Where this call's metrics go; undefined when nothing records them. */
  metrics: Recorder | undefined;
  /** The number (1-based) of the attempt being made. */
  n: number;
  /** How long attempt 1 was held before it was sent, and why (it has no record before it). */
  heldMs: number;
  heldSource: DelaySource | undefined;
  /** Aborted when this attempt's time is up or the caller aborts; made by the transport. */
  abort: Abort | undefined;
  /** This attempt's request headers (a copy: tracing adds `traceparent`). */
  headers: Record<string, string>;
}

export type Next = () => Promise<Outcome>;
export type Step = (call: Call, next: Next) => Promise<Outcome>;

/** Runs `call` through `steps` in order; the last step's `next` is `last`. */
export function run(steps: readonly Step[], call: Call, last: (call: Call) => Promise<Outcome>) {
  return at(steps, 0, call, last);
}

// Module-level, so a call makes one closure per step (its `next`) and no more.
function at(
  steps: readonly Step[],
  i: number,
  call: Call,
  last: (call: Call) => Promise<Outcome>,
): Promise<Outcome> {
  const step = steps[i];
  if (!step) return last(call);
  try {
    return step(call, () => at(steps, i + 1, call, last));
  } catch (error) {
    // A step that throws before its first await still rejects the call, never throws.
    return Promise.reject(error);
  }
}

/** A call about to run: no attempt made yet. */
export function newCall(
  url: string,
  params: GetConversationParams,
  settings: CallSettings,
  headers: Readonly<Record<string, string>>,
): Call {
  return {
    url,
    params,
    settings,
    attempts: [],
    deadlineAt: undefined,
    span: undefined,
    metrics: undefined,
    n: 1,
    heldMs: 0,
    heldSource: undefined,
    abort: undefined,
    headers,
  };
}
