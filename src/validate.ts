/**
 * `validateResponses: true`: checks a body against the spec's `Conversation`
 * schema with the validator that `npm run generate` compiles from the spec.
 * The client imports this module lazily, so clients without validation never load it.
 */
import { validateConversation as check } from '../generated/validate-conversation.js';
import type { ValidationIssue } from './types.js';

/** Every way `body` differs from the spec, as JSON-pointer issues; empty when it matches. */
export function validateConversation(body: unknown): ValidationIssue[] {
  if (check(body)) return [];
  return (check.errors ?? []).map(({ instancePath, keyword, params, message }) => ({
    path: instancePath,
    message:
      keyword === 'enum' && Array.isArray(params['allowedValues'])
        ? `must be one of ${params['allowedValues'].map((v) => JSON.stringify(v)).join(', ')}`
        : (message ?? `fails ${keyword}`),
  }));
}
