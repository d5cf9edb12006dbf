/**
 * The rules every input check shares (options, params, the CLI's flags, the
 * undici transport's options): one way to say what is wrong and what came
 * instead, so every message reads alike. Each throws `ChatDashError`.
 */
import { ChatDashError } from './errors.js';
import { Redactor } from './redact.js';

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

/**
 * What came instead, for a message: its type, and a string or number itself.
 * A string is masked first (see `maskSecrets`): a Redis URL with a password
 * passed where a client belongs (`redis: process.env.REDIS_URL`) is a common
 * mistake, and the message must not quote the password.
 */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  switch (typeof value) {
    case 'string': {
      const masked = maskSecrets(value);
      return `string ${JSON.stringify(masked.length > 40 ? `${masked.slice(0, 40)}...` : masked)}`;
    }
    case 'number':
    case 'boolean':
    case 'bigint':
      return `${typeof value} ${String(value)}`;
    default:
      return typeof value;
  }
}

/**
 * `value` with what may be a secret masked: whatever sits before an `@` in
 * the authority (a user and password), and a query or fragment (tokens often
 * travel there). Worked on the string, not the parsed URL, so a value that
 * does not parse is masked too. Every segment after a slash counts (a list of
 * URLs; a path's `@` is masked as well), and a backslash does not end one: it
 * ends the authority of an http:, https:, ws: or ftp: URL but not of
 * `redis://u:p\w@h`. So no spelling the URL parser accepts keeps its
 * credentials (tabs, backslashes, `https:u:p@h`).
 */
export function maskSecrets(value: string): string {
  return value.replace(/(^|\/)[^/?#]*@/g, '$1***@').replace(/([?#])[^]+$/, '$1***');
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

/**
 * A check's error with the key redacted from its message (every spelling):
 * the key given to the wrong option by mistake (`baseUrl:
 * process.env.CHATDASH_API_KEY`) would otherwise be quoted as what came instead.
 * A quoted value is cut (at 40 characters), so the longest prefix of the key
 * the message holds, 8 characters or more, goes too.
 */
export function hideKey(error: unknown, key: unknown): unknown {
  if (typeof key !== 'string' || key === '' || !(error instanceof ChatDashError)) return error;
  let message = new Redactor(key).text(error.message);
  for (let n = key.length; n >= Math.min(8, key.length); n--) {
    const prefix = JSON.stringify(key.slice(0, n)).slice(1, -1); // as a quoted value spells it
    if (!message.includes(prefix)) continue;
    message = message.split(prefix).join('[redacted]');
    break;
  }
  return message === error.message ? error : new ChatDashError(message);
}
