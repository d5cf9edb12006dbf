/**
 * Secrecy: the key is replaced by value wherever a response or a transport
 * error could carry it back to the caller. ChatDash sends a bare key (no
 * `Bearer`), so octokit's "redact what follows the scheme" cannot work here.
 */

const REDACTED = '[redacted]';
// How deep a custom fetch's error is copied; anything deeper is dropped, not shown.
const MAX_ERROR_DEPTH = 10;
// Bounds on that copy, so sanitizing costs microseconds whatever the error holds
// (an axios-style error can carry the whole response, a 4 MiB Buffer included).
const MAX_ERROR_NODES = 200;
const MAX_OWN_PROPERTIES = 32;
const MAX_STRING = 2_000;
const MAX_STACK = 4_000;
// A transport error's reason in a message: `ECONNREFUSED`, or a sentence.
const MAX_REASON = 500;

export class Redactor {
  /**
   * Every spelling of the key, as one pattern: raw; inside a JSON string
   * (`\"`, `\\`, `\/`, `\u00XX`); percent-encoded as a URL can carry it
   * (`%XX` in either case for any character, any character left as is,
   * `+` for a space). Each character has one way to match at a given place,
   * so a scan costs one pass over the text times at most the key's length.
   */
  readonly #pattern: RegExp;
  /** The longest text one spelling can take (`\u00XX` per character). */
  readonly #longest: number;

  constructor(key: string) {
    const chars = [...key];
    const raw = escapeRegExp(key);
    const json = chars.map(jsonChar).join('');
    const url = chars.map(urlChar).join('');
    this.#pattern = new RegExp(`${raw}|${json}|${url}`, 'g');
    this.#longest = 6 * chars.length;
  }

  /**
   * `text` with every spelling of the key replaced, then cut to `maxLength`
   * characters: a spelling that straddles the cut is replaced whole, so no
   * prefix of the key survives it. Only the first `maxLength` characters
   * (and one spelling's length more) are read, however long `text` is.
   */
  text(text: string, maxLength = Infinity): string {
    const end = Math.min(text.length, maxLength);
    const read = text.length > end + this.#longest ? text.slice(0, end + this.#longest) : text;
    const pattern = this.#pattern;
    pattern.lastIndex = 0;
    let out = '';
    let last = 0;
    for (let match = pattern.exec(read); match && match.index < end; match = pattern.exec(read)) {
      out += read.slice(last, match.index) + REDACTED;
      last = match.index + match[0].length;
    }
    pattern.lastIndex = 0;
    if (last === 0) return end === text.length ? text : text.slice(0, end);
    if (last < end) out += read.slice(last, end);
    return out.length > maxLength ? out.slice(0, maxLength) : out;
  }

  headers(headers: Headers): Headers {
    let leaks = false;
    for (const value of headers.values()) if (this.text(value) !== value) leaks = true;
    if (!leaks) return headers;
    return new Headers([...headers].map(([name, value]) => [name, this.text(value)]));
  }

  /**
   * A redacted copy of parsed JSON. Iterative: a body nested 50,000 levels
   * deep must not overflow the stack (JSON.parse accepts it; recursion does not).
   */
  json(root: unknown): unknown {
    if (typeof root === 'string') return this.text(root);
    if (typeof root !== 'object' || root === null) return root;
    const copy = (value: object) => (Array.isArray(value) ? [] : {});
    const out = copy(root);
    const stack: [object, object][] = [[root, out]];
    for (let pair = stack.pop(); pair; pair = stack.pop()) {
      const [from, to] = pair;
      for (const [name, value] of Object.entries(from)) {
        let item: unknown = value;
        if (typeof value === 'string') item = this.text(value);
        else if (typeof value === 'object' && value !== null)
          stack.push([value, (item = copy(value))]);
        define(to, Array.isArray(from) ? name : this.text(name), item);
      }
    }
    return out;
  }

  /**
   * A short reason from a transport error for a message, e.g. `ECONNREFUSED`:
   * redacted, then cut, control characters escaped. Never throws, whatever
   * getters the error has.
   */
  describe(cause: unknown): string {
    try {
      const inner = read(cause, 'cause');
      const code = read(inner, 'code');
      const message = read(inner, 'message');
      const said = cause instanceof Error ? read(cause, 'message') : cause;
      const reason =
        (typeof code === 'string' && code) ||
        (typeof message === 'string' && message) ||
        (said === undefined && cause instanceof Error ? 'unknown transport error' : said);
      return escapeControl(this.text(safeString(reason), MAX_REASON));
    } catch {
      return 'unknown transport error';
    }
  }

  /**
   * A sanitized copy of whatever a transport threw: message, stack, own
   * properties (e.g. `config.headers.authorization`) and `cause`, each
   * redacted, so no view of it (`util.inspect` with `showHidden`, JSON) shows
   * the key. Bounded (depth, nodes, own properties, string length; binary
   * data only described) and never throws: a throwing getter or proxy trap
   * shows as `[unreadable]`.
   */
  error(thrown: unknown): unknown {
    return this.#copy(thrown, 0, new Map(), { nodes: MAX_ERROR_NODES });
  }

