// `npm run bench:generate`: wall time of the pipeline against the bare
// openapi-typescript CLI on the same spec (median of interleaved runs). The bare
// CLI runs in a scratch folder: beside redocly.yaml it would write to the
// configured output, generated/chatdash.ts, whatever -o says.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';

const repo = resolve(import.meta.dirname, '..');
const scratch = mkdtempSync(join(tmpdir(), 'chatdash-generate-time-'));
copyFileSync(join(repo, 'spec/chatdash.yaml'), join(scratch, 'chatdash.yaml'));
// The same bundle `npm run generate` builds and runs.
execFileSync(
  join(repo, 'node_modules/.bin/esbuild'),
  [
    'scripts/bin/generate.ts',
    '--bundle',
    '--platform=node',
    '--format=esm',
    '--packages=external',
    '--outfile=.cache/generate.mjs',
    '--log-level=warning',
  ],
  { cwd: repo },
);

const commands = {
  'bare openapi-typescript CLI': [
    join(repo, 'node_modules/openapi-typescript/bin/cli.js'),
    'chatdash.yaml',
    '-o',
    'out.ts',
  ],
  generate: [join(repo, '.cache/generate.mjs')],
  'generate --check': [join(repo, '.cache/generate.mjs'), '--check'],
};
const times = Object.fromEntries(Object.keys(commands).map((k) => [k, []]));
for (let round = 0; round < 7; round++) {
  for (const [name, args] of Object.entries(commands)) {
    const start = performance.now();
    execFileSync(process.execPath, args, {
      cwd: name.startsWith('bare') ? scratch : repo,
      stdio: 'ignore',
    });
    times[name].push((performance.now() - start) / 1000);
  }
}
rmSync(scratch, { recursive: true, force: true });
const median = (v) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];
const bare = times['bare openapi-typescript CLI'];
for (const [name, t] of Object.entries(times)) {
  const ratio = median(t.map((x, i) => x / bare[i]));
  console.log(`${name.padEnd(28)} ${median(t).toFixed(2)} s  x${ratio.toFixed(2)}`);
}
