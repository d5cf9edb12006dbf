/**
 * What `npm run release` says, from npm's own failure output: the reason per
 * package, the dist-tag, and no credential in any line. The runs against a
 * real registry are in release.test.ts; these are the cases it cannot make
 * happen on demand.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  distTag,
  failure,
  findTarballs,
  redact,
  release,
  shownRegistry,
} from '../../scripts/release.js';
import { repack } from './registry.js';

const npm = (stderr: string, timedOut = false) => ({ code: 1, stdout: '', stderr, timedOut });
const registry = 'https://npm.internal.test/';

describe('release lines', () => {
  it('names the registry and the reason: unreachable, not authorized, refused', () => {
    expect(
      failure(npm('npm error code ECONNREFUSED\nnpm error errno ECONNREFUSED'), registry),
    ).toBe(`registry ${registry} unreachable (ECONNREFUSED)`);
    expect(
      failure(
        npm('npm error code FETCH_ERROR\nnpm error network timeout at: https://x/y'),
        registry,
      ),
    ).toBe(`registry ${registry} unreachable (ETIMEDOUT)`);
    expect(failure(npm('', true), registry)).toBe(
      `registry ${registry} unreachable (no answer in time)`,
    );
    expect(
      failure(
        npm(
          'npm error code ENEEDAUTH\nnpm error need auth This command requires you to be logged in',
        ),
        registry,
      ),
    ).toBe(
      `not authorized by ${registry} (ENEEDAUTH: need auth This command requires you to be logged in)`,
    );
    expect(failure(npm('npm ERR! code E403\nnpm ERR! 403 Forbidden'), registry)).toMatch(
      /^not authorized by https:\/\/npm\.internal\.test\/ \(E403: 403 Forbidden\)$/,
    );
    expect(failure(npm('npm error code E500\nnpm error 500 Internal Server Error'), registry)).toBe(
      `refused by ${registry} (E500: 500 Internal Server Error)`,
    );
  });

  it('tags a prerelease next and a release latest', () => {
    expect(distTag('1.0.0')).toBe('latest');
    expect(distTag('1.0.0-rc.1')).toBe('next');
    expect(distTag('0.2.0-next.0')).toBe('next');
  });

  it('masks every credential: the token in the environment, .npmrc settings, bearer and npm tokens, URL passwords', () => {
    const env = { NODE_AUTH_TOKEN: 'sekret-token-value' };
    const text = [
      'sent sekret-token-value',
      '//npm.internal.test/:_authToken=abc.def',
      '_password=cGFzcw==',
      'authorization: Bearer eyJhbGciOi.x.y',
      `npm_${'A1'.repeat(18)}`,
      'https://user:p4ss@npm.internal.test/',
    ].join('\n');
    const masked = redact(text, env);
    for (const secret of [
      'sekret-token-value',
      'abc.def',
      'cGFzcw==',
      'eyJhbGciOi',
      'A1A1A1',
      'p4ss',
    ]) {
      expect(masked).not.toContain(secret);
    }
    expect(masked).toContain('//npm.internal.test/:_authToken=***');
    expect(shownRegistry('https://user:p4ss@npm.internal.test/')).toBe(registry);
  });

  it('refuses two tarballs at different versions before asking the registry anything', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'chatdash-release-lines-'));
    try {
      const client = join(dir, 'client');
      const types = join(dir, 'types');
      await fakeTarball(client, 'chatdash-client', '1.0.0');
      await fakeTarball(types, 'chatdash-types', '1.0.0');
      const mixed = join(dir, 'mixed');
      await repack(client, mixed, '1.0.0');
      await repack(types, mixed, '1.0.1');
      const found = await findTarballs(mixed);
      expect(found.map((t) => `${t.name}@${t.version}`)).toEqual([
        'chatdash-client@1.0.0',
        'chatdash-types@1.0.1',
      ]);
      const lines: string[] = [];
      const code = await release({
        root: dir,
        dryRun: false,
        tarballs: mixed,
        log: (line) => lines.push(line),
        error: (line) => lines.push(line),
      });
      expect(code).toBe(1);
      expect(lines).toEqual([
        'release: the tarballs are not at one version: chatdash-client@1.0.0, chatdash-types@1.0.1',
      ]);
      await expect(findTarballs(client)).rejects.toThrow(
        'expected one chatdash-types-<version>.tgz',
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

async function fakeTarball(dir: string, name: string, version: string): Promise<void> {
  const { mkdir, writeFile } = await import('node:fs/promises');
  const { execFile } = await import('node:child_process');
  const { promisify } = await import('node:util');
  const pkg = join(dir, 'src');
  await mkdir(pkg, { recursive: true });
  await writeFile(join(pkg, 'package.json'), JSON.stringify({ name, version }));
  await promisify(execFile)('npm', ['pack', '--pack-destination', dir], { cwd: pkg });
}
