/**
 * A hand-made `Call` for the policy unit tests: a client context with an
 * injected fetch, a scope from a memory coordinator on an injected clock, a
 * redactor and a log whose logger records every line. Steps are then driven
 * one at a time with a stub `next`, no network and no client.
 */
import type { BudgetNumbers } from '../../src/coordination/budget.js';
import type { Clock } from '../../src/coordination/clock.js';
import {
  OPEN_SCOPE,
  type BreakerNumbers,
  type RateNumbers,
  type Scope,
} from '../../src/coordination/coordinator.js';
import { MemoryCoordinator } from '../../src/coordination/memory.js';
import type { CallSettings } from '../../src/options.js';
import { newCall, type Call, type ClientContext, type Outcome } from '../../src/pipeline.js';
import { Log } from '../../src/telemetry/log.js';
import { Redactor } from '../../src/telemetry/redact.js';
import { chooseTransport } from '../../src/transports/choose-transport.js';
import type {
  FetchLike,
  GetConversationParams,
  LogLevel,
  Logger,
  Middleware,
  ValidationReport,
} from '../../src/types.js';

export const apiKey = 'ck_unit_policy_secret';
export const origin = 'https://api.chat-dash.test';
export const url = `${origin}/v1/public/agents/agent_1/conversations/conv_1`;

export interface LogLine {
  level: keyof Logger;
  message: string;
  fields: Record<string, unknown> | undefined;
}

export interface CallOptions {
  fetch?: FetchLike;
  /** The clock of the scope and the call; `Date.now` (faked by `vi.useFakeTimers`) by default. */
  clock?: Clock;
  /** Pass one coordinator to several calls to give them one scope, as one client's calls have. */
  coordinator?: MemoryCoordinator;
  settings?: Partial<CallSettings>;
  params?: GetConversationParams;
  middleware?: Middleware[];
  validate?: boolean | 'report';
  onValidationIssue?: (report: ValidationReport) => void;
  logLevel?: LogLevel;
  budget?: BudgetNumbers | false;
  rateLimit?: RateNumbers | false;
  circuitBreaker?: BreakerNumbers | false;
}

export interface Harness {
  call: Call;
  context: ClientContext;
  scope: Scope;
  coordinator: MemoryCoordinator;
  /** Every line the client's log wrote, in order. */
  logs: LogLine[];
}

export function makeCall(options: CallOptions = {}): Harness {
  const clock = options.clock ?? (() => Date.now());
  const coordinator = options.coordinator ?? new MemoryCoordinator(clock);
  const logs: LogLine[] = [];
  const record = (level: keyof Logger) => (message: string, fields?: Record<string, unknown>) =>
    void logs.push({ level, message, fields });
  const logger: Logger = {
    error: record('error'),
    warn: record('warn'),
    info: record('info'),
    debug: record('debug'),
  };
  const redactor = new Redactor(apiKey);
  const log = new Log(options.logLevel ?? 'debug', logger, redactor);
  const scope = coordinator[OPEN_SCOPE](origin, apiKey, {
    budget: options.budget ?? false,
    rateLimit: options.rateLimit ?? false,
    circuitBreaker: options.circuitBreaker ?? false,
    log,
  });
  const headers = { Accept: 'application/json', Authorization: apiKey };
  const context: ClientContext = {
    transport: chooseTransport(
      options.fetch ??
        (() => Promise.reject(new Error('this test sends nothing: no fetch was given'))),
      options.middleware ?? [],
    ),
    headers,
    redactor,
    log,
    scope,
    clock,
    validate: options.validate ?? false,
    onValidationIssue: options.onValidationIssue,
    middleware: options.middleware ?? [],
    tracing: false,
  };
  const call = newCall(
    url,
    options.params ?? { agentId: 'agent_1', conversationId: 'conv_1' },
    {
      signal: undefined,
      timeoutMs: 30_000,
      maxRetries: 2,
      maxResponseBytes: 10_485_760,
      deadlineMs: undefined,
      ...options.settings,
    },
    context,
  );
  call.headers = headers;
  return { call, context, scope, coordinator, logs };
}

/** A settled outcome for a stub `next` to resolve with. */
export function outcome(call: Call, status = 200, headers: Record<string, string> = {}): Outcome {
  return {
    data: { _id: 'conv_1' },
    response: new Response('{"_id":"conv_1"}', { status, headers }),
    requestId: undefined,
    attempts: call.attempts,
    text: '{"_id":"conv_1"}',
  };
}

/** A promise that never settles: a transport that hangs. */
export const never = () => new Promise<Outcome>(() => {});

export { failure } from './settle.js';
