/**
 * The retry budget: a token bucket shared by every call of a scope, so a dead
 * upstream sees about one request per call instead of 1 + maxRetries. The
 * numbers are AWS SDK v3's standard mode (smithy-typescript util-retry's
 * `constants.ts`): a retry costs 5 tokens, a retry after a timeout 10.
 */
/** The bucket's numbers, all filled in. */
export interface BudgetNumbers {
  capacity: number;
  retryCost: number;
  timeoutCost: number;
}

export const DEFAULT_RETRY_BUDGET: Readonly<BudgetNumbers> = Object.freeze({
  capacity: 500,
  retryCost: 5,
  timeoutCost: 10,
});

/**
 * What a success puts back. smithy refunds a successful retry's whole cost;
 * here every successful call puts back 1 whatever it cost, so an upstream that
 * fails every other request drains the bucket instead of refilling it as fast
 * as retries spend it.
 */
export const SUCCESS_REFUND = 1;

export class RetryBudget {
  #tokens: number;
  readonly #options: BudgetNumbers;

  constructor(options: BudgetNumbers) {
    this.#options = options;
    this.#tokens = options.capacity;
  }

  /** Tokens left (for tests and logs). */
  get tokens(): number {
    return this.#tokens;
  }

  /** Pays for one retry; `false` when the bucket cannot, and then nothing is taken. */
  tryPay(afterTimeout: boolean): boolean {
    const cost = afterTimeout ? this.#options.timeoutCost : this.#options.retryCost;
    if (cost > this.#tokens) return false;
    this.#tokens -= cost;
    return true;
  }

  /** A paid retry that was never sent (the open circuit refused it): its cost goes back. */
  giveBack(afterTimeout: boolean): void {
    const cost = afterTimeout ? this.#options.timeoutCost : this.#options.retryCost;
    this.#tokens = Math.min(this.#options.capacity, this.#tokens + cost);
  }

  /** `count` calls succeeded: tokens back, up to capacity. */
  refill(count = 1): void {
    this.#tokens = Math.min(this.#options.capacity, this.#tokens + SUCCESS_REFUND * count);
  }

  /** Takes what another engine says is left (a shared bucket's answer). */
  set(tokens: number): void {
    this.#tokens = Math.max(0, Math.min(this.#options.capacity, tokens));
  }
}
