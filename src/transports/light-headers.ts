/**
 * The response headers of `createUndiciFetch`, built into a `Headers` only
 * when something asks for them. A `Headers` costs 1.4-1.9 µs per response
 * (3-4 % of a request through the client), and the client, reading a 2xx
 * body, wants only two values: `headerValue` gives those from undici's own
 * object. Headers whose every name is a token and every value plain ASCII
 * are ones `Headers` accepts; any other set is built at once, so a value
 * `Headers` refuses still fails the request where it did.
 */

/** undici's parsed response headers: lower-case names, a list for a repeated one. */
export type RawHeaders = Record<string, string | string[] | undefined>;

/** A global symbol, so the ESM and CJS copies of the package understand each other. */
export const HEADER_VALUE = Symbol.for('chatdash-client.header-value');

/**
 * `response.headers.get(name)` for a lower-case `name`, without building the
 * `Headers` of a response that can answer it itself.
 */
export function headerValue(response: Response, name: string): string | null {
  const own = (response as { [HEADER_VALUE]?: (name: string) => string | null })[HEADER_VALUE];
  return own ? own.call(response, name) : response.headers.get(name);
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const PLAIN = /^[\t\x20-\x7e]*$/;

/** Every name a token and every value tabs and printable ASCII: nothing `Headers` would refuse. */
export function plain(raw: RawHeaders): boolean {
  for (const name in raw) {
    if (!TOKEN.test(name)) return false;
    const value = raw[name];
    if (typeof value === 'string') {
      if (!PLAIN.test(value)) return false;
    } else if (value) for (const item of value) if (!PLAIN.test(item)) return false;
  }
  return true;
}

/** The `Headers` fetch would make (it throws for a value it refuses). */
export function toHeaders(raw: RawHeaders): Headers {
  const headers = new Headers();
  for (const name in raw) {
    const value = raw[name];
    if (typeof value === 'string') headers.append(name, value);
    else if (value) for (const item of value) headers.append(name, item);
  }
  return headers;
}

/**
 * What `toHeaders(raw).get(name)` gives for plain headers: each value without
 * its surrounding blanks, repeated ones joined by ", ". (`trim()` removes
 * other whitespace too, which plain values do not have.)
 */
export function rawValue(raw: RawHeaders, name: string): string | null {
  const value = raw[name];
  if (value === undefined) return null;
  return typeof value === 'string' ? value.trim() : value.map((item) => item.trim()).join(', ');
}
