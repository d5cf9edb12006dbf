// Reads a `node --cpu-prof` profile: the top self-time frames, and the
// samples grouped by where the code lives (this package, npm undici, Node's
// own fetch, Node core, native, GC), idle left out.
//
//   node bench/top-frames.mjs .cache/prof/CPU.*.cpuprofile [how many frames, default 30] [calls]
//
// With `calls` (the calls the profiled run made, warm-up included), each group
// is also given in µs per call, under the profiler (which slows every call).
import { readFileSync } from 'node:fs';

const [file, top = '30', calls] = process.argv.slice(2);
if (!file) throw new Error('usage: bench/top-frames.mjs <file.cpuprofile> [n]');
const profile = JSON.parse(readFileSync(file, 'utf8'));
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const deltas = profile.timeDeltas;
const self = new Map();
profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (deltas[i] ?? 0)));

const frames = new Map();
const groups = new Map();
let total = 0;
for (const [id, us] of self) {
  const { callFrame } = byId.get(id);
  const name = callFrame.functionName || '(anonymous)';
  if (name === '(idle)' || name === '(program)') continue;
  total += us;
  const where = callFrame.url
    .replace(/^.*\/(node_modules\/)/, '$1')
    .replace(/^file:\/\/.*\/(src|bench)\//, '$1/');
  const key = `${name} ${where}:${callFrame.lineNumber + 1}`;
  frames.set(key, (frames.get(key) ?? 0) + us);
  const group = groupOf(name, callFrame.url);
  groups.set(group, (groups.get(group) ?? 0) + us);
}

function groupOf(name, url) {
  if (name === '(garbage collector)') return 'garbage collection';
  if (/^write(Latin1|Utf8|Buffer)String$|^writev$/.test(name)) return 'socket writes (native)';
  if (name === 'runMicrotasks') return 'promise jobs (native)';
  if (
    url.includes('node_modules/tsx/') ||
    url.startsWith('node:internal/modules') ||
    /^(compileForInternalLoader|wrapSafe|compileSourceTextModule)$/.test(name)
  )
    return 'start-up (module loading)';
  if (url.includes('node_modules/undici/')) return 'npm undici';
  if (url.includes('node_modules/openapi-fetch/')) return 'openapi-fetch';
  if (url.includes('node_modules/')) return 'other packages';
  if (url.includes('/src/')) return 'chatdash-client (src/)';
  if (url.startsWith('node:internal/deps/undici')) return "Node's fetch (its undici)";
  if (url.startsWith('node:')) return 'Node core (JS)';
  if (url === '') return 'native, other (no JS frame)';
  return 'other';
}

const pct = (us) => `${((us / total) * 100).toFixed(1).padStart(5)} %`;
console.log(`${file}: ${(total / 1000).toFixed(0)} ms of non-idle samples\n`);
const perCall = (us) => (calls ? `  ${(us / Number(calls)).toFixed(1).padStart(6)} µs/call` : '');
for (const [group, us] of [...groups].sort((a, b) => b[1] - a[1]))
  console.log(`${pct(us)}${perCall(us)}  ${group}`);
if (calls) console.log(`        ${perCall(total)}  in all`);
console.log('');
for (const [key, us] of [...frames].sort((a, b) => b[1] - a[1]).slice(0, Number(top)))
  console.log(`${pct(us)}  ${key}`);

// Inclusive time (the frame and what it called, synchronously) of this package's functions.
const parent = new Map();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const inclusive = new Map();
for (const [id, us] of self) {
  const seen = new Set();
  for (let at = id; at !== undefined; at = parent.get(at)) {
    const { callFrame } = byId.get(at);
    if (!callFrame.url.includes('/src/') || callFrame.url.includes('node_modules/')) continue;
    const key = `${callFrame.functionName || '(anonymous)'} ${callFrame.url.replace(/^.*\/src\//, 'src/')}`;
    if (seen.has(key)) continue;
    seen.add(key);
    inclusive.set(key, (inclusive.get(key) ?? 0) + us);
  }
}
console.log('\ninclusive, src/ functions:');
for (const [key, us] of [...inclusive].sort((a, b) => b[1] - a[1]).slice(0, Number(top)))
  console.log(`${pct(us)}  ${key}`);
