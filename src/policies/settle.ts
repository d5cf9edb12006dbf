/**
 * The one place where a response becomes a value or a throw: a non-2xx status
 * is its `APIError` subclass, a 2xx body over the size limit, not JSON, not an
 * object or (with validation) not the spec's `Conversation` is a
 * `ResponseValidationError`. Every piece of server text is redacted first.
 */
import { APIError, ResponseValidationError } from '../errors.js';
import type { Call, ClientContext, Outcome } from '../pipeline.js';
import { ignoreRejection } from '../telemetry/log.js';
import { requestId } from '../telemetry/request-id.js';
import type { Conversation, RequestContext, ValidationIssue } from '../types.js';
import type { validateConversation as ValidateConversation } from '../validate.js';
import type { Body } from './body.js';

const BODY_TEXT_LIMIT = 1_000;

// Loaded on first use by a validating client, then reused (a fresh import() per call costs ~20 % CPU).
let validator: Promise<{ validateConversation: typeof ValidateConversation }> | undefined;

export async function settle(
  client: ClientContext,
  call: Call,
  response: Response,
  { text, overLimit }: Body,
): Promise<Outcome> {
  const { redactor } = client;
  const { status } = response;
  const context: RequestContext = { url: call.url, attempts: call.attempts };
  if (status < 200 || status >= 300) {
    const redacted = redactor.text(text); // before the cut, so no prefix of the key survives it
    const parsed = parseJson(redacted);
    const body = parsed === NOT_JSON ? truncate(redacted) : redactor.json(parsed);
    throw APIError.from(
      status,
      redactor.text(response.statusText),
      redactor.headers(response.headers),
      body,
      context,
    );
  }
  if (overLimit) {
    const limit = call.settings.maxResponseBytes;
    const issue = { path: '', message: `is larger than maxResponseBytes (${limit} bytes)` };
    throw invalid(client, call, [issue], text, response);
  }
  const body = parseJson(text);
  if (body === NOT_JSON) {
    const issue = text === '' ? 'is empty, expected JSON' : 'is not valid JSON';
    throw invalid(client, call, [{ path: '', message: issue }], text, response);
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    const kind = body === null ? 'null' : Array.isArray(body) ? 'array' : typeof body;
    throw invalid(
      client,
      call,
      [{ path: '', message: `must be a JSON object, got ${kind}` }],
      body,
      response,
    );
  }
  const outcome: Outcome = {
    data: body as Conversation,
    response,
    requestId: undefined,
    attempts: call.attempts,
    text,
  };
  const mode = client.validate;
  if (!mode) return outcome;
  const { validateConversation } = await (validator ??= import('../validate.js'));
  const issues = validateConversation(body);
  if (issues.length === 0) return outcome;
  if (mode === true) throw invalid(client, call, issues, body, response);
  report(client, call, issues, response);
  return outcome;
}

/** `validateResponses: 'report'`: tell, log once, and go on. */
function report(
  client: ClientContext,
  call: Call,
  issues: ValidationIssue[],
  response: Response,
): void {
  const { redactor, log, onValidationIssue } = client;
  const id = requestId(response.headers, redactor);
  const safeIssues = issues.map(({ path, message }) => ({
    path: redactor.text(path),
    message: redactor.text(message),
  }));
  log.warn(`response did not match the spec: GET ${call.url}`, {
    url: call.url,
    status: response.status,
    requestId: id,
    issues: safeIssues.map((i) => `${i.path || '(body)'} ${i.message}`).join('; '),
  });
  try {
    ignoreRejection(
      onValidationIssue?.({
        issues: safeIssues,
        url: call.url,
        status: response.status,
        requestId: id,
      }),
    );
  } catch {
    // The callback's failure must not turn a good response into an error.
  }
}

function invalid(
  client: ClientContext,
  call: Call,
  issues: ValidationIssue[],
  body: unknown,
  response: Response,
) {
  const { redactor } = client;
  const safeBody = typeof body === 'string' ? truncate(redactor.text(body)) : redactor.json(body);
  const safeIssues = issues.map(({ path, message }) => ({
    path: redactor.text(path),
    message: redactor.text(message),
  }));
  return new ResponseValidationError(
    safeIssues,
    safeBody,
    response.status,
    redactor.headers(response.headers),
    { url: call.url, attempts: call.attempts },
  );
}

const NOT_JSON = Symbol('not JSON');

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return NOT_JSON;
  }
}

function truncate(text: string): string {
  return text.length > BODY_TEXT_LIMIT ? text.slice(0, BODY_TEXT_LIMIT) : text;
}
