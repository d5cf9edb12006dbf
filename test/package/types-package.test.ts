/**
 * The chatdash-types tarball as a consumer gets it: `npm run pack:types`, then
 * `npm install` of that tarball alone into an empty project outside this
 * repository (offline: a package with no dependencies needs no registry).
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { publint } from 'publint';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { typesManifest } from '../../scripts/pack-types.js';
import { compile, consumerProject, RESOLUTIONS } from './consumer-project.js';

const run = promisify(execFile);
const repo = resolve(import.meta.dirname, '../..');
const client = JSON.parse(await readFile(join(repo, 'package.json'), 'utf8')) as {
  version: string;
};
let root: string;
let tarball: string;
let consumer: string;
const installed = () => join(consumer, 'node_modules/chatdash-types');

const goodCode = `
import type { Conversation, ConversationStatus, paths } from 'chatdash-types';

type Get = paths['/agents/{agentId}/conversations/{conversationId}']['get'];
export type Body = Get['responses'][200]['content']['application/json'];
export const status: ConversationStatus = 'pending';
export const conversation: Conversation = { _id: 'conv_1', status };
export const same: Body extends Conversation ? true : false = true;
`;

// A status the spec does not have: compiling this must fail, or nothing is checked.
const brokenCode = `
import type { ConversationStatus } from 'chatdash-types';
export const status: ConversationStatus = 'closed';
`;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'chatdash-types-consumer-'));
  const { stdout } = await run(
    'npm',
    ['run', '-s', 'pack:types', '--', '--pack-destination', root],
    {
      cwd: repo,
    },
  );
  tarball = stdout.trim();
  consumer = join(root, 'consumer');
  await mkdir(consumer);
  await writeFile(
    join(consumer, 'package.json'),
    JSON.stringify({ name: 'consumer', private: true }),
  );
  await run('npm', ['install', '--offline', '--no-audit', '--no-fund', tarball], { cwd: consumer });
}, 120_000);

afterAll(async () => {
  if (root) await rm(root, { recursive: true, force: true });
});

describe('the chatdash-types package (npm run pack:types)', () => {
  it("is named chatdash-types-<the client's version>.tgz", () => {
    expect(tarball).toBe(join(root, `chatdash-types-${client.version}.tgz`));
  });

  it("takes its version from the client's package.json, whatever it is", () => {
    expect(typesManifest({ version: '9.8.7-rc.1' })['version']).toBe('9.8.7-rc.1');
  });

  it('installed alone, adds exactly one package (npm ls --all)', async () => {
    const { stdout } = await run('npm', ['ls', '--all', '--json'], { cwd: consumer });
    const tree = JSON.parse(stdout) as {
      dependencies: Record<string, { version: string; dependencies?: unknown }>;
    };
    expect(Object.keys(tree.dependencies)).toEqual(['chatdash-types']);
    expect(tree.dependencies['chatdash-types']?.version).toBe(client.version);
    expect(tree.dependencies['chatdash-types']?.dependencies).toBeUndefined();
    const modules = await readdir(join(consumer, 'node_modules'));
    expect(modules.filter((name) => !name.startsWith('.'))).toEqual(['chatdash-types']);
  });

  it('declares no dependencies of any kind and ships declaration files only', async () => {
    const manifest = JSON.parse(
      await readFile(join(installed(), 'package.json'), 'utf8'),
    ) as Record<string, unknown>;
    for (const field of [
      'dependencies',
      'peerDependencies',
      'optionalDependencies',
      'bundleDependencies',
    ]) {
      expect(manifest, field).not.toHaveProperty(field);
    }
    const files = await readdir(installed(), { recursive: true });
    expect(files.sort()).toEqual(['index.d.mts', 'index.d.ts', 'package.json']);
    expect(files.filter((file) => /\.[cm]?js$/.test(file))).toEqual([]);
  });

  it.each(RESOLUTIONS)(
    'type-checks `import type { Conversation, ConversationStatus, paths }` with moduleResolution %s, and rejects a wrong status',
    async (_, name, type, module, moduleResolution) => {
      const project = { type, module, moduleResolution, types: [] };
      const good = await consumerProject(consumer, {
        ...project,
        name,
        files: { 'consumer.ts': goodCode },
      });
      expect(await compile(good)).toBe('');
      const broken = await consumerProject(consumer, {
        ...project,
        name: `${name}-broken`,
        files: { 'consumer.ts': brokenCode },
      });
      expect(await compile(broken)).toContain(
        `Type '"closed"' is not assignable to type 'ConversationStatus'`,
      );
    },
  );

  it('passes publint (suggestions included) and attw', async () => {
    const bytes = await readFile(tarball);
    const { messages } = await publint({
      pack: { tarball: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length) },
      level: 'suggestion',
      strict: true,
    });
    expect(messages).toEqual([]);
    const attw = await run(process.execPath, [
      join(repo, 'node_modules/@arethetypeswrong/cli/dist/index.js'),
      tarball,
      '--format',
      'json',
    ]).catch((error: { stdout: string }) => error);
    const { analysis } = JSON.parse(attw.stdout) as { analysis: { problems: unknown[] } };
    expect(analysis.problems).toEqual([]);
  });
});
