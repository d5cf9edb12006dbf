/**
 * The Redis client libraries are optional peers: no entry of the built
 * package imports or requires one (chatdash-client/redis only calls methods
 * on the client the app passes), and package.json lists each as an optional
 * peer with the majors it supports.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const PEERS = ['ioredis', 'iovalkey', 'redis', '@redis/client'];
const loads = (text: string, name: string) =>
  [
    `from "${name}"`,
    `from '${name}'`,
    `require("${name}")`,
    `require('${name}')`,
    `import("${name}")`,
  ].some((form) => text.includes(form));

describe('the Redis client libraries', () => {
  it('are loaded by no file of dist (npm run build first)', () => {
    const files = readdirSync('dist').filter((f) => /\.(c?js)$/.test(f));
    expect(files).toContain('index.js');
    expect(files).toContain('redis.cjs');
    const found = files.flatMap((file) => {
      const text = readFileSync(`dist/${file}`, 'utf8');
      return PEERS.filter((name) => loads(text, name)).map((name) => `${file}: ${name}`);
    });
    expect(found).toEqual([]);
  });

  it('are optional peers, ioredis and redis for majors 5 and 6', () => {
    const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as {
      peerDependencies: Record<string, string>;
      peerDependenciesMeta: Record<string, { optional?: boolean }>;
    };
    expect(pkg.peerDependencies).toMatchObject({ ioredis: '^5 || ^6', redis: '^5 || ^6' });
    for (const name of ['ioredis', 'iovalkey', 'redis'])
      expect(pkg.peerDependenciesMeta[name]).toEqual({ optional: true });
  });
});
