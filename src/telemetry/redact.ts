/**
 * Secrecy: the key is replaced by value wherever a response or a transport
 * error could carry it back to the caller. ChatDash sends a bare key (no
 * `Bearer`), so octokit's "redact what follows the scheme" cannot work here.
 */

const REDACTED = '[redacted]';
// How deep a custom fetch's error is copied; anything deeper is dropped, not shown.
const MAX_ERROR_DEPTH = 10;

export class Redactor {
  /** Every form the key can take in a body: raw, JSON-escaped (`"` and `\`), percent-encoded (a URL). */
  readonly #forms: string[];

  constructor(key: string) {
    const forms = new Set([key, JSON.stringify(key).slice(1, -1), encodeURIComponent(key)]);
    // Longest first, so a form that contains another is replaced whole.
    this.#forms = [...forms].sort((a, b) => b.length - a.length);
  }

  text(text: string): string {
    for (const form of this.#forms) if (text.includes(form)) text = text.replaceAll(form, REDACTED);
    return text;
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
   * A sanitized copy of whatever a transport threw: message, stack, own
   * properties (e.g. `config.headers.authorization`) and `cause`, each
   * redacted, so no view of it (`util.inspect` with `showHidden`, JSON) shows the key.
   */
  error(thrown: unknown): unknown {
    return this.#copy(thrown, 0, new Map());
  }

  #copy(value: unknown, depth: number, seen: Map<object, unknown>): unknown {
    if (typeof value === 'string') return this.text(value);
    if (typeof value === 'function') return `[function]`;
    if (typeof value !== 'object' || value === null) return value;
    if (seen.has(value)) return seen.get(value);
    if (depth >= MAX_ERROR_DEPTH) return '[object]';
    let copy: object;
    if (value instanceof Error) {
      const error = new Error(this.text(String(value.message)));
      define(error, 'name', this.text(String(value.name)));
      define(error, 'stack', this.text(String(value.stack ?? '')));
      copy = error;
    } else {
      copy = Array.isArray(value) ? [] : {};
    }
    seen.set(value, copy);
    for (const name of Object.getOwnPropertyNames(value)) {
      if (value instanceof Error && (name === 'message' || name === 'stack' || name === 'name'))
        continue;
      // An array's length is not redefinable (the copy has its own): copying it threw a bare
      // TypeError for any error holding an array, e.g. the AggregateError fetch gives for localhost.
      if (Array.isArray(value) && name === 'length') continue;
      let item: unknown;
      try {
        item = (value as Record<string, unknown>)[name];
      } catch {
        continue; // a throwing getter shows nothing
      }
      define(copy, this.text(name), this.#copy(item, depth + 1, seen));
    }
    return copy;
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
