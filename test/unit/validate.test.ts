import { describe, expect, it } from 'vitest';
import { createChatDashClient, ResponseValidationError } from '../../src/index.js';
import { makeConversation } from '../../src/testing.js';
import { validateConversation } from '../../src/validate.js';
import { fakeFetch, json } from '../helpers/fake-fetch.js';

/**
 * A body using every field of the spec's Conversation schema, with a
 * date-time that has fractional seconds and an offset (valid, and not the `Z`
 * form the other fields use).
 */
const full = makeConversation({ createdAt: '2024-05-01T10:00:00.123+02:00' });

describe('validateConversation (compiled from the spec)', () => {
  it('accepts a body using every field, an empty object, and unknown extra fields', () => {
    expect(validateConversation(full)).toEqual([]);
    expect(validateConversation({})).toEqual([]);
    expect(validateConversation({ ...full, addedUpstreamLater: { any: 'thing' } })).toEqual([]);
  });

  it.each([
    ['/_id', { _id: 42 }, 'must be string'],
    ['/read', { read: 'yes' }, 'must be boolean'],
    ['/cost', { cost: '0.42' }, 'must be number'],
    ['/duration', { duration: true }, 'must be number'],
    ['/status', { status: 'closed' }, 'must be one of "ai", "pending", "human"'],
    ['/endedAt', { endedAt: 'yesterday' }, 'must match format "date-time"'],
    ['/createdAt', { createdAt: '2024-13-01T00:00:00Z' }, 'must match format "date-time"'],
    ['/updatedAt', { updatedAt: '2024-02-30T00:00:00Z' }, 'must match format "date-time"'],
    ['/createdAt', { createdAt: '2024-05-01' }, 'must match format "date-time"'],
    ['/name', { name: null }, 'must be string'],
    ['/evaluation', { evaluation: null }, 'must be object'],
    ['/evaluation', { evaluation: [] }, 'must be object'],
    ['/evaluation/isSuccess', { evaluation: { isSuccess: 'true' } }, 'must be boolean'],
    ['/evaluation/reason', { evaluation: { reason: 1 } }, 'must be string'],
    ['/mistunderstoodQueries', { mistunderstoodQueries: {} }, 'must be array'],
    [
      '/mistunderstoodQueries/0/question',
      { mistunderstoodQueries: [{ question: 7 }] },
      'must be string',
    ],
    ['/mistunderstoodQueries/1', { mistunderstoodQueries: [{}, 'q'] }, 'must be object'],
    ['/customAnalysis', { customAnalysis: 'x' }, 'must be object'],
    ['/metadata', { metadata: 3 }, 'must be object'],
  ])('reports %s for a wrong value', (path, change, message) => {
    expect(validateConversation({ ...full, ...change })).toEqual([{ path, message }]);
  });

  it('lists every issue, not just the first', () => {
    const issues = validateConversation({
      ...full,
      _id: 1,
      status: 'x',
      evaluation: { isSuccess: 0 },
    });
    expect(issues.map((i) => i.path)).toEqual(['/_id', '/status', '/evaluation/isSuccess']);
  });
});

describe('validateResponses through the client', () => {
  const bad = { ...full, status: 'closed', mistunderstoodQueries: [{ question: 1 }] };

  it('rejects a mismatching 2xx body with ResponseValidationError listing every issue', async () => {
    const { fetch } = fakeFetch(() => json(200, bad, { 'x-request-id': 'req_v' }));
    const chatdash = createChatDashClient({
      apiKey: 'ck_validate_key',
      fetch,
      validateResponses: true,
    });
    const error = await chatdash
      .getConversation({ agentId: 'a', conversationId: 'c' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ResponseValidationError);
    expect(error).toMatchObject({
      status: 200,
      requestId: 'req_v',
      body: bad,
      issues: [
        { path: '/status', message: 'must be one of "ai", "pending", "human"' },
        { path: '/mistunderstoodQueries/0/question', message: 'must be string' },
      ],
    });
    expect((error as Error).message).toContain('/status must be one of');
  });

  it('does not retry a validation failure', async () => {
    const { fetch } = fakeFetch(() => json(200, bad));
    const chatdash = createChatDashClient({
      apiKey: 'ck_validate_key',
      fetch,
      validateResponses: true,
    });
    await expect(chatdash.getConversation({ agentId: 'a', conversationId: 'c' })).rejects.toThrow(
      ResponseValidationError,
    );
    expect(fetch).toHaveBeenCalledTimes(1);
  });

  it('is off by default: the same body passes through untouched', async () => {
    const { fetch } = fakeFetch(() => json(200, bad));
    const chatdash = createChatDashClient({ apiKey: 'ck_validate_key', fetch });
    await expect(chatdash.getConversation({ agentId: 'a', conversationId: 'c' })).resolves.toEqual(
      bad,
    );
  });
});
