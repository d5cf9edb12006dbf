/**
 * A hand-made `Call` for the policy unit tests: a client context made as the
 * client makes its own (clientContext), with an injected fetch, a scope from a
 * memory coordinator on an injected clock, and a logger that records every line. Steps are then driven
 * one at a time with a stub `next`, no network and no client: each made through its factory from the
 * call's own client setup, as `steps()` makes them (`step.retry(call, next)`).
 */
import type { BudgetNumbers } from '../../src/coordination/budget.js';
import { timersClock, type Clock } from '../../src/coordination/clock.js';
import {
  type BreakerNumbers,
  type RateNumbers,
  type Scope,
} from '../../src/coordination/coordinator.js';
import { MemoryCoordinator } from '../../src/coordination/memory.js';
import { clientContext, type ClientSetup } from '../../src/client-context.js';
import { breaker } from '../../src/policies/breaker.js';
import { deadline } from '../../src/policies/deadline.js';
import { exchange } from '../../src/policies/exchange.js';
import { observe } from '../../src/policies/observe.js';
import { pause } from '../../src/policies/pause.js';
import { rateLimit } from '../../src/policies/rate-limit.js';
import { retry } from '../../src/policies/retry.js';
import { timeout } from '../../src/policies/timeout.js';
import type { Waits } from '../../src/policies/waits.js';
import { resolveOptions, type CallSettings } from '../../src/options.js';
import { newCall, type Call, type Outcome, type Step } from '../../src/pipeline.js';
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
  /** The clock of the scope and the call; `Date.now` and the timers (faked by `vi.useFakeTimers`) by default. */
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
  context: ClientSetup;
  /** Every step, made once for this call's client through its factory. */
  steps: Steps;
  scope: Scope;
  coordinator: MemoryCoordinator;
  /** Every line the client's log wrote, in order. */
  logs: LogLine[];
}

export function makeCall(options: CallOptions = {}): Harness {
  const clock = options.clock ?? timersClock(() => Date.now());
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
  const settings = resolveOptions({
    apiKey,
    baseUrl: origin,
    fetch:
      options.fetch ??
      (() => Promise.reject(new Error('this test sends nothing: no fetch was given'))),
    middleware: options.middleware ?? [],
    validateResponses: options.validate ?? false,
    ...(options.onValidationIssue ? { onValidationIssue: options.onValidationIssue } : {}),
    logLevel: options.logLevel ?? 'debug',
    logger,
    tracing: false,
    metrics: false,
    retryBudget: options.budget ?? false,
    rateLimit: options.rateLimit ?? false,
    circuitBreaker: options.circuitBreaker ?? false,
    coordinator,
  });
  const context = clientContext(settings, { clock });
  const { scope } = context;
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
    context.headers,
  );
  const steps = makeSteps(context);
  made.set(call, steps);
  return { call, context, steps, scope, coordinator, logs };
}

type Name = 'retry' | 'deadline' | 'breaker' | 'pause' | 'rateLimit' | 'observe' | 'timeout';
type Exchange = (call: Call) => Promise<Outcome>;
type Steps = Record<Name, Step> & { exchange: Exchange; waits: Waits };

function makeSteps(context: ClientSetup): Steps {
  const { scope, waits, log, clock } = context;
  return {
    retry: retry({ random: context.random }, scope, waits, log),
    deadline: deadline(waits),
    breaker: breaker(scope, waits),
    pause: pause(scope, waits, log),
    rateLimit: rateLimit(scope, waits),
    observe: observe(context, clock, log),
    timeout: timeout(context.transport, waits),
    exchange: exchange(context),
    waits,
  };
}

// The steps made for each hand-made call, so a test reads `step.pause(call, next)`.
const made = new WeakMap<Call, Steps>();

function stepsOf(call: Call): Steps {
  const steps = made.get(call);
  if (!steps) throw new Error('this call was not made by makeCall()');
  return steps;
}

/** Each step of the call's own client: `step.retry(call, next)` runs the retry step made for it. */
export const step = Object.fromEntries(
  (['retry', 'deadline', 'breaker', 'pause', 'rateLimit', 'observe', 'timeout'] as const).map(
    (name) => [name, ((call, next) => stepsOf(call)[name](call, next)) satisfies Step],
  ),
) as Record<Name, Step>;

/** The exchange made for the call's client: `send(call)` sends, reads and settles one attempt. */
export const send: Exchange = (call) => stepsOf(call).exchange(call);

/** The call's client's deadline and waits (`Waits`, made by clientContext). */
export const waitsOf = (call: Call): Waits => stepsOf(call).waits;

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
