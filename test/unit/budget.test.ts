/**
 * The retry budget on its own: a token bucket, no network. It exists so that
 * a shared client retrying into a dead upstream does not multiply the outage.
 */
import { describe, expect, it } from 'vitest';
import { RetryBudget } from '../../src/coordination/budget.js';
import { ChatDashError } from '../../src/errors.js';
import { DEFAULT_RETRY_BUDGET } from '../../src/coordination/budget.js';
import { resolveOptions } from '../../src/options.js';

const defaults = { ...DEFAULT_RETRY_BUDGET };

/** How many retries the bucket pays for in a row before it refuses. */
function retriesUntilEmpty(budget: RetryBudget, afterTimeout = false): number {
  let paid = 0;
  while (budget.tryPay(afterTimeout)) paid++;
  return paid;
}

describe('RetryBudget', () => {
  it('has the AWS SDK v3 standard-mode numbers by default: 500 tokens, 5 a retry, 10 after a timeout', () => {
    expect(DEFAULT_RETRY_BUDGET).toEqual({ capacity: 500, retryCost: 5, timeoutCost: 10 });
  });

  it('starts full and pays for 100 retries, then refuses', () => {
    const budget = new RetryBudget(defaults);
    expect(budget.tokens).toBe(500);
    expect(retriesUntilEmpty(budget)).toBe(100);
    expect(budget.tokens).toBe(0);
  });

  it('charges a retry after a timeout twice as much: 50 of them empty the bucket', () => {
    expect(retriesUntilEmpty(new RetryBudget(defaults), true)).toBe(50);
  });

  it('takes nothing when it refuses', () => {
    const budget = new RetryBudget({ capacity: 12, retryCost: 5, timeoutCost: 10 });
    expect(budget.tryPay(true)).toBe(true);
    expect(budget.tryPay(true)).toBe(false);
    expect(budget.tokens).toBe(2);
  });

  it('puts one token back per success, so five successes buy one more retry', () => {
    const budget = new RetryBudget(defaults);
    retriesUntilEmpty(budget);
    for (let i = 0; i < 4; i++) budget.refill();
    expect(budget.tryPay(false)).toBe(false);
    budget.refill();
    expect(budget.tryPay(false)).toBe(true);
    expect(budget.tokens).toBe(0);
  });

  it('never fills past its capacity', () => {
    const budget = new RetryBudget(defaults);
    budget.tryPay(false);
    for (let i = 0; i < 100; i++) budget.refill();
    expect(budget.tokens).toBe(500);
  });
});

describe('the retryBudget option', () => {
  const apiKey = 'ck_unit_budget';
  const budgetOf = (retryBudget: unknown) =>
    resolveOptions({ apiKey, retryBudget } as Parameters<typeof resolveOptions>[0]).retryBudget;

  it('defaults to the standard numbers, fills in a partial object, and turns off with false', () => {
    expect(budgetOf(undefined)).toEqual(defaults);
    expect(budgetOf({ capacity: 50 })).toEqual({ ...defaults, capacity: 50 });
    expect(budgetOf({ retryCost: 1, timeoutCost: undefined })).toEqual({
      ...defaults,
      retryCost: 1,
    });
    expect(budgetOf(false)).toBe(false);
  });

  it.each([
    [true, /retryBudget must be false or an object, got boolean true/],
    [{ capacity: 0 }, /retryBudget\.capacity must be an integer from 1 to 1000000, got number 0/],
    [{ retryCost: -1 }, /retryBudget\.retryCost must be an integer/],
    [{ timeoutCost: '10' }, /retryBudget\.timeoutCost must be an integer .* got string "10"/],
    [{ capacty: 10 }, /^createChatDashClient: retryBudget: unknown option `capacty`$/],
  ])('rejects %j with a ChatDashError that states the rule', (value, message) => {
    expect(() => budgetOf(value)).toThrow(ChatDashError);
    expect(() => budgetOf(value)).toThrow(message);
  });
});
