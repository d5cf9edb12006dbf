/**
 * The packed package as consumers get it: `npm pack`, unpacked into a scratch
 * project outside this repository, then compiled with moduleResolution node16
 * (ESM and CJS) and bundler, and run for real in ESM and CJS.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { measure, ENTRY_LIMIT_BYTES, TOTAL_LIMIT_BYTES } from '../../scripts/size.js';

const run = promisify(execFile);
const repo = resolve(import.meta.dirname, '../..');
const tsc = join(repo, 'node_modules/typescript/bin/tsc');
let root: string;

const consumerCode = `
import { createChatDashClient, NotFoundError, APIError, type Conversation, type ChatDashClientOptions } from 'chatdash-client';
import type { Conversation as TypesOnly, ConversationStatus, paths, ChatDashClient, GetConversationParams } from 'chatdash-client/types';
import { makeConversation, startMockChatDash } from 'chatdash-client/testing';
import { createUndiciFetch, type UndiciFetch } from 'chatdash-client/undici';

export const makeFetch = (): UndiciFetch => createUndiciFetch({ connections: 8, proxy: 'env' });
const options: ChatDashClientOptions = { apiKey: process.env.CHATDASH_API_KEY, validateResponses: true };
const status: ConversationStatus = 'pending';
const sample: TypesOnly = makeConversation({ status });
type Path = keyof paths;
const path: Path = '/agents/{agentId}/conversations/{conversationId}';

export async function main(): Promise<Conversation> {
  const mock = await startMockChatDash({ conversations: [sample] });
  try {
    const chatdash: ChatDashClient = createChatDashClient({ ...options, apiKey: 'ck_consumer', baseUrl: mock.baseUrl });
    const params: GetConversationParams = { agentId: 'agent_0001', conversationId: 'conv_0001' };
    const found = await chatdash.getConversation(params);
    const missing = await chatdash.getConversation({ agentId: 'agent_0001', conversationId: 'nope' }).catch((e: unknown) => e);
    if (!(missing instanceof NotFoundError) || !(missing instanceof APIError) || missing.status !== 404) throw new Error('expected NotFoundError');
    return found;
  } finally {
    await mock.close();
  }
}
export { path };
`;

const tsconfig = (module: string, moduleResolution: string) =>
  JSON.stringify({
    compilerOptions: {
      module,
      moduleResolution,
      target: 'ES2022',
      strict: true,
      exactOptionalPropertyTypes: true,
      noEmit: true,
      skipLibCheck: false,
      types: ['node'],
      lib: ['ES2022'],
    },
    include: ['*.ts'],
  });

async function project(
  name: string,
  type: 'module' | 'commonjs',
  module: string,
  moduleResolution: string,
) {
  const dir = join(root, name);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'package.json'), JSON.stringify({ name, private: true, type }));
  await writeFile(join(dir, 'tsconfig.json'), tsconfig(module, moduleResolution));
  await writeFile(join(dir, 'consumer.ts'), consumerCode);
  return dir;
}

async function compile(dir: string) {
  try {
    await run(process.execPath, [tsc, '-p', dir]);
    return '';
  } catch (error) {
    return (error as { stdout: string }).stdout || String(error);
  }
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'chatdash-consumer-'));
  const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', root], {
    cwd: repo,
  });
  const [{ filename }] = JSON.parse(stdout) as [{ filename: string }];
  const installed = join(root, 'node_modules/chatdash-client');
  await mkdir(installed, { recursive: true });
  await run('tar', ['-xzf', join(root, filename), '-C', installed, '--strip-components=1']);
  // Its dependencies, and @types/node for the consumers, from this repository's install.
  for (const dep of ['openapi-fetch', 'ajv-formats', 'ajv', '@types/node', 'undici-types']) {
    await mkdir(join(root, 'node_modules', dep, '..'), { recursive: true });
    await symlink(join(repo, 'node_modules', dep), join(root, 'node_modules', dep), 'dir');
  }
}, 120_000);

afterAll(async () => {
  if (root) await rm(root, { recursive: true, force: true });
});

describe('the packed package', () => {
  it.each([
    ['node16, ESM', 'esm-node16', 'module', 'node16', 'node16'],
    ['node16, CommonJS', 'cjs-node16', 'commonjs', 'node16', 'node16'],
    ['bundler', 'bundler', 'module', 'esnext', 'bundler'],
  ] as const)(
    'type-checks a consumer with moduleResolution %s',
    async (_, name, type, module, resolution) => {
      const dir = await project(name, type, module, resolution);
      expect(await compile(dir)).toBe('');
    },
  );

  it('really type-checks: a consumer that omits agentId fails to compile', async () => {
    const dir = await project('broken', 'module', 'node16', 'node16');
    await writeFile(
      join(dir, 'broken.ts'),
      `import { createChatDashClient } from 'chatdash-client';\nvoid createChatDashClient().getConversation({ conversationId: 'c' });\n`,
    );
    expect(await compile(dir)).toContain("Property 'agentId' is missing");
  });

  it('runs in ESM and in CommonJS, with validation, against the testing mock', async () => {
    const esm = `import { createChatDashClient, ChatDashError } from 'chatdash-client';
import { makeConversation, startMockChatDash } from 'chatdash-client/testing';
const mock = await startMockChatDash({ conversations: [makeConversation()] });
const client = createChatDashClient({ apiKey: 'ck_esm', baseUrl: mock.baseUrl, validateResponses: true });
const c = await client.getConversation({ agentId: 'agent_0001', conversationId: 'conv_0001' });
await mock.close();
console.log(JSON.stringify({ id: c._id, base: typeof ChatDashError }));`;
    const cjs = `const { createChatDashClient, ChatDashError } = require('chatdash-client');
const { makeConversation, startMockChatDash } = require('chatdash-client/testing');
(async () => {
  const mock = await startMockChatDash({ conversations: [makeConversation()] });
  const client = createChatDashClient({ apiKey: 'ck_cjs', baseUrl: mock.baseUrl, validateResponses: true });
  const c = await client.getConversation({ agentId: 'agent_0001', conversationId: 'conv_0001' });
  await mock.close();
  console.log(JSON.stringify({ id: c._id, base: typeof ChatDashError }));
})();`;
    await writeFile(join(root, 'run.mjs'), esm);
    await writeFile(join(root, 'run.cjs'), cjs);
    for (const file of ['run.mjs', 'run.cjs']) {
      const { stdout } = await run(process.execPath, [join(root, file)]);
      expect(JSON.parse(stdout), file).toEqual({ id: 'conv_0001', base: 'function' });
    }
  });

  it('runs chatdash-client/undici in ESM and CommonJS once undici is installed, and says how to install it before', async () => {
    const esm = `import { createChatDashClient } from 'chatdash-client';
import { createUndiciFetch } from 'chatdash-client/undici';
import { makeConversation, startMockChatDash } from 'chatdash-client/testing';
let fetch;
try {
  fetch = createUndiciFetch();
} catch (error) {
  console.log(JSON.stringify({ error: error.name + ': ' + error.message }));
  process.exit(0);
}
const mock = await startMockChatDash({ conversations: [makeConversation()] });
const client = createChatDashClient({ apiKey: 'ck_esm', baseUrl: mock.baseUrl, fetch });
const c = await client.getConversation({ agentId: 'agent_0001', conversationId: 'conv_0001' });
await Promise.all([mock.close(), fetch.close()]);
console.log(JSON.stringify({ id: c._id }));`;
    const cjs = `const { createChatDashClient } = require('chatdash-client');
const { createUndiciFetch } = require('chatdash-client/undici');
const { makeConversation, startMockChatDash } = require('chatdash-client/testing');
(async () => {
  let fetch;
  try {
    fetch = createUndiciFetch();
  } catch (error) {
    console.log(JSON.stringify({ error: error.name + ': ' + error.message }));
    return;
  }
  const mock = await startMockChatDash({ conversations: [makeConversation()] });
  const client = createChatDashClient({ apiKey: 'ck_cjs', baseUrl: mock.baseUrl, fetch });
  const c = await client.getConversation({ agentId: 'agent_0001', conversationId: 'conv_0001' });
  await Promise.all([mock.close(), fetch.close()]);
  console.log(JSON.stringify({ id: c._id }));
})();`;
    await writeFile(join(root, 'undici.mjs'), esm);
    await writeFile(join(root, 'undici.cjs'), cjs);
    const missing =
      'ChatDashError: createUndiciFetch: needs the optional peer dependency undici (>=7): npm install undici';
    for (const file of ['undici.mjs', 'undici.cjs']) {
      const { stdout } = await run(process.execPath, [join(root, file)]);
      expect(JSON.parse(stdout), file).toEqual({ error: missing });
    }
    await symlink(join(repo, 'node_modules/undici'), join(root, 'node_modules/undici'), 'dir');
    for (const file of ['undici.mjs', 'undici.cjs']) {
      const { stdout } = await run(process.execPath, [join(root, file)]);
      expect(JSON.parse(stdout), file).toEqual({ id: 'conv_0001' });
    }
  });

  it('has no runtime exports under chatdash-client/types, in ESM or CommonJS', async () => {
    await writeFile(
      join(root, 'types.mjs'),
      `import { createRequire } from 'node:module';
const esm = await import('chatdash-client/types');
const cjs = createRequire(import.meta.url)('chatdash-client/types');
console.log(JSON.stringify({ esm: Object.keys(esm), cjs: Object.keys(cjs) }));`,
    );
    const { stdout } = await run(process.execPath, [join(root, 'types.mjs')]);
    expect(JSON.parse(stdout)).toEqual({ esm: [], cjs: [] });
  });

  it('ships only dist, spec and the README (no tests, sources or secrets)', async () => {
    const { stdout } = await run('npm', ['pack', '--dry-run', '--json'], { cwd: repo });
    const [{ files }] = JSON.parse(stdout) as [{ files: { path: string }[] }];
    const tops = new Set(files.map((f) => f.path.split('/')[0]));
    expect([...tops].sort()).toEqual(['README.md', 'dist', 'package.json', 'spec']);
  });
});

describe('bundle size (npm run size)', () => {
  it(`keeps the package's own code for a one-call ESM program at or under ${ENTRY_LIMIT_BYTES / 1024} KB gzipped`, async () => {
    const { ownGzip, entryGzip, validatorGzip } = await measure();
    console.log(
      `size: own ${(ownGzip / 1024).toFixed(2)} KB, with openapi-fetch ${(entryGzip / 1024).toFixed(2)} KB, validator +${(validatorGzip / 1024).toFixed(2)} KB (gzipped)`,
    );
    expect(ownGzip).toBeLessThanOrEqual(ENTRY_LIMIT_BYTES);
    expect(entryGzip).toBeLessThanOrEqual(TOTAL_LIMIT_BYTES);
    // The validator really is split off: it is not in the eager bundle.
    expect(validatorGzip).toBeGreaterThan(2_000);
  });
});
