/**
 * The retry budget: a token bucket shared by every call on one client, so a
 * dead upstream sees about one request per call instead of 1 + maxRetries.
 * The numbers are AWS SDK v3's standard mode (smithy-typescript util-retry):
 * a retry costs 5 tokens, a retry after a timeout 10, a success refunds 1.
 */
/** The bucket's numbers, all filled in. */
export interface BudgetNumbers {
  capacity: number;
  retryCost: number;
  timeoutCost: number;
}

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

  /** A call succeeded: one token back, up to capacity. */
  refill(): void {
    this.#tokens = Math.min(this.#options.capacity, this.#tokens + 1);
  }
}
