import { describe, expect, it, vi } from 'vitest';
import { APIError, ResponseValidationError } from '../../../src/errors.js';
import { settle } from '../../../src/policies/settle.js';
import type { ValidationReport } from '../../../src/types.js';
import { apiKey, failure, makeCall, type CallOptions } from '../../helpers/call.js';
import { STATUS_CLASSES } from '../../helpers/statuses.js';

function settled(
  status: number,
  text: string,
  options: CallOptions & { overLimit?: boolean; headers?: Record<string, string> } = {},
) {
  const { overLimit = false, headers = {}, ...callOptions } = options;
  const harness = makeCall(callOptions);
  const response = new Response(null, { status, headers });
  return {
    ...harness,
    result: settle(harness.context, harness.call, response, { text, overLimit }),
  };
}

describe('settle', () => {
  it('maps each status to its error class, 3xx and unlisted 4xx to a plain APIError', async () => {
    const expected = STATUS_CLASSES.filter(([, Class]) => Class !== APIError);
    for (const [status, Class] of expected) {
      const error = await failure(settled(status, '{}').result);
      expect(error, String(status)).toBeInstanceOf(Class);
      expect((error as APIError).status).toBe(status);
    }
    for (const status of [302, 304, 418]) {
      const error = await failure(settled(status, '').result);
      expect(error.name, String(status)).toBe('APIError');
      expect((error as APIError).status).toBe(status);
    }
  });

  it('names the status, the method and the URL in an APIError, and keeps the request id', async () => {
    const { call, result } = settled(404, '{"error":"no such conversation"}', {
      headers: { 'x-request-id': 'req_42' },
    });
    const error = (await failure(result)) as APIError;
    expect(error.message).toBe(`404 Not Found: GET ${call.url}`);
    expect(error.body).toEqual({ error: 'no such conversation' });
    expect(error.requestId).toBe('req_42');
    expect(error.attempts).toBe(call.attempts);
  });

  it('keeps an error body that is not JSON as text cut to 1,000 characters', async () => {
    const error = (await failure(settled(502, `<html>${'x'.repeat(5_000)}`).result)) as APIError;
    expect(typeof error.body).toBe('string');
    expect((error.body as string).length).toBe(1_000);
    expect(error.body as string).toMatch(/^<html>x+$/);
  });

  it('redacts the key from an error body, its parsed form and its headers', async () => {
    const text = JSON.stringify({ echo: `key ${apiKey}`, [apiKey]: 1 });
    const error = (await failure(
      settled(401, text, { headers: { 'x-echo': apiKey } }).result,
    )) as APIError;
    expect(JSON.stringify(error.body)).not.toContain(apiKey);
    expect(error.body).toEqual({ echo: 'key [redacted]', '[redacted]': 1 });
    expect(error.headers.get('x-echo')).toBe('[redacted]');
  });

  it('refuses a 2xx body over maxResponseBytes, naming the limit', async () => {
    const { result } = settled(200, '{"_id":', {
      overLimit: true,
      settings: { maxResponseBytes: 7 },
    });
    const error = (await failure(result)) as ResponseValidationError;
    expect(error).toBeInstanceOf(ResponseValidationError);
    expect(error.issues).toEqual([
      { path: '', message: 'is larger than maxResponseBytes (7 bytes)' },
    ]);
    expect(error.status).toBe(200);
  });

  it('refuses an empty body, a body that is not JSON, and JSON that is not an object', async () => {
    const cases: [string, string][] = [
      ['', 'is empty, expected JSON'],
      ['{"_id": ', 'is not valid JSON'],
      ['[1]', 'must be a JSON object, got array'],
      ['null', 'must be a JSON object, got null'],
      ['"text"', 'must be a JSON object, got string'],
    ];
    for (const [text, message] of cases) {
      const error = (await failure(settled(200, text).result)) as ResponseValidationError;
      expect(error, text).toBeInstanceOf(ResponseValidationError);
      expect(error.issues).toEqual([{ path: '', message }]);
    }
  });

  it('gives the parsed object and the text it came from', async () => {
    const text = '{"_id":"conv_1","status":"closed"}';
    const outcome = await settled(200, text).result;
    expect(outcome.data).toEqual({ _id: 'conv_1', status: 'closed' });
    expect(outcome.text).toBe(text);
  });

  it('with validation on, refuses a body that does not match the spec, listing the issue', async () => {
    const error = (await failure(
      settled(200, '{"_id":"conv_1","status":"closed"}', { validate: true }).result,
    )) as ResponseValidationError;
    expect(error).toBeInstanceOf(ResponseValidationError);
    expect(error.issues.map((i) => i.path)).toEqual(['/status']);
  });

  it("with validation 'report', gives the value, tells the callback and warns once", async () => {
    const reports: ValidationReport[] = [];
    const onValidationIssue = vi.fn((report: ValidationReport) => void reports.push(report));
    const { result, logs } = settled(200, '{"_id":"conv_1","status":"closed"}', {
      validate: 'report',
      onValidationIssue,
    });
    await expect(result).resolves.toMatchObject({ data: { status: 'closed' } });
    expect(reports).toHaveLength(1);
    expect(reports[0]?.issues.map((i) => i.path)).toEqual(['/status']);
    expect(reports[0]?.status).toBe(200);
    const warnings = logs.filter((l) => l.level === 'warn');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]?.message).toContain('response did not match the spec');
  });
});
