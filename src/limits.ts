/**
 * Every numeric option's default and range, written once (as smithy's
 * util-retry keeps its numbers in one `constants.ts`): the client's options,
 * the per-call options and the CLI's flags all read them here, so a range
 * cannot drift between the places that check it.
 */
import { integer } from './rules.js';

/** setTimeout treats anything larger as 1 ms. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

export interface Limit {
  /** Used when the option is not given; undefined: the option is off unless given. */
  readonly default: number | undefined;
  readonly min: number;
  readonly max: number;
}

export const LIMITS = {
  timeoutMs: { default: 30_000, min: 1, max: MAX_TIMER_MS },
  maxRetries: { default: 2, min: 0, max: 10 },
  maxResponseBytes: { default: 10_485_760, min: 1, max: 2 ** 31 - 1 },
  deadlineMs: { default: undefined, min: 1, max: MAX_TIMER_MS },
  /** `getConversations`' calls in flight at once. */
  concurrency: { default: 8, min: 1, max: 64 },
} as const satisfies Record<string, Limit>;

export type Limited = keyof typeof LIMITS;

/** `value` checked against the option's range: an integer, or a ChatDashError naming both. */
export function withinLimits(value: unknown, name: Limited, where: string): number {
  const { min, max } = LIMITS[name];
  return integer(value, name, min, max, where);
}
