// `npm run bench:types`: what importing chatdash-client costs a consumer's type
// check, as tsc --extendedDiagnostics "Total time" against an empty file
// (median of interleaved runs), in a scratch project that links this package.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const repo = resolve(import.meta.dirname, '..');
const dir = mkdtempSync(join(tmpdir(), 'chatdash-type-cost-'));
mkdirSync(join(dir, 'node_modules'));
symlinkSync(repo, join(dir, 'node_modules/chatdash-client'), 'dir');
symlinkSync(
  join(repo, 'node_modules/openapi-fetch'),
  join(dir, 'node_modules/openapi-fetch'),
  'dir',
);
writeFileSync(join(dir, 'package.json'), '{"type":"module"}');
const files = {
  empty: 'export {};\n',
  'types only':
    "import type { Conversation } from 'chatdash-client/types';\nexport type X = Conversation;\n",
  client:
    "import { createChatDashClient } from 'chatdash-client';\nexport const c = createChatDashClient;\n",
};
const times = Object.fromEntries(Object.keys(files).map((k) => [k, []]));
Object.values(files).forEach((text, i) => writeFileSync(join(dir, `f${i}.ts`), text));
const tsc = join(repo, 'node_modules/typescript/bin/tsc');
const args = [
  '--noEmit',
  '--extendedDiagnostics',
  '--strict',
  '--module',
  'node16',
  '--moduleResolution',
  'node16',
];
args.push(
  '--target',
  'es2022',
  '--types',
  'node',
  '--typeRoots',
  join(repo, 'node_modules/@types'),
);
for (let round = 0; round < 7; round++) {
  Object.keys(files).forEach((name, i) => {
    const out = execFileSync(process.execPath, [tsc, ...args, join(dir, `f${i}.ts`)], {
      encoding: 'utf8',
    });
    times[name].push(Number(/Total time:\s+([\d.]+)s/.exec(out)[1]));
  });
}
rmSync(dir, { recursive: true, force: true });
const median = (v) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];
const ratio = (name) => median(times[name].map((t, i) => t / times.empty[i]));
for (const name of Object.keys(files)) {
  console.log(
    `${name.padEnd(10)} total ${median(times[name]).toFixed(2)} s  x${ratio(name).toFixed(3)} vs empty`,
  );
}
