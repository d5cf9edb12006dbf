/**
 * What changed between two versions of the ChatDash spec, for the one
 * operation this package calls and the `Conversation` schema it returns.
 *
 * Seen from this client, which sends the request and reads the response:
 * breaking: a removed field, a changed type or format, a removed enum value,
 *   a field that became nullable, a new required parameter, a parameter that
 *   became required or was removed, a removed response, a removed operation;
 * compatible: an added optional field, an added enum value, an added optional
 *   parameter, an added response.
 */

export const OPERATION_PATH = '/agents/{agentId}/conversations/{conversationId}';
export const OPERATION = `GET ${OPERATION_PATH}`;

export interface Change {
  breaking: boolean;
  /** Where, e.g. `Conversation.evaluation.isSuccess` or `GET /agents/...`. */
  where: string;
  what: string;
}

type Doc = Record<string, unknown>;
type Schema = Record<string, unknown>;

export function diffSpecs(before: Doc, after: Doc): Change[] {
  const changes: Change[] = [];
  const oldSchema = componentSchema(before, 'Conversation');
  const newSchema = componentSchema(after, 'Conversation');
  if (oldSchema && !newSchema) {
    changes.push({ breaking: true, where: 'Conversation', what: 'schema removed' });
  } else if (oldSchema && newSchema) {
    diffSchemas(before, after, oldSchema, newSchema, 'Conversation', changes, new Set());
  } else if (!oldSchema && newSchema) {
    changes.push({ breaking: false, where: 'Conversation', what: 'schema added' });
  }
  diffOperation(before, after, changes);
  return changes;
}

/** One line per change, BREAKING first. */
export function formatReport(changes: Change[]): string {
  if (changes.length === 0) return 'No change to the operation or the Conversation schema.';
  return [...changes]
    .sort((a, b) => Number(b.breaking) - Number(a.breaking))
    .map((c) => `${c.breaking ? 'BREAKING  ' : 'compatible'}  ${c.where}: ${c.what}`)
    .join('\n');
}

function componentSchema(doc: Doc, name: string): Schema | undefined {
  const schemas = record(record(doc['components'])?.['schemas']);
  return resolve(doc, record(schemas?.[name]));
}

/** Follows local `$ref`s (`#/a/b`) until a schema object. */
function resolve(
  doc: Doc,
  schema: Schema | undefined,
  seen = new Set<string>(),
): Schema | undefined {
  const ref = schema?.['$ref'];
  if (typeof ref !== 'string' || !ref.startsWith('#/') || seen.has(ref)) return schema;
  seen.add(ref);
  let node: unknown = doc;
  for (const part of ref.slice(2).split('/')) {
    node = record(node)?.[part.replaceAll('~1', '/').replaceAll('~0', '~')];
  }
  return resolve(doc, record(node), seen);
}

function diffSchemas(
  beforeDoc: Doc,
  afterDoc: Doc,
  rawOld: Schema,
  rawNew: Schema,
  where: string,
  changes: Change[],
  visiting: Set<Schema>,
): void {
  const oldS = resolve(beforeDoc, rawOld) ?? {};
  const newS = resolve(afterDoc, rawNew) ?? {};
  if (visiting.has(oldS)) return; // a recursive schema: compared once
  visiting.add(oldS);

  const oldType = typeName(oldS);
  const newType = typeName(newS);
  if (oldType !== newType) {
    changes.push({ breaking: true, where, what: `type changed from ${oldType} to ${newType}` });
    return;
  }
  if (oldS['format'] !== newS['format']) {
    changes.push({
      breaking: true,
      where,
      what: `format changed from ${String(oldS['format'] ?? 'none')} to ${String(newS['format'] ?? 'none')}`,
    });
  }
  if (!oldS['nullable'] && newS['nullable']) {
    changes.push({ breaking: true, where, what: 'became nullable' });
  }
  const oldEnum = Array.isArray(oldS['enum']) ? (oldS['enum'] as unknown[]) : undefined;
  const newEnum = Array.isArray(newS['enum']) ? (newS['enum'] as unknown[]) : undefined;
  if (oldEnum || newEnum) {
    for (const value of oldEnum ?? []) {
      if (newEnum && !newEnum.includes(value)) {
        changes.push({
          breaking: true,
          where,
          what: `enum value ${JSON.stringify(value)} removed`,
        });
      }
    }
    for (const value of newEnum ?? []) {
      if (oldEnum && !oldEnum.includes(value)) {
        changes.push({ breaking: false, where, what: `enum value ${JSON.stringify(value)} added` });
      }
    }
    if (oldEnum && !newEnum)
      changes.push({ breaking: false, where, what: 'enum removed (any value allowed)' });
    if (!oldEnum && newEnum)
      changes.push({ breaking: true, where, what: 'enum added (values restricted)' });
  }

  const oldProps = record(oldS['properties']) ?? {};
  const newProps = record(newS['properties']) ?? {};
  for (const name of Object.keys(oldProps)) {
    if (!(name in newProps))
      changes.push({ breaking: true, where: `${where}.${name}`, what: 'field removed' });
  }
  for (const [name, schema] of Object.entries(newProps)) {
    const path = `${where}.${name}`;
    if (!(name in oldProps)) {
      changes.push({
        breaking: false,
        where: path,
        what: `field added (${typeName(resolve(afterDoc, record(schema)) ?? {})})`,
      });
    } else {
      diffSchemas(
        beforeDoc,
        afterDoc,
        record(oldProps[name]) ?? {},
        record(schema) ?? {},
        path,
        changes,
        visiting,
      );
    }
  }
  if (oldS['items'] || newS['items']) {
    diffSchemas(
      beforeDoc,
      afterDoc,
      record(oldS['items']) ?? {},
      record(newS['items']) ?? {},
      `${where}[]`,
      changes,
      visiting,
    );
  }
  visiting.delete(oldS);
}

