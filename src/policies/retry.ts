/**
 * Retries, as the outermost step of an attempt: run the rest, and on a
 * failure decide whether to go again (retryable, retries left, within the
 * deadline, paid for by the scope's retry budget), wait, and run it again.
 * A success refunds the budget. The delays themselves are in `backoff.ts`.
 */
import {
  APIConnectionTimeoutError,
  APIError,
  CircuitOpenError,
  type ChatDashError,
} from '../errors.js';
import type { Scope } from '../coordination/coordinator.js';
import type { Call, Step } from '../pipeline.js';
import type { Log } from '../telemetry/log.js';
import { deadlineError, isFinal, round, type Waits } from './waits.js';
import { isRetryable, retryDelay, type Delay } from './backoff.js';

/** What the retry step is made with: the jitter's source (`Math.random`, or a simulation's seeded one). */
export interface RetryOptions {
  readonly random: () => number;
}

/** The retry step of one client: its scope pays for retries, its clock times the waits. */
export function retry(options: RetryOptions, scope: Scope, waits: Waits, log: Log): Step {
  const { clock } = waits;
  /** The wait before the next attempt, or a throw: final, not retryable, out of retries, past the deadline, out of budget. */
  const delayBefore = async (call: Call, error: ChatDashError): Promise<Delay> => {
    if (isFinal(error) || call.n > call.settings.maxRetries || !isRetryable(error)) throw error;
    let delay = retryDelay(
      call.n,
      error instanceof APIError ? error.headers : undefined,
      options.random,
    );
    const held = scope.pausedFor();
    if (held > delay.ms) delay = { ms: held, source: 'rate-limit' };
    if (delay.ms >= waits.timeLeft(call)) throw deadlineError(call, error);
    const afterTimeout = error instanceof APIConnectionTimeoutError;
    const paid = scope.payRetry(afterTimeout);
    if (paid === true || (paid !== false && (await payment(call, paid, afterTimeout, error)))) {
      if (delay.ms < waits.timeLeft(call)) return delay;
      // Redis answered late: the retry cannot wait out its delay, so it is not made, nor paid for.
      scope.unpay(afterTimeout);
      throw deadlineError(call, error);
    }
    log.warn('retry budget exhausted: not retrying', {
      url: call.url,
      attempt: call.n,
      tokens: scope.budgetTokens(),
    });
    throw error;
  };

  /**
   * A payment Redis must answer, waited for no longer than the deadline nor
   * past an abort; a payment that goes through after the call gave up on it
   * goes back.
   */
  const payment = (call: Call, paid: Promise<boolean>, afterTimeout: boolean, error: Error) =>
    waits.watch(call, paid, error).catch((reason: unknown) => {
      void paid.then((took) => took && scope.unpay(afterTimeout));
      throw reason;
    });

  return async function retry(call, next) {
    // What the retry about to run paid for (after a timeout or not), until it runs.
    let paid: boolean | undefined;
    for (;;) {
      try {
        const outcome = await next();
        scope.refund();
        return outcome;
      } catch (caught) {
        // The open circuit refused the retry unsent: it pays nothing, so what it paid goes back.
        if (paid !== undefined && caught instanceof CircuitOpenError) scope.unpay(paid);
        paid = undefined;
        const error = caught as ChatDashError;
        const delay = await delayBefore(call, error);
        paid = error instanceof APIConnectionTimeoutError;
        const last = call.attempts.at(-1)!;
        last.delayMs = round(delay.ms);
        last.delaySource = delay.source;
        // url and the failed response's request id: what to grep for, and what to quote to ChatDash.
        log.info(`retrying GET ${call.url} in ${round(delay.ms)} ms: ${error.message}`, {
          url: call.url,
          attempt: call.n + 1,
          delayMs: round(delay.ms),
          delaySource: delay.source,
          reason: error.message,
          requestId: (error as Partial<APIError>).requestId,
        });
        const ends = clock.now() + delay.ms;
        await waits.sleep(call, delay.ms);
        // Note: a timer can fire up to 1 ms early by the clock; the rest of a pause
        // this call waited for must not show up as a hold by another call.
        const early = ends - clock.now();
        if (early > 0) await waits.sleep(call, early);
        call.n++;
      }
    }
  };
}
