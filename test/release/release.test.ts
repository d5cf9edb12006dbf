/**
 * From an upstream change to the services, as the two workflows run it: in a
 * copy of the repository, a changed docs page goes through `spec:update` (a
 * changeset), `release:version` (the next minor) and `npm run release` (the
 * npm script: esbuild bundle, then node), against a real registry: Verdaccio
 * on 127.0.0.1. One registry and one build for the file: the dry run builds
 * both tarballs and keeps them (`--pack-destination`), the later runs publish
 * those (`--tarballs`). The tests run in order, each starting from what the
 * one before left on the registry.
 */
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nextVersion } from '../../scripts/spec-pr.js';
import { edits, upstreamPage } from '../helpers/spec-scratch.js';
import { compile, consumerProject } from '../package/consumer-project.js';
import {
  freePort,
  releaseCheckout,
  repack,
  startRegistry,
  type PackumentDoc,
  type Registry,
  type Run,
} from './registry.js';

let registry: Registry;
let checkout: string;
let work: string;
/** The two tarballs the dry run built, at the version release:version made. */
let built: string;
/** That version: the next minor of the checkout's. */
let version: string;
let from: string;
const outputs: Run[] = [];

beforeAll(async () => {
  [registry, checkout, work] = await Promise.all([
    startRegistry(),
    releaseCheckout(),
    mkdtemp(join(tmpdir(), 'chatdash-release-work-')),
  ]);
  built = join(work, 'built');
  from = await versionOf(checkout);
  version = nextVersion(from, 'minor');
});

afterAll(async () => {
  await registry?.stop();
  for (const dir of [checkout, work]) if (dir) await rm(dir, { recursive: true, force: true });
});

/** `npm run release -- <args>` in the checkout, with this registry's config and token unless overridden. */
async function release(args: string[], env: Record<string, string | undefined> = {}) {
  const result = await registry.exec(checkout, 'npm', ['run', '-s', 'release', '--', ...args], env);
  outputs.push(result);
  return result;
}

const versionsOf = (name: string) => registry.packument(name);
const read = (root: string, path: string) => readFile(join(root, path), 'utf8');
const versionOf = async (root: string) =>
  (JSON.parse(await read(root, 'package.json')) as { version: string }).version;
const pending = async (root: string) =>
  (await readdir(join(root, '.changeset'))).filter((f) => f.endsWith('.md') && f !== 'README.md');

async function published(name: string): Promise<PackumentDoc> {
  const doc = await versionsOf(name);
  if (typeof doc === 'number') throw new Error(`${name}: HTTP ${doc}`);
  return doc;
}

