/**
 * The status -> error class table the client promises, for the tests that
 * check it through the whole client and through settle alone: each status,
 * the class of its error, and the reason phrase its message gives when the
 * server sends none. 3xx and the 4xx without a class of their own are a
 * plain APIError.
 */
import * as errors from '../../src/errors.js';

export const STATUS_CLASSES: [status: number, Class: typeof errors.APIError, reason: string][] = [
  [400, errors.BadRequestError, 'Bad Request'],
  [401, errors.AuthenticationError, 'Unauthorized'],
  [403, errors.PermissionDeniedError, 'Forbidden'],
  [404, errors.NotFoundError, 'Not Found'],
  [409, errors.ConflictError, 'Conflict'],
  [422, errors.UnprocessableEntityError, 'Unprocessable Entity'],
  [429, errors.RateLimitError, 'Too Many Requests'],
  [500, errors.InternalServerError, 'Internal Server Error'],
  [502, errors.InternalServerError, 'Bad Gateway'],
  [503, errors.InternalServerError, 'Service Unavailable'],
  [599, errors.InternalServerError, 'Error'],
  [402, errors.APIError, 'Error'],
  [408, errors.APIError, 'Request Timeout'],
  [418, errors.APIError, 'Error'],
  [302, errors.APIError, 'Error'],
  [307, errors.APIError, 'Error'],
];
