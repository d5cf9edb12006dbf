import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { diffSpecs, formatReport, OPERATION } from '../../scripts/spec-diff.js';

const repo = resolve(import.meta.dirname, '../..');
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a parsed YAML document, edited freely below
type Loose = any;
const spec = parse(await readFile(join(repo, 'spec/chatdash.yaml'), 'utf8')) as Loose;
const copy = (): Loose => structuredClone(spec);
const conversation = (doc: Loose) => doc.components.schemas.Conversation;
const get = (doc: Loose) => doc.paths['/agents/{agentId}/conversations/{conversationId}'].get;

describe('diffSpecs', () => {
  it('finds no change between a spec and itself', () => {
    expect(diffSpecs(spec, copy())).toEqual([]);
    expect(formatReport([])).toBe('No change to the operation or the Conversation schema.');
  });

  it('marks a removed enum value BREAKING and an added optional field compatible', () => {
    const after = copy();
    conversation(after).properties.status.enum = ['ai', 'human'];
    conversation(after).properties.sentiment = { type: 'string' };
    expect(diffSpecs(spec, after)).toEqual([
      { breaking: true, where: 'Conversation.status', what: 'enum value "pending" removed' },
      { breaking: false, where: 'Conversation.sentiment', what: 'field added (string)' },
    ]);
  });

  it('follows nested objects and array items', () => {
    const after = copy();
    conversation(after).properties.evaluation.properties.isSuccess.type = 'string';
    delete conversation(after).properties.mistunderstoodQueries.items.properties.question;
    expect(diffSpecs(spec, after)).toEqual([
      {
        breaking: true,
        where: 'Conversation.evaluation.isSuccess',
        what: 'type changed from boolean to string',
      },
      {
        breaking: true,
        where: 'Conversation.mistunderstoodQueries[].question',
        what: 'field removed',
      },
    ]);
  });

  it('marks a field that became nullable, or changed format, BREAKING', () => {
    const after = copy();
    conversation(after).properties.name.nullable = true;
    conversation(after).properties.endedAt.format = 'date';
    expect(diffSpecs(spec, after).every((c) => c.breaking)).toBe(true);
    expect(diffSpecs(spec, after)).toHaveLength(2);
  });

  it('reports responses: removed BREAKING, added compatible', () => {
    const after = copy();
    delete get(after).responses['500'];
    get(after).responses['404'] = { description: 'Not Found' };
    expect(diffSpecs(spec, after)).toEqual([
      { breaking: true, where: OPERATION, what: 'response 500 removed' },
      { breaking: false, where: OPERATION, what: 'response 404 added' },
    ]);
  });

  it('reports parameters: removed or newly required BREAKING, new optional compatible', () => {
    const after = copy();
    get(after).parameters = get(after).parameters.filter(
      (p: { name: string }) => p.name !== 'isPlatformId',
    );
    get(after).parameters.push({ name: 'fields', in: 'query', schema: { type: 'string' } });
    get(after).parameters.push({
      name: 'X-Tenant',
      in: 'header',
      required: true,
      schema: { type: 'string' },
    });
    const report = formatReport(diffSpecs(spec, after));
    expect(report.split('\n')).toEqual([
      `BREAKING    ${OPERATION}: query parameter "isPlatformId" removed`,
      `BREAKING    ${OPERATION}: new required header parameter "X-Tenant"`,
      `compatible  ${OPERATION}: new optional query parameter "fields"`,
    ]);
  });

  it('resolves $refs inside the Conversation schema', () => {
    const after = copy();
    after.components.schemas.Evaluation = conversation(after).properties.evaluation;
    conversation(after).properties.evaluation = { $ref: '#/components/schemas/Evaluation' };
    expect(diffSpecs(spec, after)).toEqual([]);
  });
});