describe('npm run release, against a real registry (Verdaccio)', () => {
  it('a changed docs page: spec:update writes a changeset, release:version makes it the next minor', async () => {
    const changelogBefore = await read(checkout, 'CHANGELOG.md');
    // The upstream page gained a status: a compatible change.
    const page = join(work, 'page.md');
    await writeFile(page, edits.closedStatusAdded(upstreamPage));
    const report = await registry.exec(checkout, 'npm', [
      ...['run', '-s', 'spec:update', '--', page, '--format', 'markdown'],
    ]);
    expect(report.code, report.stderr).toBe(0);
    const [changeset] = await pending(checkout);
    expect(await pending(checkout)).toHaveLength(1);
    expect(await read(checkout, `.changeset/${changeset}`)).toBe(
      `---\n'chatdash-client': minor\n---\n\n${report.stdout.trimEnd()}\n`,
    );

    // The "Version packages" pull request's commit.
    const versioned = await registry.exec(checkout, 'npm', ['run', '-s', 'release:version']);
    expect(versioned.code, versioned.stderr).toBe(0);
    expect(versioned.stdout).toContain(`${from} -> ${version}`);
    expect(await versionOf(checkout)).toBe(version);
    expect(await read(checkout, 'src/version.ts')).toContain(
      `export const VERSION = '${version}';`,
    );
    const lock = JSON.parse(await read(checkout, 'package-lock.json')) as {
      version: string;
      packages: Record<string, { version: string }>;
    };
    expect([lock.version, lock.packages['']?.version]).toEqual([version, version]);
    expect(await pending(checkout)).toEqual([]);
    const changelog = await read(checkout, 'CHANGELOG.md');
    expect(changelog).toContain(
      `\n## ${version}\n\n### Minor changes\n\n${report.stdout.trimEnd()}\n`,
    );
    // The history stays: every line that was there still is, and the new version comes first.
    for (const line of changelogBefore.split('\n')) {
      if (line && line !== '## Unreleased') expect(changelog).toContain(line);
    }
    expect(changelog.indexOf(`## ${version}`)).toBeLessThan(changelog.indexOf('### Fixed'));
  });

  it('--dry-run builds both tarballs at that version, says what it would publish with which dist-tag, and publishes nothing', async () => {
    const result = await release(['--dry-run', '--pack-destination', built]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain(
      `chatdash-client@${version}: would publish to ${registry.url} with dist-tag latest`,
    );
    expect(result.stdout).toContain(
      `chatdash-types@${version}: would publish to ${registry.url} with dist-tag latest`,
    );
    expect(result.stdout).toContain('release --dry-run: nothing published');
    expect(result.stdout).not.toContain('New tag:');
    expect((await readdir(built)).sort()).toEqual([
      `chatdash-client-${version}.tgz`,
      `chatdash-types-${version}.tgz`,
    ]);
    expect(await versionsOf('chatdash-client')).toBe(404);
    expect(await versionsOf('chatdash-types')).toBe(404);
  });

  it.concurrent(
    'without a token: exits 1 with a line per package saying the registry did not authorize it, and publishes nothing',
    async () => {
      const result = await release(['--tarballs', built], { NODE_AUTH_TOKEN: undefined });
      expect(result.code).toBe(1);
      for (const name of ['chatdash-client', 'chatdash-types']) {
        expect(result.stderr).toMatch(
          new RegExp(
            `^${name}@${version.replace(/\./g, '\\.')}: not published: not authorized by ${registry.url.replace(/\./g, '\\.')} \\(E401`,
            'm',
          ),
        );
      }
      expect(await versionsOf('chatdash-client')).toBe(404);
      expect(await versionsOf('chatdash-types')).toBe(404);
    },
  );

  it.concurrent(
    'with a wrong token: refused, and the token appears nowhere in what it prints',
    async () => {
      const wrong = `npm_${'Zx9'.repeat(12)}`;
      const result = await release(['--tarballs', built], { NODE_AUTH_TOKEN: wrong });
      expect(result.code, `${result.stdout}\n${result.stderr}`).toBe(1);
      expect(result.stderr).toMatch(/^chatdash-client@.*: not published: not authorized by /m);
      expect(`${result.stdout}${result.stderr}`).not.toContain(wrong);
      expect(`${result.stdout}${result.stderr}`).not.toContain('Zx9Zx9');
    },
  );

  it.concurrent(
    'into a stopped registry: exits 1 within 60 s with a line per package naming the registry',
    async () => {
      const stopped = `http://127.0.0.1:${await freePort()}/`;
      const result = await release(['--tarballs', built], {
        npm_config_registry: stopped,
      });
      expect(result.code).toBe(1);
      expect(result.ms).toBeLessThan(60_000);
      const lines = result.stderr.split('\n').filter((line) => line.includes('not published'));
      expect(lines).toEqual([
        `chatdash-client@${version}: not published: registry ${stopped} unreachable (ECONNREFUSED)`,
        `chatdash-types@${version}: not published: registry ${stopped} unreachable (ECONNREFUSED)`,
      ]);
    },
  );

  it.concurrent(
    'into a registry that accepts connections and never answers: exits 1 within 60 s, a line per package naming it',
    async () => {
      const sockets = new Set<Socket>();
      const silent = createServer((socket) => {
        sockets.add(socket);
        socket.on('error', () => {});
      });
      await new Promise<void>((done) => silent.listen(0, '127.0.0.1', done));
      const url = `http://127.0.0.1:${(silent.address() as AddressInfo).port}/`;
      try {
        const result = await release(['--tarballs', built], { npm_config_registry: url });
        expect(result.code).toBe(1);
        expect(result.ms).toBeLessThan(60_000);
        const lines = result.stderr.split('\n').filter((line) => line.includes('not published'));
        expect(lines).toHaveLength(2);
        for (const [i, name] of ['chatdash-client', 'chatdash-types'].entries()) {
          expect(lines[i]).toMatch(
            new RegExp(
              `^${name}@${version}: not published: registry ${url} unreachable \\(ETIMEDOUT\\)$`,
            ),
          );
        }
        expect(sockets.size).toBeGreaterThan(0);
      } finally {
        for (const socket of sockets) socket.destroy();
        await new Promise((done) => silent.close(done));
      }
    },
  );

  it('publishes both at the one version with the dist-tag latest, and says "New tag:" for the release workflow', async () => {
    const result = await release(['--tarballs', built]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout.trim().split('\n').sort()).toEqual([
      `New tag: chatdash-client@${version}`,
      `chatdash-client@${version}: published to ${registry.url} with dist-tag latest`,
      `chatdash-types@${version}: published to ${registry.url} with dist-tag latest`,
    ]);
    for (const name of ['chatdash-client', 'chatdash-types']) {
      const doc = await published(name);
      expect(Object.keys(doc.versions)).toEqual([version]);
      expect(doc['dist-tags']).toEqual({ latest: version });
    }
    // What the registry serves is the build of the new version: its VERSION and the new status.
    const out = join(work, 'fetched');
    const fetched = await registry.exec(work, 'npm', [
      ...['pack', `chatdash-client@${version}`, `chatdash-types@${version}`],
      ...['--pack-destination', work],
    ]);
    expect(fetched.code, fetched.stderr).toBe(0);
    for (const name of ['chatdash-client', 'chatdash-types']) {
      await mkdir(join(out, name), { recursive: true });
      const untar = await registry.exec(work, 'tar', [
        ...['-xzf', `${name}-${version}.tgz`, '-C', join(out, name)],
      ]);
      expect(untar.code, untar.stderr).toBe(0);
    }
    const dist = join(out, 'chatdash-client/package/dist');
    const code = (
      await Promise.all(
        (await readdir(dist)).filter((f) => f.endsWith('.js')).map((f) => read(dist, f)),
      )
    ).join('\n');
    expect(code).toContain(`VERSION = "${version}"`);
    expect(code).not.toContain(`VERSION = "${from}"`);
    expect(await read(out, 'chatdash-types/package/index.d.ts')).toMatch(/['"]closed['"]/);
  });

  it('installs from the registry into fresh ESM and CommonJS consumers (the client) and a types-only one, and they work', async () => {
    const project = (name: string) =>
      consumerProject(work, {
        name,
        type: 'module',
        module: 'node16',
        moduleResolution: 'node16',
        files: {},
        types: [],
      });
    const [consumer, types] = await Promise.all([project('consumer'), project('types-only')]);
    const install = (dir: string, spec: string) =>
      registry.exec(dir, 'npm', [
        'install',
        spec,
        '--prefer-offline',
        '--no-audit',
        '--no-fund',
        '--no-package-lock',
      ]);
    const [client, typesOnly] = await Promise.all([
      install(consumer, `chatdash-client@${version}`),
      install(types, `chatdash-types@${version}`),
    ]);
    expect(client.code, client.stderr).toBe(0);
    expect(typesOnly.code, typesOnly.stderr).toBe(0);

    // A call through the installed client, against the mock server it ships.
    const use = (load: string) => `
${load}
const mock = await startMockChatDash({ conversations: [makeConversation({ _id: 'conv_1' })] });
try {
  const chatdash = createChatDashClient({ apiKey: 'ck_release_test', baseUrl: mock.baseUrl });
  const found = await chatdash.getConversation({ agentId: 'agent_0001', conversationId: 'conv_1' });
  console.log(JSON.stringify({ id: found._id, version: VERSION }));
} finally {
  await mock.close();
}`;
    await writeFile(
      join(consumer, 'esm.mjs'),
      use(`import { createChatDashClient, VERSION } from 'chatdash-client';
import { makeConversation, startMockChatDash } from 'chatdash-client/testing';`),
    );
    await writeFile(
      join(consumer, 'cjs.cjs'),
      `(async () => {${use(`const { createChatDashClient, VERSION } = require('chatdash-client');
const { makeConversation, startMockChatDash } = require('chatdash-client/testing');`)}
})().catch((error) => { console.error(error); process.exitCode = 1; });`,
    );
    for (const file of ['esm.mjs', 'cjs.cjs']) {
      const ran = await registry.exec(consumer, process.execPath, [file]);
      expect(ran.code, ran.stderr).toBe(0);
      expect(JSON.parse(ran.stdout)).toEqual({ id: 'conv_1', version });
    }
    const installed = JSON.parse(
      await readFile(join(consumer, 'node_modules/chatdash-client/package.json'), 'utf8'),
    ) as { version: string };
    expect(installed.version).toBe(version);

    // The types package: exactly one package installed, and its types used.
    expect(
      (await readdir(join(types, 'node_modules'))).filter((entry) => !entry.startsWith('.')),
    ).toEqual(['chatdash-types']);
    await writeFile(
      join(types, 'use.ts'),
      `import type { Conversation, ConversationStatus } from 'chatdash-types';
export const status: ConversationStatus = 'pending';
export const statusOf = (c: Conversation): ConversationStatus | undefined => c.status;
`,
    );
    expect(await compile(types)).toBe('');
    await writeFile(
      join(types, 'wrong.ts'),
      `import type { ConversationStatus } from 'chatdash-types';\nexport const s: ConversationStatus = 'no-such-status';\n`,
    );
    expect(await compile(types)).toContain('no-such-status');
  });

  it('a second run publishes nothing: both are already there, exit 0', async () => {
    const before = await Promise.all([published('chatdash-client'), published('chatdash-types')]);
    const result = await release(['--tarballs', built]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain(
      `chatdash-client@${version}: already on ${registry.url}, skipped`,
    );
    expect(result.stdout).toContain(
      `chatdash-types@${version}: already on ${registry.url}, skipped`,
    );
    expect(result.stdout).toContain('nothing published');
    expect(result.stdout).not.toContain('New tag:');
    const after = await Promise.all([published('chatdash-client'), published('chatdash-types')]);
    expect(after.map((doc) => doc.time)).toEqual(before.map((doc) => doc.time));
  });

  it('completes a partial release: the client already out, the types package not yet', async () => {
    const next = bump(version);
    const tarballs = await repack(built, join(work, 'partial'), next);
    // The release that stopped half way: only the client reached the registry.
    const client = (await readdir(tarballs)).find((f) => f.startsWith('chatdash-client-')) ?? '';
    const first = await registry.exec(tarballs, 'npm', ['publish', client, '--tag', 'latest']);
    expect(first.code, first.stderr).toBe(0);
    expect(Object.keys((await published('chatdash-types')).versions)).not.toContain(next);

    const result = await release(['--tarballs', tarballs]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain(`chatdash-client@${next}: already on ${registry.url}, skipped`);
    expect(result.stdout).toContain(
      `chatdash-types@${next}: published to ${registry.url} with dist-tag latest`,
    );
    for (const name of ['chatdash-client', 'chatdash-types']) {
      expect((await published(name))['dist-tags']['latest']).toBe(next);
    }
  });

  it('publishes a prerelease with the dist-tag next, leaving latest where it was', async () => {
    const rc = `${bump(bump(version))}-rc.1`;
    const latest = bump(version);
    const tarballs = await repack(built, join(work, 'rc'), rc);
    const dry = await release(['--dry-run', '--tarballs', tarballs]);
    expect(dry.stdout).toContain(
      `chatdash-types@${rc}: would publish to ${registry.url} with dist-tag next`,
    );
    const result = await release(['--tarballs', tarballs]);
    expect(result.code, result.stderr).toBe(0);
    for (const name of ['chatdash-client', 'chatdash-types']) {
      expect(result.stdout).toContain(
        `${name}@${rc}: published to ${registry.url} with dist-tag next`,
      );
      expect((await published(name))['dist-tags']).toEqual({ latest, next: rc });
    }
  });

  it('never printed the token, in any run', () => {
    expect(outputs.length).toBeGreaterThanOrEqual(8);
    for (const result of outputs) {
      expect(`${result.stdout}${result.stderr}`).not.toContain(registry.token);
    }
  });
});

/** The next patch version: `0.1.0` -> `0.1.1`. */
function bump(from: string): string {
  const [major, minor, patch] = from.split('-')[0]?.split('.').map(Number) ?? [];
  return `${major}.${minor}.${(patch ?? 0) + 1}`;
}
