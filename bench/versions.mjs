// `npm run bench`: bench/run.ts under each chosen Node version, one table each.
// The versions are the pinned ones in .ci/node-versions (binaries through
// .ci/node-bin, cached in .cache/node/); by default the oldest and the newest
// (20 and 24), or BENCH_NODE="22.23.3 24.21.0" for others. One version runs
// at a time, so they do not compete for the cores.
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');
const pinned = readFileSync(join(root, '.ci/node-versions'), 'utf8')
  .split('\n')
  .map((line) => line.trim())
  .filter((line) => line && !line.startsWith('#'));
const versions = process.env.BENCH_NODE?.split(/\s+/).filter(Boolean) ?? [pinned[0], pinned.at(-1)];

let failed = false;
for (const version of versions) {
  const bin = execFileSync(join(root, '.ci/node-bin'), [version], { encoding: 'utf8' }).trim();
  console.log(`\n## Node ${version}`);
  const { status } = spawnSync(join(bin, 'node'), ['--import', 'tsx', 'bench/run.ts'], {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, PATH: `${bin}:${process.env.PATH}` },
  });
  failed ||= status !== 0;
}
process.exitCode = failed ? 1 : 0;
