/**
 * The rules every input check shares (options, params, the CLI's flags, the
 * undici transport's options): one way to say what is wrong and what came
 * instead, so every message reads alike. Each throws `ChatDashError`.
 */
import { ChatDashError } from './errors.js';

export const fail = (message: string): never => {
  throw new ChatDashError(message);
};

/** The rule, and what came instead with its type: `got string "5000"`. */
export function integer(
  value: unknown,
  name: string,
  min: number,
  max: number,
  where: string,
): number {
  if (!Number.isInteger(value) || (value as number) < min || (value as number) > max)
    fail(`${where}: ${name} must be an integer from ${min} to ${max}, got ${describe(value)}`);
  return value as number;
}

export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  switch (typeof value) {
    case 'string':
      return `string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value)}`;
    case 'number':
    case 'boolean':
    case 'bigint':
      return `${typeof value} ${String(value)}`;
    default:
      return typeof value;
  }
}

/** Rejects unknown names, so a typo (`timeout`) does not silently do nothing. */
export function known(object: object, names: readonly string[], where: string): void {
  for (const key of Object.keys(object))
    if (!names.includes(key)) fail(`${where}: unknown option \`${key}\``);
}

export function dropUndefined(object: object): object {
  return Object.fromEntries(Object.entries(object).filter(([, v]) => v !== undefined));
}

export function isObject(value: unknown): value is object {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function number(
  value: unknown,
  name: string,
  min: number,
  max: number,
  where: string,
): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max)
    fail(`${where}: ${name} must be a number from ${min} to ${max}, got ${describe(value)}`);
  return value as number;
}