function typeName(schema: Schema): string {
  const type = schema['type'];
  return typeof type === 'string' ? type : Array.isArray(type) ? type.join('|') : 'any';
}

function diffOperation(before: Doc, after: Doc, changes: Change[]): void {
  const oldOp = operation(before);
  const newOp = operation(after);
  if (!oldOp) return;
  if (!newOp) {
    changes.push({ breaking: true, where: OPERATION, what: 'operation removed' });
    return;
  }
  const oldParams = parameters(before, oldOp);
  const newParams = parameters(after, newOp);
  for (const [key, param] of oldParams) {
    if (!newParams.has(key))
      changes.push({ breaking: true, where: OPERATION, what: `${describe(param)} removed` });
  }
  for (const [key, param] of newParams) {
    const old = oldParams.get(key);
    if (!old) {
      changes.push({
        breaking: param['required'] === true,
        where: OPERATION,
        what: `new ${param['required'] === true ? 'required' : 'optional'} ${describe(param)}`,
      });
      continue;
    }
    if (old['required'] !== true && param['required'] === true) {
      changes.push({
        breaking: true,
        where: OPERATION,
        what: `${describe(param)} became required`,
      });
    }
    if (old['required'] === true && param['required'] !== true) {
      changes.push({
        breaking: false,
        where: OPERATION,
        what: `${describe(param)} became optional`,
      });
    }
    const oldType = typeName(resolve(before, record(old['schema'])) ?? {});
    const newType = typeName(resolve(after, record(param['schema'])) ?? {});
    if (oldType !== newType) {
      changes.push({
        breaking: true,
        where: OPERATION,
        what: `${describe(param)} type changed from ${oldType} to ${newType}`,
      });
    }
  }

  const oldResponses = record(oldOp['responses']) ?? {};
  const newResponses = record(newOp['responses']) ?? {};
  for (const status of Object.keys(oldResponses)) {
    if (!(status in newResponses))
      changes.push({ breaking: true, where: OPERATION, what: `response ${status} removed` });
  }
  for (const status of Object.keys(newResponses)) {
    if (!(status in oldResponses))
      changes.push({ breaking: false, where: OPERATION, what: `response ${status} added` });
  }
  // The 200 body is compared through Conversation above, unless it now points elsewhere.
  const oldBody = jsonSchemaOf(oldResponses['200']);
  const newBody = jsonSchemaOf(newResponses['200']);
  if (oldBody && newBody && oldBody['$ref'] !== newBody['$ref']) {
    changes.push({
      breaking: true,
      where: OPERATION,
      what: 'response 200 body is no longer the same schema',
    });
  }
}

function operation(doc: Doc): Schema | undefined {
  return record(record(record(doc['paths'])?.[OPERATION_PATH])?.['get']);
}

function parameters(doc: Doc, op: Schema): Map<string, Schema> {
  const pathItem = record(record(doc['paths'])?.[OPERATION_PATH]) ?? {};
  const all = [
    ...(Array.isArray(pathItem['parameters']) ? pathItem['parameters'] : []),
    ...(Array.isArray(op['parameters']) ? op['parameters'] : []),
  ];
  const byKey = new Map<string, Schema>();
  for (const raw of all) {
    const param = resolve(doc, record(raw));
    if (param) byKey.set(`${String(param['in'])}:${String(param['name']).toLowerCase()}`, param);
  }
  return byKey;
}

function describe(param: Schema): string {
  return `${String(param['in'])} parameter "${String(param['name'])}"`;
}

function jsonSchemaOf(response: unknown): Schema | undefined {
  return record(record(record(record(response)?.['content'])?.['application/json'])?.['schema']);
}

function record(value: unknown): Schema | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Schema)
    : undefined;
}
