import { describe, expectTypeOf, it } from 'vitest';
import type {
  Attempt,
  ChatDashClientOptions,
  DelaySource,
  LogLevel,
  Logger,
  ValidationIssue,
  ValidationReport,
} from '../../src/index.js';

describe('the observability types: log levels, logger, attempts, validation reports', () => {
  it('has five log levels, and any other string is a type error', () => {
    expectTypeOf<LogLevel>().toEqualTypeOf<'off' | 'error' | 'warn' | 'info' | 'debug'>();
    // @ts-expect-error: not a level
    const verbose: ChatDashClientOptions = { logLevel: 'verbose' };
    void verbose;
  });

  it('takes console as a Logger', () => {
    expectTypeOf(console).toExtend<Logger>();
    expectTypeOf<Logger['debug']>().toEqualTypeOf<
      (message: string, fields?: Record<string, unknown>) => void
    >();
  });

  it('shapes an attempt as the public Attempt record: number, status or error, duration, wait', () => {
    expectTypeOf<Attempt>().toEqualTypeOf<{
      attempt: number;
      status?: number;
      error?: string;
      durationMs: number;
      delayMs?: number;
      delaySource?: DelaySource;
    }>();
    expectTypeOf<DelaySource>().toEqualTypeOf<
      'retry-after-ms' | 'retry-after' | 'backoff' | 'rate-limit' | 'throttle'
    >();
  });

  it("gives onValidationIssue the issues, url, status and request id, in 'report' mode", () => {
    expectTypeOf<ValidationReport>().toEqualTypeOf<{
      issues: ValidationIssue[];
      url: string;
      status: number;
      requestId: string | undefined;
    }>();
    expectTypeOf<ChatDashClientOptions['validateResponses']>().toEqualTypeOf<
      boolean | 'report' | undefined
    >();
    expectTypeOf<ChatDashClientOptions['tracing']>().toEqualTypeOf<boolean | undefined>();
    expectTypeOf<ChatDashClientOptions['metrics']>().toEqualTypeOf<boolean | undefined>();
  });
});
