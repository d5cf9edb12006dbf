/**
 * `npm run pack:types`: the `chatdash-types` package, declarations only, for
 * code that needs the ChatDash types but never calls the API (a front end, a
 * queue consumer) and should not install the client and its dependencies.
 *
 *   npm run pack:types                              writes ./chatdash-types-<version>.tgz
 *   npm run pack:types -- --pack-destination DIR    writes it into DIR
 *
 * The declarations are bundled from scripts/types-entry.ts, which re-exports
 * src/types.ts, which derives from generated/chatdash.ts: no second copy to keep.
 * The version is the client's, read from package.json.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import { build } from 'tsup';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');

interface ClientManifest {
  version: string;
  license?: string;
  engines?: Record<string, string>;
}

/**
 * The types package's package.json. Two declaration files with one content:
 * publint wants ESM-format types under `import` and CJS-format under `require`,
 * so neither resolution mode sees ambiguous interop.
 */
export function typesManifest(client: ClientManifest): Record<string, unknown> {
  return {
    name: 'chatdash-types',
    version: client.version,
    description:
      "Types only for ChatDash's Fetch Single Conversation endpoint (Conversation, ConversationStatus, paths, components, operations), from the same generated declarations as chatdash-client. No runtime code, no dependencies.",
    license: client.license ?? 'UNLICENSED',
    type: 'commonjs',
    sideEffects: false,
    // publint suggests it; the client's range, so the two install alike.
    engines: client.engines ?? { node: '>=20' },
    types: './index.d.ts',
    exports: {
      '.': {
        import: { types: './index.d.mts' },
        require: { types: './index.d.ts' },
      },
      './package.json': './package.json',
    },
    files: ['index.d.ts', 'index.d.mts'],
  };
}

/** One self-contained declaration file: the entry's exports and what they reach, nothing else. */
export async function bundleDeclarations(): Promise<string> {
  const outDir = await mkdtemp(join(tmpdir(), 'chatdash-types-dts-'));
  try {
    await build({
      config: false,
      silent: true,
      entry: { index: join(repo, 'scripts/types-entry.ts') },
      tsconfig: join(repo, 'tsconfig.json'),
      dts: { only: true },
      format: ['cjs'],
      outDir,
    });
    const bundled = await readFile(join(outDir, 'index.d.cts'), 'utf8');
    const generated = await readFile(join(repo, 'generated/chatdash.ts'), 'utf8');
    const spec = /sha256 ([0-9a-f]{64})/.exec(generated)?.[1] ?? 'unknown';
    const header = [
      `// chatdash-types: bundled by scripts/pack-types.ts from generated/chatdash.ts`,
      `// (spec sha256 ${spec}). Do not edit: run \`npm run pack:types\`.`,
      '',
    ].join('\n');
    // A comment followed by a blank line describes its source file (src/types.ts
    // speaks of chatdash-client/types), not this package; doc comments on
    // declarations sit right above them and stay.
    return header + bundled.replace(/^\/\*\*(?:(?!\*\/)[\s\S])*\*\/\n\n/gm, '');
  } finally {
    await rm(outDir, { recursive: true, force: true });
  }
}

/** Builds the package in a scratch folder and packs it; returns the tarball's path. */
export async function packTypes(destination: string): Promise<string> {
  const client = JSON.parse(await readFile(join(repo, 'package.json'), 'utf8')) as ClientManifest;
  const declarations = await bundleDeclarations();
  const staging = await mkdtemp(join(tmpdir(), 'chatdash-types-'));
  try {
    await writeFile(
      join(staging, 'package.json'),
      `${JSON.stringify(typesManifest(client), null, 2)}\n`,
    );
    await writeFile(join(staging, 'index.d.ts'), declarations);
    await writeFile(join(staging, 'index.d.mts'), declarations);
    const out = resolve(destination);
    await mkdir(out, { recursive: true });
    const { stdout } = await promisify(execFile)(
      'npm',
      ['pack', '--json', '--pack-destination', out],
      { cwd: staging },
    );
    const [{ filename }] = JSON.parse(stdout) as [{ filename: string }];
    return join(out, filename);
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

/** `npm run pack:types` (scripts/bin/pack-types.ts runs it): prints the tarball's path. */
export async function main(args: string[]): Promise<number> {
  try {
    const { values } = parseArgs({ args, options: { 'pack-destination': { type: 'string' } } });
    console.log(await packTypes(values['pack-destination'] ?? repo));
    return 0;
  } catch (error) {
    console.error(`pack:types: ${(error as Error)?.stack ?? String(error)}`);
    return 1;
  }
}
