/**
 * The options of the state calls share: which coordinator, the send rate, the
 * circuit. Defaults filled in here, every rule checked before a client exists.
 */
import { DEFAULT_FAILURE_THRESHOLD, DEFAULT_OPEN_MS } from './breaker.js';
import {
  isEngine,
  type BreakerNumbers,
  type CoordinatorEngine,
  type RateNumbers,
} from './coordinator.js';
import { describe, dropUndefined, fail, integer, isObject, known, number } from '../rules.js';

const MAX_TIMER_MS = 2 ** 31 - 1; // setTimeout treats anything larger as 1 ms

export function checkCoordinator(value: unknown, where: string): CoordinatorEngine | undefined {
  if (value === undefined || isEngine(value)) return value;
  return fail(
    `${where}: coordinator must come from createMemoryCoordinator() or createRedisCoordinator(), got ${describe(value)}`,
  );
}

export function checkRateLimit(value: unknown, where: string): RateNumbers | false {
  if (value === false) return false;
  if (!isObject(value))
    return fail(`${where}: rateLimit must be false or { perSecond }, got ${describe(value)}`);
  known(value, ['perSecond', 'burst', 'adaptive'], `${where}: rateLimit`);
  const { perSecond, burst, adaptive = false } = value as Record<string, unknown>;
  const rate = number(perSecond, 'rateLimit.perSecond', 0.1, 100_000, where);
  if (typeof adaptive !== 'boolean')
    fail(`${where}: rateLimit.adaptive must be a boolean, got ${describe(adaptive)}`);
  return {
    perSecond: rate,
    burst:
      burst === undefined
        ? Math.max(1, rate / 10)
        : number(burst, 'rateLimit.burst', 1, 1_000_000, where),
    adaptive: adaptive as boolean,
  };
}

export function checkBreaker(value: unknown, where: string): BreakerNumbers | false {
  if (value === false) return false;
  if (!isObject(value))
    return fail(`${where}: circuitBreaker must be false or an object, got ${describe(value)}`);
  known(value, ['failureThreshold', 'openMs'], `${where}: circuitBreaker`);
  const { failureThreshold = DEFAULT_FAILURE_THRESHOLD, openMs = DEFAULT_OPEN_MS } = dropUndefined(
    value,
  ) as Record<string, unknown>;
  return {
    failureThreshold: integer(
      failureThreshold,
      'circuitBreaker.failureThreshold',
      1,
      1_000_000,
      where,
    ),
    openMs: integer(openMs, 'circuitBreaker.openMs', 1, MAX_TIMER_MS, where),
  };
}

/**
 * The numbers a scope's rate or circuit runs on: the first client's, and a
 * later client of the same scope must bring the same (or none: a client
 * without `rateLimit` or `circuitBreaker` does not take part). Two clients of
 * one upstream limit with two limits is a mistake to say at once, not one to
 * settle silently by who came first.
 */
export function sameNumbers<T extends RateNumbers | BreakerNumbers>(
  name: string,
  had: T | false,
  wanted: T | false,
): T | false {
  if (!had || !wanted) return had || wanted;
  const entries = Object.entries(wanted) as [keyof T, unknown][];
  if (entries.every(([field, value]) => had[field] === value)) return had;
  return fail(
    `createChatDashClient: ${name} ${show(wanted)} conflicts with ${show(had)} of another client ` +
      'of the same scope (same coordinator, baseUrl origin and apiKey), which shares one rate and ' +
      'one circuit: give both clients the same numbers, or separate coordinators',
  );
}

const show = (numbers: object) =>
  `{ ${Object.entries(numbers)
    .map(([field, value]) => `${field}: ${String(value)}`)
    .join(', ')} }`;
