/**
 * The shapes the coordinator's scripts answer with, checked before use. A
 * proxy, a Redis-compatible service or a bug may answer a script with another
 * shape (an integer where a list belongs); such a reply counts as Redis
 * failing, so the decision is made locally, never with a bare TypeError.
 */

/** A reply that is not what the script returns. */
export class MalformedReply extends Error {
  constructor(what: string) {
    super(`malformed reply: ${what}`);
  }
}

/** A finite number from an integer reply or a number written as a string (a fraction). */
function toNumber(value: unknown, where: string): number {
  const n =
    typeof value === 'number'
      ? value
      : typeof value === 'string' && value.trim() !== ''
        ? Number(value)
        : NaN;
  if (!Number.isFinite(n)) throw new MalformedReply(`${where} is ${shape(value)}, not a number`);
  return n;
}

/** One number. */
export function oneNumber(reply: unknown): number {
  return toNumber(reply, 'the reply');
}

/** A list of at least `length` numbers: the first `length` of them. */
export function numbers(length: number): (reply: unknown) => number[] {
  return (reply) => {
    if (!Array.isArray(reply) || reply.length < length)
      throw new MalformedReply(`expected a list of ${length} numbers, got ${shape(reply)}`);
    return reply.slice(0, length).map((value, i) => toNumber(value, `item ${i + 1}`));
  };
}

/** What a reply was, for the warn line: its kind, never its content. */
function shape(value: unknown): string {
  if (Array.isArray(value)) return `a list of ${value.length}`;
  if (value === null) return 'nil';
  return typeof value === 'string' ? 'a string' : `a ${typeof value}`;
}
