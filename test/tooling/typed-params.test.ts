/**
 * The facade is typed by the spec: its params and the query it builds come
 * from the generated operation, so a parameter the spec adds fails the type
 * check of the package's own sources, not only of its tests.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repo, runIn, sourceCheckout } from '../helpers/spec-scratch.js';

const tsc = join(repo, 'node_modules/.bin/tsc');

// Two generator runs and two full type checks on a loaded 2-core machine.
const SLOW = 240_000;

/** Adds a required query parameter `tenant` to the operation in the scratch spec. */
async function addRequiredTenant(root: string): Promise<void> {
  const path = join(root, 'spec/chatdash.yaml');
  const before = await readFile(path, 'utf8');
  const last = '          schema:\n            type: boolean\n'; // isPlatformId, the last parameter
  expect(before.split(last)).toHaveLength(2);
  await writeFile(
    path,
    before.replace(
      last,
      `${last}        - name: tenant\n          in: query\n          required: true\n          description: The tenant the conversation belongs to\n          schema:\n            type: string\n`,
    ),
  );
}

/** `file(line,col): error TSnnnn` locations in tsc's output. */
function errorFiles(output: string): string[] {
  return [...output.matchAll(/^(\S+?)\(\d+,\d+\): error TS\d+/gm)].map((m) => m[1]!);
}

describe('params typed by the spec', () => {
  it(
    'type-checks src/ and generated/ as committed (the control)',
    async () => {
      const root = await sourceCheckout();
      const generated = await runIn(root, 'npm', ['run', '-s', 'generate', '--', '--check']);
      expect(generated.code, generated.stderr).toBe(0);
      const checked = await runIn(root, tsc, ['--noEmit', '-p', 'tsconfig.src.json']);
      expect(checked.stdout).toBe('');
      expect(checked.code).toBe(0);
    },
    SLOW,
  );

  it(
    'fails tsc on src/ when the spec adds a required query parameter',
    async () => {
      const root = await sourceCheckout();
      await addRequiredTenant(root);
      const generated = await runIn(root, 'npm', ['run', '-s', 'generate']);
      expect(generated.code, generated.stderr).toBe(0);
      expect(await readFile(join(root, 'generated/chatdash.ts'), 'utf8')).toMatch(
        /\n\s+tenant: string;\n/,
      );

      const checked = await runIn(root, tsc, ['--noEmit', '-p', 'tsconfig.src.json']);
      expect(checked.code, checked.stdout).not.toBe(0);
      const files = new Set(errorFiles(checked.stdout));
      // The facade builds the query from the operation's type, and the param check returns it.
      expect([...files], checked.stdout).toEqual(
        expect.arrayContaining(['src/client.ts', 'src/options.ts']),
      );
      expect(checked.stdout).toContain("Property 'tenant' is missing");
    },
    SLOW,
  );
});
