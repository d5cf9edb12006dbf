/**
 * The URL of a call: the one openapi-fetch's createFinalURL builds with its
 * default serializers, for any ids.
 */
import fc from 'fast-check';
import { createFinalURL, createQuerySerializer, defaultPathSerializer } from 'openapi-fetch';
import { describe, expect, it } from 'vitest';
import { ENDPOINT, endpointUrl } from '../../src/endpoint.js';

const querySerializer = createQuerySerializer();

function openapiFetchUrl(
  baseUrl: string,
  path: { agentId: string; conversationId: string },
  isPlatformId: boolean | undefined,
): string {
  return createFinalURL(ENDPOINT, {
    baseUrl,
    params: { path, ...(isPlatformId === undefined ? {} : { query: { isPlatformId } }) },
    querySerializer,
    pathSerializer: defaultPathSerializer,
  });
}

// Ids from all of Unicode, and from the characters that matter to URLs and to String.replace.
const id = fc.oneof(
  fc.string({ unit: 'binary', minLength: 1, maxLength: 30 }),
  fc
    .array(fc.constantFrom('/', '.', '%', '?', '#', '$&', "$'", '$1', '{agentId}', ' ', 'a', 'é'), {
      minLength: 1,
      maxLength: 8,
    })
    .map((parts) => parts.join('')),
);
const baseUrl = fc.constantFrom(
  'https://api.chat-dash.com/v1/public',
  'http://127.0.0.1:4010',
  'http://[::1]:8080/a/b',
);

describe('the URL of a call', () => {
  it('is the one openapi-fetch builds, for any ids, with and without isPlatformId', () => {
    fc.assert(
      fc.property(
        baseUrl,
        id,
        id,
        fc.option(fc.boolean(), { nil: undefined }),
        (base, agentId, conversationId, isPlatformId) => {
          const path = { agentId, conversationId };
          const query = isPlatformId === undefined ? undefined : { isPlatformId };
          expect(endpointUrl(base, path, query)).toBe(openapiFetchUrl(base, path, isPlatformId));
        },
      ),
      { numRuns: 2_000 },
    );
  });

  it('puts each id in its own segment and isPlatformId in the query', () => {
    expect(
      endpointUrl(
        'https://api.example.com/v1',
        { agentId: 'a/b', conversationId: 'c d' },
        {
          isPlatformId: false,
        },
      ),
    ).toBe('https://api.example.com/v1/agents/a%2Fb/conversations/c%20d?isPlatformId=false');
  });
});
