import { describe, expectTypeOf, it } from 'vitest';
import type { NamedErrorClasses } from '../../src/errors.js';
import type {
  APIConnectionError,
  APIConnectionTimeoutError,
  APIError,
  APIUserAbortError,
  AuthenticationError,
  BadRequestError,
  ChatDashError,
  CircuitOpenError,
  ConflictError,
  InternalServerError,
  NotFoundError,
  PermissionDeniedError,
  RateLimitError,
  ResponseValidationError,
  UnprocessableEntityError,
} from '../../src/index.js';

describe('the error classes’ name types', () => {
  it('gives every leaf class its name as a literal type', () => {
    expectTypeOf<BadRequestError['name']>().toEqualTypeOf<'BadRequestError'>();
    expectTypeOf<AuthenticationError['name']>().toEqualTypeOf<'AuthenticationError'>();
    expectTypeOf<PermissionDeniedError['name']>().toEqualTypeOf<'PermissionDeniedError'>();
    expectTypeOf<NotFoundError['name']>().toEqualTypeOf<'NotFoundError'>();
    expectTypeOf<ConflictError['name']>().toEqualTypeOf<'ConflictError'>();
    expectTypeOf<UnprocessableEntityError['name']>().toEqualTypeOf<'UnprocessableEntityError'>();
    expectTypeOf<RateLimitError['name']>().toEqualTypeOf<'RateLimitError'>();
    expectTypeOf<InternalServerError['name']>().toEqualTypeOf<'InternalServerError'>();
    expectTypeOf<APIConnectionTimeoutError['name']>().toEqualTypeOf<'APIConnectionTimeoutError'>();
    expectTypeOf<APIUserAbortError['name']>().toEqualTypeOf<'APIUserAbortError'>();
    expectTypeOf<ResponseValidationError['name']>().toEqualTypeOf<'ResponseValidationError'>();
    expectTypeOf<CircuitOpenError['name']>().toEqualTypeOf<'CircuitOpenError'>();
  });

  it('keeps name a string on the three classes others extend', () => {
    expectTypeOf<ChatDashError['name']>().toEqualTypeOf<string>();
    expectTypeOf<APIError['name']>().toEqualTypeOf<string>();
    expectTypeOf<APIConnectionError['name']>().toEqualTypeOf<string>();
  });

  it('narrows a union of errors by name', () => {
    const which = (error: NotFoundError | RateLimitError) =>
      error.name === 'RateLimitError' ? error : undefined;
    expectTypeOf(which).returns.toEqualTypeOf<RateLimitError | undefined>();
  });

  it('accepts a class listed under its own name, and a base class under any', () => {
    type Listed = { NotFoundError: typeof NotFoundError; Anything: typeof APIError };
    expectTypeOf<Listed>().toExtend<NamedErrorClasses<Listed>>();
  });

  it('rejects a class listed under another class’s name', () => {
    type Listed = { NotFoundError: typeof ConflictError };
    expectTypeOf<Listed>().not.toExtend<NamedErrorClasses<Listed>>();
  });
});
