/**
 * createUndiciFetch's response headers, read before any `Headers` is made:
 * the same values a `Headers` gives, and no set left unbuilt that `Headers`
 * would refuse.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { plain, rawValue, toHeaders, type RawHeaders } from '../../src/transports/light-headers.js';

// Names and values from printable ASCII and the characters Headers trims, refuses or cannot encode.
const char = fc.constantFrom(
  ' ',
  '\t',
  '\r',
  '\n',
  '\0',
  '\v',
  '\f',
  '\u00a0',
  'é',
  '😀',
  'a',
  'Z',
  '0',
  ',',
  ':',
  '"',
  '(',
  '@',
  '~',
  '-',
);
const text = fc.array(char, { maxLength: 8 }).map((chars) => chars.join(''));
const name = fc.oneof(fc.constantFrom('content-length', 'content-encoding', 'x-request-id'), text);
const value = fc.oneof(text, fc.constantFrom('830', ' gzip ', 'identity'));
const raw: fc.Arbitrary<RawHeaders> = fc.dictionary(
  name,
  fc.oneof(value, fc.array(value, { minLength: 2, maxLength: 3 })),
  { maxKeys: 4 },
);

describe('light response headers', () => {
  it('are plain only when Headers takes them, and then read as Headers reads them', () => {
    fc.assert(
      fc.property(raw, (headers) => {
        if (!plain(headers)) return;
        const built = toHeaders(headers);
        for (const key of Object.keys(headers)) expect(rawValue(headers, key)).toBe(built.get(key));
        expect(rawValue(headers, 'not-there')).toBeNull();
      }),
      { numRuns: 3_000 },
    );
  });

  it('are not plain when a value has a character Headers refuses or cannot encode', () => {
    for (const bad of ['a\0b', 'a\rb', 'a\nb', '😀', 'ō'])
      expect(plain({ 'x-test': bad }), JSON.stringify(bad)).toBe(false);
    expect(() => toHeaders({ 'x-test': '😀' })).toThrow();
    expect(plain({ 'bad name': 'v' })).toBe(false);
    expect(plain({ 'content-length': '830', 'x-request-id': ['a', ' b '] })).toBe(true);
  });
});
