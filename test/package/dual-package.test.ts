/**
 * The dual-package hazard, from the packed tarball: a service whose own code
 * imports the ESM build while a CommonJS dependency requires the CJS build
 * has two copies of every class. Errors must still be `instanceof` either
 * copy's classes, and every class must keep its export name in both builds.
 */
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installPacked, run } from '../helpers/packed.js';

let root: string;
beforeAll(async () => {
  root = await installPacked();
}, 120_000);
afterAll(async () => {
  if (root) await rm(root, { recursive: true, force: true });
});

// An instance of each exported class, made with arguments its constructor takes.
const make = `
function make(lib, name) {
  const C = lib[name];
  if (C === lib.APIError || C.prototype instanceof lib.APIError) return new C(404, new Headers(), null, 'm');
  if (name === 'ResponseValidationError') return new C([], null, 200, new Headers(), { url: 'https://x/', attempts: [] });
  if (name === 'CircuitOpenError') return new C('m', { retryAfterMs: 5 });
  return new C('m');
}
`;

const script = `
import { createRequire } from 'node:module';
const esm = await import('chatdash-client');
const cjs = createRequire(import.meta.url)('chatdash-client');
const classes = Object.keys(esm).filter((k) => typeof esm[k] === 'function' && esm[k].prototype instanceof Error);
${make}
const report = { classes, names: {}, mismatches: [] };
for (const name of classes) {
  report.names[name] = [esm[name].name, cjs[name].name, make(esm, name).name, make(cjs, name).name];
  for (const [from, to] of [[esm, cjs], [cjs, esm]]) {
    const error = make(from, name);
    for (const other of classes) {
      // What the same-copy check says is what the cross-copy check must say.
      const expected = error instanceof from[other];
      if ((error instanceof to[other]) !== expected) report.mismatches.push(name + ' vs ' + other);
    }
  }
}
// A real rejection from the CJS copy, caught by the ESM copy's class.
const client = cjs.createChatDashClient({ apiKey: 'ck_dual', fetch: async () => new Response('{}', { status: 404 }), maxRetries: 0 });
const error = await client.getConversation({ agentId: 'a', conversationId: 'c' }).catch((e) => e);
report.real = [error instanceof esm.NotFoundError, error instanceof esm.APIError, error instanceof esm.ChatDashError, error instanceof esm.InternalServerError];
console.log(JSON.stringify(report));
`;

describe('the ESM and CommonJS copies of the packed package', () => {
  it('give every class its export name and recognise each other’s errors both ways', async () => {
    await writeFile(join(root, 'dual.mjs'), script);
    const { stdout } = await run(process.execPath, [join(root, 'dual.mjs')]);
    const report = JSON.parse(stdout) as {
      classes: string[];
      names: Record<string, string[]>;
      mismatches: string[];
      real: boolean[];
    };
    expect(report.classes).toHaveLength(15);
    for (const [name, seen] of Object.entries(report.names))
      expect(seen).toEqual([name, name, name, name]);
    expect(report.mismatches).toEqual([]);
    expect(report.real).toEqual([true, true, true, false]);
  });
});

describe('the package minified into a consumer’s bundle', () => {
  // A minifier renames every class (`class NotFoundError` becomes `class a`),
  // so each name must come from a string the package keeps, not from the class.
  it.each([
    ['esm', `import * as lib from 'chatdash-client';`],
    ['cjs', `const lib = require('chatdash-client');`],
  ] as const)(
    'keeps every class’s name, stack and kind in a minified %s bundle',
    async (format, load) => {
      const outfile = join(root, `minified-${format}.${format === 'esm' ? 'mjs' : 'cjs'}`);
      const contents = `${load}
${make}
const report = [];
for (const name of Object.keys(lib)) {
  const C = lib[name];
  if (typeof C !== 'function' || !(C.prototype instanceof Error)) continue;
  const error = make(lib, name);
  const stack = error.stack.split('\\n')[0];
  report.push({ name, seen: [C.name, error.name, stack, error instanceof lib.ChatDashError], message: error.message });
}
console.log(JSON.stringify(report));
`;
      await build({
        stdin: { contents, resolveDir: root },
        bundle: true,
        minify: true,
        format,
        platform: 'node',
        target: 'node20',
        outfile,
        logLevel: 'silent',
        // Only this package is minified; its dependencies and optional peers stay outside.
        external: [
          'openapi-fetch',
          'ajv',
          'ajv-formats',
          '@opentelemetry/api',
          'undici',
          'ioredis',
        ],
      });
      const { stdout } = await run(process.execPath, [outfile]);
      const report = JSON.parse(stdout) as { name: string; seen: unknown[]; message: string }[];
      expect(report).toHaveLength(15);
      for (const { name, seen, message } of report)
        expect(seen).toEqual([name, name, `${name}: ${message}`, true]);
    },
  );
});
