/**
 * The small parts behind the Redis coordinator's hardening, on their own: a
 * script reply's shape checked before use, a line for many clients written
 * once per logger that wants it, and a retry's cost given back.
 */
import { describe, expect, it } from 'vitest';
import { Broadcast } from '../../src/coordination/broadcast.js';
import { RetryBudget } from '../../src/coordination/budget.js';
import { MalformedReply, numbers, oneNumber } from '../../src/coordination/redis-replies.js';

describe('reply shapes', () => {
  it('takes integers and numbers written as strings (fractions)', () => {
    expect(numbers(2)([1, 490])).toEqual([1, 490]);
    expect(numbers(5)(['-12.5', '2.5', 3, '400', 4])).toEqual([-12.5, 2.5, 3, 400, 4]);
    expect(numbers(2)([1, 2, 3])).toEqual([1, 2]);
    expect(oneNumber(-1)).toBe(-1);
    expect(oneNumber('7')).toBe(7);
  });

  it('refuses any other shape with a MalformedReply naming the shape, never its content', () => {
    const refused: [() => unknown, RegExp][] = [
      [() => numbers(2)(7), /expected a list of 2 numbers, got a number/],
      [() => numbers(2)([1]), /expected a list of 2 numbers, got a list of 1/],
      [() => numbers(2)(null), /got nil/],
      [() => numbers(2)([1, 'ck_secret_value']), /item 2 is a string, not a number/],
      [() => numbers(1)([[1]]), /item 1 is a list of 1/],
      [() => oneNumber([1, 2]), /the reply is a list of 2, not a number/],
      [() => oneNumber('not a number'), /the reply is a string/],
      [() => oneNumber(''), /the reply is a string/],
      [() => oneNumber(undefined), /the reply is a undefined/],
      [() => oneNumber(Infinity), /not a number/],
    ];
    for (const [parse, message] of refused) {
      expect(parse).toThrow(MalformedReply);
      expect(parse).toThrow(message);
    }
    expect(() => numbers(2)([1, 'ck_secret_value'])).not.toThrow(/ck_secret/);
  });
});

describe('Broadcast', () => {
  const log = (levels: { warnOn: boolean; infoOn: boolean }) => {
    const lines: string[] = [];
    return {
      lines,
      ...levels,
      warn: (m: string) => void lines.push(`warn ${m}`),
      info: (m: string) => void lines.push(`info ${m}`),
    };
  };

  it('writes once per logger, through a client whose level wants the line', () => {
    const console1 = {};
    const other = {};
    const off = log({ warnOn: false, infoOn: false });
    const warnOnly = log({ warnOn: true, infoOn: false });
    const info = log({ warnOn: true, infoOn: true });
    const infoToo = log({ warnOn: true, infoOn: true });
    const own = log({ warnOn: true, infoOn: true });
    const broadcast = new Broadcast();
    broadcast.add(off, console1);
    broadcast.add(warnOnly, console1);
    broadcast.add(info, console1);
    broadcast.add(infoToo, console1); // the same logger and levels: no second entry
    broadcast.add(own, other);
    broadcast.warn('lost', {});
    broadcast.info('back', {});
    expect(off.lines).toEqual([]);
    expect(warnOnly.lines).toEqual(['warn lost']);
    expect(info.lines).toEqual(['info back']);
    expect(infoToo.lines).toEqual([]);
    expect(own.lines).toEqual(['warn lost', 'info back']);
  });
});

describe('RetryBudget.giveBack', () => {
  it('returns what a retry paid (after a timeout, twice as much), never above capacity', () => {
    const budget = new RetryBudget({ capacity: 20, retryCost: 5, timeoutCost: 10 });
    budget.tryPay(false);
    budget.tryPay(true);
    expect(budget.tokens).toBe(5);
    budget.giveBack(true);
    expect(budget.tokens).toBe(15);
    budget.giveBack(false);
    expect(budget.tokens).toBe(20);
    budget.giveBack(false);
    expect(budget.tokens).toBe(20);
  });
});