  #copy(
    value: unknown,
    depth: number,
    seen: Map<object, unknown>,
    left: { nodes: number },
  ): unknown {
    left.nodes--;
    if (typeof value === 'string') return this.text(value, MAX_STRING);
    if (typeof value === 'function') return `[function]`;
    if (typeof value !== 'object' || value === null) return value;
    if (seen.has(value)) return seen.get(value);
    if (depth >= MAX_ERROR_DEPTH) return '[object]';
    try {
      const binary = describeBinary(value);
      if (binary !== undefined) return binary;
      if (value instanceof String) return this.text(String(value), MAX_STRING);
      const copy = this.#shell(value);
      seen.set(value, copy);
      for (const name of ownNames(value)) {
        if (left.nodes <= 0) break;
        let item: unknown;
        try {
          item = (value as Record<string, unknown>)[name];
        } catch {
          continue; // a throwing getter shows nothing
        }
        define(copy, this.text(name, MAX_STRING), this.#copy(item, depth + 1, seen, left));
      }
      return copy;
    } catch {
      return '[unreadable]';
    }
  }

  /** An empty copy to fill: an Error keeps its message, name and stack (redacted), an array stays an array. */
  #shell(value: object): object {
    if (Array.isArray(value)) return [];
    if (!(value instanceof Error)) return {};
    const error = new Error(this.text(safeString(read(value, 'message') ?? ''), MAX_STRING));
    define(error, 'name', this.text(safeString(read(value, 'name') ?? 'Error'), MAX_STRING));
    define(error, 'stack', this.text(safeString(read(value, 'stack') ?? ''), MAX_STACK));
    return error;
  }
}

/**
 * `text` with control characters escaped (`\x1b`, `\x00`, `\u202e`), so a
 * server's reason phrase or error text cannot move a terminal's cursor,
 * recolour it, or hide what follows. C0, DEL, C1, line separators and the
 * bidirectional overrides; a backslash is left as it is.
 */
export function escapeControl(text: string): string {
  return CONTROL.test(text) ? text.replace(CONTROL_ALL, escapeOne) : text;
}

// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\x00-\x1f\x7f-\x9f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;
const CONTROL_ALL = new RegExp(CONTROL.source, 'g');

function escapeOne(char: string): string {
  const code = char.charCodeAt(0);
  return code <= 0xff
    ? `\\x${code.toString(16).padStart(2, '0')}`
    : `\\u${code.toString(16).padStart(4, '0')}`;
}

/** The names of an object's own properties to copy: an array by index, without listing every index. */
function ownNames(value: object): string[] {
  if (Array.isArray(value)) {
    const count = Math.min(value.length, MAX_OWN_PROPERTIES);
    return Array.from({ length: count }, (_, i) => String(i));
  }
  const names = Object.getOwnPropertyNames(value);
  const skip = value instanceof Error ? ERROR_OWN : undefined;
  const kept: string[] = [];
  for (const name of names) {
    if (kept.length >= MAX_OWN_PROPERTIES) break;
    if (!skip?.has(name)) kept.push(name);
  }
  return kept;
}

const ERROR_OWN = new Set(['message', 'stack', 'name']);

/** `[Buffer 4194304 bytes]` for binary data, whose every byte is an own property. */
function describeBinary(value: object): string | undefined {
  if (ArrayBuffer.isView(value)) {
    const kind = safeString(read(read(value, 'constructor'), 'name') || 'ArrayBufferView');
    return `[${kind.slice(0, 40)} ${value.byteLength} bytes]`;
  }
  const tag = Object.prototype.toString.call(value);
  if (tag === '[object ArrayBuffer]' || tag === '[object SharedArrayBuffer]')
    return `[${tag.slice(8, -1)} ${(value as ArrayBuffer).byteLength} bytes]`;
  return undefined;
}

/** A property, or `undefined` when reading it throws. */
function read(value: unknown, name: string): unknown {
  if ((typeof value !== 'object' && typeof value !== 'function') || value === null)
    return undefined;
  try {
    return (value as Record<string, unknown>)[name];
  } catch {
    return undefined;
  }
}

/** `String(value)`, or a placeholder when converting throws (a hostile `toString`). */
function safeString(value: unknown): string {
  if (typeof value === 'string') return value;
  try {
    return String(value);
  } catch {
    return '[unreadable]';
  }
}

/** Own data property, even for `__proto__` (a JSON body can have that key). */
function define(target: object, name: string, value: unknown): void {
  Object.defineProperty(target, name, {
    value,
    enumerable: true,
    writable: true,
    configurable: true,
  });
}

function escapeRegExp(text: string): string {
  return text.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&');
}

// The key is visible ASCII with inner spaces (the options check it), so one
// character is one byte: `%XX` and `\u00XX` are every encoding of it.

/** A character's code in hex, either case: `%2b` and `%2B` are the same URL. */
function hexCode(char: string, digits: number): string {
  return [...char.charCodeAt(0).toString(16).padStart(digits, '0')]
    .map((digit) => (/[a-f]/.test(digit) ? `[${digit}${digit.toUpperCase()}]` : digit))
    .join('');
}

/** One key character inside a JSON string: `"` and `\` escaped, `/` either way, any as `\u00XX`. */
function jsonChar(char: string): string {
  const unicode = `\\\\u${hexCode(char, 4)}`;
  if (char === '"') return `(?:\\\\"|${unicode})`;
  if (char === '\\') return `(?:\\\\\\\\|${unicode})`;
  if (char === '/') return `(?:\\/|\\\\\\/|${unicode})`;
  return `(?:${escapeRegExp(char)}|${unicode})`;
}

/**
 * One key character in a URL: itself or `%XX`; a space also `+` (a query
 * string); a `%` left bare only where it cannot be read as `%XX`, so each
 * place has one reading.
 */
function urlChar(char: string): string {
  const encoded = `%${hexCode(char, 2)}`;
  if (char === '%') return `(?:${encoded}|%(?![0-9a-fA-F]{2}))`;
  if (char === ' ') return `(?: |\\+|${encoded})`;
  return `(?:${escapeRegExp(char)}|${encoded})`;
}
