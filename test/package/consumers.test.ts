/**
 * The packed package as consumers get it: `npm pack`, unpacked into a scratch
 * project outside this repository, then compiled with moduleResolution node16
 * (ESM and CJS) and bundler, and run for real in ESM and CJS.
 */
import { readFile, realpath, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPrism, stopPrism } from '../../scripts/prism.js';
import { measure, ENTRY_LIMIT_BYTES, TOTAL_LIMIT_BYTES } from '../../scripts/size.js';
import { installPacked, repo, run } from '../helpers/packed.js';
import { compile, consumerProject, RESOLUTIONS } from './consumer-project.js';
let root: string;

const consumerCode = `
import { createChatDashClient, NotFoundError, APIError, VERSION, type Conversation, type ChatDashClientOptions } from 'chatdash-client';
import type { Conversation as TypesOnly, ConversationStatus, paths, ChatDashClient, GetConversationParams } from 'chatdash-client/types';
import { makeConversation, startMockChatDash } from 'chatdash-client/testing';
import { createUndiciFetch, type UndiciFetch } from 'chatdash-client/undici';
import { createRedisCoordinator, type RedisClient } from 'chatdash-client/redis';

export const makeFetch = (): UndiciFetch => createUndiciFetch({ connections: 8, proxy: 'env' });
export const makeCoordinator = (redis: RedisClient) => createRedisCoordinator({ redis, prefix: 'app:' });
const options: ChatDashClientOptions = { apiKey: process.env.CHATDASH_API_KEY, validateResponses: true };
const status: ConversationStatus = 'pending';
const sample: TypesOnly = makeConversation({ status });
type Path = keyof paths;
const path: Path = '/agents/{agentId}/conversations/{conversationId}';

export async function main(): Promise<Conversation> {
  await using mock = await startMockChatDash({ conversations: [sample] });
  mock.set({ _id: 'conv_bad', agentId: 'agent_0001', status: 'closed' });
  mock.failNext(1, { status: 503, retryAfterMs: 0 });
  const chatdash: ChatDashClient = createChatDashClient({ ...options, apiKey: 'ck_consumer', baseUrl: mock.baseUrl });
  const params: GetConversationParams = { agentId: 'agent_0001', conversationId: 'conv_0001' };
  const found = await chatdash.getConversation(params);
  const missing = await chatdash.getConversation({ agentId: 'agent_0001', conversationId: 'nope' }).catch((e: unknown) => e);
  if (!(missing instanceof NotFoundError) || !(missing instanceof APIError) || missing.status !== 404) throw new Error('expected NotFoundError');
  mock.reset();
  return found;
}
const version: string = VERSION;
export { path, version };
`;

function project(
  name: string,
  type: 'module' | 'commonjs',
  module: string,
  moduleResolution: string,
) {
  return consumerProject(root, {
    name,
    type,
    module,
    moduleResolution,
    files: { 'consumer.ts': consumerCode },
  });
}

beforeAll(async () => {
  // Its dependencies, and @types/node for the consumers, linked from this repository's install.
  root = await installPacked();
}, 120_000);

afterAll(async () => {
  if (root) await rm(root, { recursive: true, force: true });
});

