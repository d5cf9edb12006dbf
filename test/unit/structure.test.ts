/**
 * The shape of src/, read from its import statements: no import circle, every
 * import pointing down the layers (types, then errors and redaction, then
 * telemetry, then coordination and transports, then policies, then the
 * pipeline, the client and the entry points), no file over 350 lines and
 * client.ts within 250. A new file must be given its layer here.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, posix, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = fileURLToPath(new URL('../../src/', import.meta.url));

/** Layers, lowest first. A folder's files share its layer; top-level files are named one by one. */
const LAYERS: readonly (readonly string[])[] = [
  ['generated/', 'types.ts', 'version.ts', 'endpoint.ts', 'validate.ts', 'send-json.ts'],
  ['errors.ts', 'redact.ts', 'rules.ts', 'limits.ts', 'base-url.ts'],
  ['telemetry/'],
  ['coordination/', 'transports/', 'options.ts'],
  ['policies/'],
  ['pipeline.ts', 'client-context.ts'],
  ['client.ts'],
  ['index.ts', 'testing.ts'],
  ['cli.ts'],
  ['bin.ts'],
];

function layerOf(file: string): number {
  const layer = LAYERS.findIndex((names) =>
    names.some((name) => (name.endsWith('/') ? file.startsWith(name) : file === name)),
  );
  if (layer === -1) throw new Error(`src/${file} has no layer in test/unit/structure.test.ts`);
  return layer;
}

interface Import {
  from: string;
  to: string;
  /** `import type` / `export type`: erased, no module is loaded. */
  typeOnly: boolean;
}

function sourceFiles(dir = SRC): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') ? [relative(SRC, path).split('\\').join('/')] : [];
  });
}

/** Every relative import, re-export and dynamic `import()` of a file, resolved to a path under src/. */
export function importsOf(file: string, text: string): Import[] {
  const found: Import[] = [];
  const resolve = (spec: string) =>
    posix.normalize(posix.join(dirname(file), spec)).replace(/\.js$/, '.ts');
  const statement = /^\s*(?:import|export)\s+(type\s+)?(?:[^'";]*?\s+from\s+)?'(\.{1,2}\/[^']+)'/gm;
  for (const [, type, spec] of text.matchAll(statement))
    found.push({ from: file, to: resolve(spec!), typeOnly: type !== undefined });
  for (const [, spec] of text.matchAll(/\bimport\(\s*'(\.{1,2}\/[^']+)'\s*\)/g))
    found.push({ from: file, to: resolve(spec!), typeOnly: false });
  return found;
}

const files = sourceFiles();
const texts = new Map(files.map((file) => [file, readFileSync(join(SRC, file), 'utf8')]));
const imports = files.flatMap((file) => importsOf(file, texts.get(file)!));

/** Every import circle, each as the files around it (Tarjan's strongly connected components). */
export function circles(edges: readonly Import[]): string[][] {
  const next = new Map<string, string[]>();
  for (const { from, to } of edges) next.set(from, [...(next.get(from) ?? []), to]);
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (node: string) => {
    index.set(node, index.size);
    low.set(node, index.get(node)!);
    stack.push(node);
    onStack.add(node);
    for (const to of next.get(node) ?? []) {
      if (!index.has(to)) {
        visit(to);
        low.set(node, Math.min(low.get(node)!, low.get(to)!));
      } else if (onStack.has(to)) low.set(node, Math.min(low.get(node)!, index.get(to)!));
    }
    if (low.get(node) !== index.get(node)) return;
    const component: string[] = [];
    for (let top = stack.pop()!; ; top = stack.pop()!) {
      onStack.delete(top);
      component.push(top);
      if (top === node) break;
    }
    if (component.length > 1 || (next.get(node) ?? []).includes(node)) found.push(component.sort());
  };
  for (const node of next.keys()) if (!index.has(node)) visit(node);
  return found;
}

/**
 * An import that points up a layer. One kind is allowed: a policy's `import type`
 * of pipeline.ts, where the shape of a step (`Call`, `Step`) is declared, as Azure's
 * policies import `PipelinePolicy` from its pipeline.ts; pipeline.ts imports no policy.
 */
export function upward(edges: readonly Import[]): string[] {
  return edges
    .filter(({ from, to }) => !to.startsWith('../') && layerOf(to) > layerOf(from))
    .filter(
      ({ from, to, typeOnly }) =>
        !(typeOnly && to === 'pipeline.ts' && from.startsWith('policies/')),
    )
    .map(({ from, to }) => `${from} -> ${to}`);
}

describe('the structure of src/', () => {
  it('reads the imports it checks (the parser finds what a file imports)', () => {
    expect(importsOf('policies/x.ts', "import type { Call } from '../pipeline.js';")).toEqual([
      { from: 'policies/x.ts', to: 'pipeline.ts', typeOnly: true },
    ]);
    const multiLine =
      "import {\n  a,\n  type B,\n} from './coordinator.js';\nexport { c } from './c.js';";
    expect(importsOf('coordination/m.ts', multiLine).map((i) => i.to)).toEqual([
      'coordination/coordinator.ts',
      'coordination/c.ts',
    ]);
    expect(importsOf('policies/s.ts', "await import('../validate.js')")[0]?.to).toBe('validate.ts');
    expect(imports.length).toBeGreaterThan(100);
  });

  it('finds a circle and an upward import when there is one', () => {
    const edge = (from: string, to: string): Import => ({ from, to, typeOnly: false });
    expect(circles([edge('a.ts', 'b.ts'), edge('b.ts', 'c.ts'), edge('c.ts', 'a.ts')])).toEqual([
      ['a.ts', 'b.ts', 'c.ts'],
    ]);
    expect(upward([edge('errors.ts', 'telemetry/log.ts')])).toEqual([
      'errors.ts -> telemetry/log.ts',
    ]);
    expect(upward([edge('policies/retry.ts', 'pipeline.ts')])).toHaveLength(1);
  });

  it('has no import circle', () => {
    expect(circles(imports)).toEqual([]);
  });

  it('has every import pointing down the layers', () => {
    expect(upward(imports)).toEqual([]);
  });

  it('has no step importing another step: what steps share lives in files that are no step', () => {
    const isStep = (file: string) =>
      file === 'policies/exchange.ts' ||
      (file.startsWith('policies/') &&
        /^export function \w+\([^)]*\): Step\b/m.test(texts.get(file)!));
    const steps = files.filter(isStep);
    expect(steps).toEqual(expect.arrayContaining(['policies/retry.ts', 'policies/pause.ts']));
    const crossings = imports
      .filter(({ from, to }) => isStep(from) && steps.includes(to))
      .map(({ from, to }) => `${from} -> ${to}`);
    expect(crossings).toEqual([]);
  });

  it('has no step reading the shared client context: each gets what it needs from its factory', () => {
    const readers = files.filter(
      (file) => file.startsWith('policies/') && /\bcall\.client\b/.test(texts.get(file)!),
    );
    expect(readers).toEqual([]);
  });

  it('gives every file in src/ a layer', () => {
    for (const file of files) expect(() => layerOf(file), file).not.toThrow();
  });

  it('keeps every file within 350 lines and client.ts within 250', () => {
    const lines = (file: string) => texts.get(file)!.split('\n').length - 1;
    const long = files.filter((file) => lines(file) > 350).map((file) => `${file}: ${lines(file)}`);
    expect(long).toEqual([]);
    expect(lines('client.ts')).toBeLessThanOrEqual(250);
  });
});