describe('the packed package', () => {
  it.each(RESOLUTIONS)(
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

  // Node 20 cannot parse `await using`, so the scripts call what it calls on leaving the block.
  it('runs in ESM and in CommonJS, with validation, against the testing mock, which closes by Symbol.asyncDispose', async () => {
    const esm = `import { createChatDashClient, ChatDashError } from 'chatdash-client';
import { makeConversation, startMockChatDash } from 'chatdash-client/testing';
const mock = await startMockChatDash({ conversations: [makeConversation()] });
const client = createChatDashClient({ apiKey: 'ck_esm', baseUrl: mock.baseUrl, validateResponses: true });
const c = await client.getConversation({ agentId: 'agent_0001', conversationId: 'conv_0001' });
await mock[Symbol.asyncDispose]();
console.log(JSON.stringify({ id: c._id, base: typeof ChatDashError }));`;
    const cjs = `const { createChatDashClient, ChatDashError } = require('chatdash-client');
const { makeConversation, startMockChatDash } = require('chatdash-client/testing');
(async () => {
  const mock = await startMockChatDash({ conversations: [makeConversation()] });
  const client = createChatDashClient({ apiKey: 'ck_cjs', baseUrl: mock.baseUrl, validateResponses: true });
  const c = await client.getConversation({ agentId: 'agent_0001', conversationId: 'conv_0001' });
  await mock[Symbol.asyncDispose]();
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

  it('loads chatdash-client/redis in ESM and CommonJS without ioredis, says how to get it, and runs with it', async () => {
    // Redis on the discard port, where nothing listens: the coordinator decides locally.
    const body = (load: string) => `${load}
  if (!Redis) {
    try {
      createRedisCoordinator({ redis: undefined });
    } catch (error) {
      console.log(JSON.stringify({ error: error.name + ': ' + error.message }));
    }
    return;
  }
  const redis = new Redis({ port: 9, lazyConnect: true });
  const coordinator = createRedisCoordinator({ redis });
  const mock = await startMockChatDash({ conversations: [makeConversation()] });
  const client = createChatDashClient({ apiKey: 'ck_redis', baseUrl: mock.baseUrl, coordinator, logLevel: 'off' });
  const c = await client.getConversation({ agentId: 'agent_0001', conversationId: 'conv_0001' });
  await Promise.all([mock.close(), coordinator.close()]);
  redis.disconnect();
  console.log(JSON.stringify({ id: c._id }));
})();`;
    const esm = body(`import { createChatDashClient } from 'chatdash-client';
import { createRedisCoordinator } from 'chatdash-client/redis';
import { makeConversation, startMockChatDash } from 'chatdash-client/testing';
(async () => {
  const { Redis } = await import('ioredis').catch(() => ({}));`);
    const cjs = body(`const { createChatDashClient } = require('chatdash-client');
const { createRedisCoordinator } = require('chatdash-client/redis');
const { makeConversation, startMockChatDash } = require('chatdash-client/testing');
(async () => {
  let Redis;
  try { ({ Redis } = require('ioredis')); } catch {}`);
    await writeFile(join(root, 'redis.mjs'), esm);
    await writeFile(join(root, 'redis.cjs'), cjs);
    const missing =
      'ChatDashError: createRedisCoordinator: redis must be an ioredis (5 or 6) or iovalkey Redis or Cluster, or a node-redis (redis 5 or 6) client from createClient() or cluster from createCluster(), got undefined';
    for (const file of ['redis.mjs', 'redis.cjs']) {
      const { stdout } = await run(process.execPath, [join(root, file)]);
      expect(JSON.parse(stdout), file).toEqual({ error: missing });
    }
    await symlink(join(repo, 'node_modules/ioredis'), join(root, 'node_modules/ioredis'), 'dir');
    for (const file of ['redis.mjs', 'redis.cjs']) {
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

  it("exports VERSION, equal to package.json's version, from the ESM and the CommonJS build", async () => {
    await writeFile(
      join(root, 'version.mjs'),
      `import { createRequire } from 'node:module';
import { VERSION } from 'chatdash-client';
const require = createRequire(import.meta.url);
console.log(JSON.stringify({
  esm: VERSION,
  cjs: require('chatdash-client').VERSION,
  packed: require('chatdash-client/package.json').version,
}));`,
    );
    const { stdout } = await run(process.execPath, [join(root, 'version.mjs')]);
    const { version } = JSON.parse(await readFile(join(repo, 'package.json'), 'utf8')) as {
      version: string;
    };
    expect(JSON.parse(stdout)).toEqual({ esm: version, cjs: version, packed: version });
  });

  it("exports the vendored spec as chatdash-client/spec.yaml, for Prism in a consumer's tests", async () => {
    await writeFile(
      join(root, 'spec-path.cjs'),
      `console.log(require.resolve('chatdash-client/spec.yaml'));`,
    );
    await writeFile(
      join(root, 'spec-path.mjs'),
      `import { fileURLToPath } from 'node:url';
console.log(fileURLToPath(import.meta.resolve('chatdash-client/spec.yaml')));`,
    );
    const shipped = await realpath(join(root, 'node_modules/chatdash-client/spec/chatdash.yaml'));
    for (const file of ['spec-path.cjs', 'spec-path.mjs']) {
      const { stdout } = await run(process.execPath, [join(root, file)]);
      expect(stdout.trim(), file).toBe(shipped);
    }
    expect(await readFile(shipped, 'utf8')).toBe(
      await readFile(join(repo, 'spec/chatdash.yaml'), 'utf8'),
    );

    // A consumer's test set-up: Prism from the resolved path, the packed client against it.
    const { url, child } = await startPrism(shipped);
    try {
      await writeFile(
        join(root, 'prism.mjs'),
        `import { createChatDashClient } from 'chatdash-client';
const client = createChatDashClient({ apiKey: 'ck_consumer_prism', baseUrl: process.argv[2], validateResponses: true });
console.log(JSON.stringify(await client.getConversation({ agentId: 'agent_1', conversationId: 'conv_1' })));`,
      );
      const { stdout } = await run(process.execPath, [join(root, 'prism.mjs'), url]);
      // Prism's static answer, fetched directly: the client passed it through unchanged.
      const direct = await fetch(`${url}/agents/agent_1/conversations/conv_1`, {
        headers: { Authorization: 'ck_consumer_prism' },
      });
      expect(direct.status).toBe(200);
      expect(JSON.parse(stdout)).toEqual(await direct.json());
      expect(JSON.parse(stdout)).toMatchObject({ _id: expect.any(String), status: 'ai' });
    } finally {
      await stopPrism(child);
    }
  });

  it('ships only dist, spec and the README (no tests, sources or secrets)', async () => {
    const { stdout } = await run('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
      cwd: repo,
    });
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
