/**
 * `npm run release`: puts both packages, at the one version in package.json,
 * on the registry npm is configured for.
 *
 *   npm run release                       build both tarballs, publish what is missing
 *   npm run release -- --dry-run          build them, say what would be published; publish nothing
 *   npm run release -- --tarballs DIR     publish the two tarballs in DIR instead of building them
 *   ... --pack-destination DIR            keep the tarballs it builds in DIR
 *
 * For each of chatdash-client and chatdash-types: when `name@version` is
 * already on the registry it says so and skips it; otherwise it publishes the
 * tarball with the dist-tag `latest`, or `next` for a prerelease version. The
 * registry and the credentials are npm's own (`.npmrc`, `npm_config_registry`,
 * `NODE_AUTH_TOKEN` in an `.npmrc` line): this file names no registry. Exit 0
 * when, at the end, both are on the registry, so a second run after a partial
 * failure completes the release and a run after a full one publishes nothing;
 * otherwise exit 1 with one line per package saying why. npm's own retries
 * would wait about 70 s per request for a registry that does not answer, so
 * every request here has a short timeout and one retry, and the whole talk
 * with the registry a deadline. No line printed carries a token.
 * scripts/bin/release.ts runs `main`; importing this module runs nothing.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');

export const PACKAGES = ['chatdash-client', 'chatdash-types'] as const;
export type PackageName = (typeof PACKAGES)[number];

/** What npm is told on every registry request: fail a silent registry in seconds, not minutes. */
export const NETWORK_FLAGS = [
  '--fetch-timeout=10000',
  '--fetch-retries=1',
  '--fetch-retry-mintimeout=1000',
  '--fetch-retry-maxtimeout=2000',
];
/** Everything said to the registry in one run ends within this, whatever npm does. */
const REGISTRY_DEADLINE_MS = 50_000;

export interface Tarball {
  name: PackageName;
  version: string;
  path: string;
}

/** `latest`, or `next` when the version has a prerelease part (`1.0.0-rc.1`). */
export function distTag(version: string): 'latest' | 'next' {
  return /^\d+\.\d+\.\d+-/.test(version) ? 'next' : 'latest';
}

/**
 * The text with every credential it might hold masked: the token values in the
 * environment, `_authToken=`/`_auth=`/`_password=` settings, bearer tokens,
 * npm's own token format and user:password in URLs.
 */
export function redact(text: string, env: NodeJS.ProcessEnv = process.env): string {
  let out = text;
  for (const name of ['NODE_AUTH_TOKEN', 'NPM_TOKEN', 'npm_config__authToken']) {
    const value = env[name];
    if (value && value.length >= 4) out = out.split(value).join('***');
  }
  return out
    .replace(/(_authToken|_auth|_password)(\s*=\s*)\S+/gi, '$1$2***')
    .replace(/\b(Bearer|Basic)\s+[\w.~+/=-]+/g, '$1 ***')
    .replace(/\bnpm_[A-Za-z0-9]{20,}/g, '***')
    .replace(/(\/\/)[^/@\s:]+:[^/@\s]+@/g, '$1***@');
}

/** The registry URL as it may be printed: no user or password in it. */
export function shownRegistry(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.username = '';
    parsed.password = '';
    return parsed.toString();
  } catch {
    return redact(url);
  }
}

interface NpmResult {
  code: number | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

type Npm = (args: string[], timeoutMs?: number) => Promise<NpmResult>;

function npmIn(cwd: string): Npm {
  return (args, timeoutMs = 0) =>
    new Promise((done) => {
      execFile(
        process.platform === 'win32' ? 'npm.cmd' : 'npm',
        // `npm run -s release` hands its silence down (npm_config_loglevel): the errors are needed here.
        [...args, '--loglevel=error'],
        { cwd, timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 16 * 1024 * 1024 },
        (error, stdout, stderr) => {
          const e = error as (Error & { code?: number | string; killed?: boolean }) | null;
          done({
            code: e ? (typeof e.code === 'number' ? e.code : 1) : 0,
            stdout: String(stdout),
            stderr: String(stderr),
            timedOut: Boolean(e?.killed),
          });
        },
      );
    });
}

/** npm's error code for a failed command (`E404`, `ECONNREFUSED`, ...), from its JSON or its text. */
export function npmErrorCode(result: { stdout: string; stderr: string }): string {
  const text = `${result.stdout}\n${result.stderr}`;
  // npm files a request that ran out of --fetch-timeout as FETCH_ERROR, "network timeout at: <url>".
  if (/network timeout/i.test(text)) return 'ETIMEDOUT';
  return (
    /"code":\s*"([\w-]+)"/.exec(text)?.[1] ??
    /npm (?:error|ERR!) code ([\w-]+)/.exec(text)?.[1] ??
    'unknown'
  );
}

const UNREACHABLE = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'ESOCKETTIMEDOUT',
  'ERR_SOCKET_TIMEOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  'FETCH_ERROR',
  'request-timeout',
]);
const UNAUTHORIZED = new Set(['E401', 'ENEEDAUTH', 'E403']);

/** Why npm failed, as one clause naming the registry. */
export function failure(result: NpmResult, registry: string): string {
  if (result.timedOut) return `registry ${registry} unreachable (no answer in time)`;
  const code = npmErrorCode(result);
  if (UNREACHABLE.has(code)) return `registry ${registry} unreachable (${code})`;
  const text = `${result.stdout}\n${result.stderr}`;
  const summary =
    /"summary":\s*"((?:[^"\\]|\\.)*)"/.exec(text)?.[1] ??
    /npm (?:error|ERR!) (?!code )(.+)/.exec(text)?.[1] ??
    '';
  const why = summary ? `${code}: ${summary.trim().slice(0, 200)}` : code;
  if (UNAUTHORIZED.has(code)) return `not authorized by ${registry} (${why})`;
  return `refused by ${registry} (${why})`;
}

type Presence = { state: 'present' } | { state: 'missing' } | { state: 'error'; why: string };

async function presence(
  npm: Npm,
  pkg: Tarball,
  registry: string,
  timeoutMs: number,
): Promise<Presence> {
  const result = await npm(
    [
      'view',
      `${pkg.name}@${pkg.version}`,
      'version',
      '--json',
      '--prefer-online',
      ...NETWORK_FLAGS,
    ],
    timeoutMs,
  );
  if (result.code === 0) {
    // An empty answer: the package exists without this version.
    const shown = result.stdout.trim();
    return shown && JSON.parse(shown) === pkg.version ? { state: 'present' } : { state: 'missing' };
  }
  if (!result.timedOut && npmErrorCode(result) === 'E404') return { state: 'missing' };
  return { state: 'error', why: failure(result, registry) };
}

/** The package.json name and version inside a tarball. */
async function tarballManifest(path: string): Promise<{ name: string; version: string }> {
  const manifest = await new Promise<string>((done, fail) => {
    execFile('tar', ['-xzOf', path, 'package/package.json'], (error, stdout) =>
      error ? fail(new Error(`${path}: no package/package.json in it`)) : done(stdout),
    );
  });
  return JSON.parse(manifest) as { name: string; version: string };
}

/** The two tarballs found in `dir`, checked to be the two packages at one version. */
export async function findTarballs(dir: string): Promise<Tarball[]> {
  const files = (await readdir(dir)).filter((file) => file.endsWith('.tgz'));
  const found: Tarball[] = [];
  for (const name of PACKAGES) {
    const matching = files.filter((file) => file.startsWith(`${name}-`));
    if (matching.length !== 1) {
      throw new Error(`expected one ${name}-<version>.tgz in ${dir}, found ${matching.length}`);
    }
    const path = join(dir, matching[0] ?? '');
    const manifest = await tarballManifest(path);
    if (manifest.name !== name) {
      throw new Error(`${path} holds package ${JSON.stringify(manifest.name)}, not ${name}`);
    }
    found.push({ name, version: manifest.version, path });
  }
  return found;
}

/** Both tarballs built from the checkout at `root`: `npm pack` (prepack builds dist/) and pack:types. */
async function buildTarballs(npm: Npm, root: string, out: string): Promise<Tarball[]> {
  const manifest = JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as {
    version: string;
  };
  const versionFile = await readFile(join(root, 'src/version.ts'), 'utf8');
  const shipped = /VERSION = '([^']*)'/.exec(versionFile)?.[1];
  if (shipped !== manifest.version) {
    throw new Error(
      `VERSION in src/version.ts is ${JSON.stringify(shipped)} but package.json's version is ${JSON.stringify(manifest.version)}: run npm run release:version`,
    );
  }
  const packed = await npm(['pack', '--json', '--pack-destination', out]);
  if (packed.code !== 0) {
    throw new Error(`npm pack failed:\n${redact(packed.stderr || packed.stdout)}`);
  }
  const { packTypes } = await import('./pack-types.js');
  await packTypes(out);
  const tarballs = await findTarballs(out);
  const versions = new Set(tarballs.map((t) => t.version));
  if (versions.size !== 1 || !versions.has(manifest.version)) {
    throw new Error(
      `the tarballs are not both at ${manifest.version}: ${[...versions].join(', ')}`,
    );
  }
  return tarballs;
}

export interface ReleaseOptions {
  root: string;
  dryRun: boolean;
  /** A folder holding the two tarballs to publish, instead of building them. */
  tarballs?: string | undefined;
  /** Where to keep the tarballs it builds (by default a temporary folder, removed after). */
  packDestination?: string | undefined;
  log?: (line: string) => void;
  error?: (line: string) => void;
}

/** The exit code: 0 when both packages are on the registry at the end (or, dry, could be). */
export async function release(options: ReleaseOptions): Promise<number> {
  const log = options.log ?? ((line: string) => console.log(redact(line)));
  const error = options.error ?? ((line: string) => console.error(redact(line)));
  const npm = npmIn(options.root);

  const scratch = await mkdtemp(join(tmpdir(), 'chatdash-release-'));
  try {
    const tarballs = options.tarballs
      ? await findTarballs(resolve(options.tarballs))
      : await buildTarballs(
          npm,
          options.root,
          options.packDestination ? await made(resolve(options.packDestination)) : scratch,
        );
    const version = tarballs[0]?.version ?? '';
    if (tarballs.some((t) => t.version !== version)) {
      error(
        `release: the tarballs are not at one version: ${tarballs.map((t) => `${t.name}@${t.version}`).join(', ')}`,
      );
      return 1;
    }
    const tag = distTag(version);
    const configured = await npm(['config', 'get', 'registry']);
    const registry = shownRegistry(configured.stdout.trim() || 'the configured registry');

    const deadline = Date.now() + REGISTRY_DEADLINE_MS;
    const left = () => Math.max(1, deadline - Date.now());
    const states = await Promise.all(tarballs.map((t) => presence(npm, t, registry, left())));

    const failed: string[] = [];
    const outcomes = await Promise.all(
      tarballs.map(async (pkg, i): Promise<'present' | 'published' | 'would' | 'failed'> => {
        const state = states[i] ?? { state: 'error', why: 'no answer' };
        const id = `${pkg.name}@${pkg.version}`;
        if (state.state === 'error') {
          failed.push(`${id}: not published: ${state.why}`);
          return 'failed';
        }
        if (state.state === 'present') {
          log(`${id}: already on ${registry}, ${options.dryRun ? 'would skip' : 'skipped'}`);
          return 'present';
        }
        if (options.dryRun) {
          log(`${id}: would publish to ${registry} with dist-tag ${tag}`);
          return 'would';
        }
        const published = await npm(['publish', pkg.path, '--tag', tag, ...NETWORK_FLAGS], left());
        if (published.code === 0) {
          log(`${id}: published to ${registry} with dist-tag ${tag}`);
          return 'published';
        }
        failed.push(`${id}: not published: ${failure(published, registry)}`);
        return 'failed';
      }),
    );
    for (const line of failed.sort()) error(line);
    if (failed.length > 0) {
      error(`release: ${failed.length} of ${tarballs.length} packages not on ${registry}`);
      return 1;
    }
    if (options.dryRun) {
      log('release --dry-run: nothing published');
    } else if (outcomes.includes('published')) {
      // changesets/action reads this line to tag the release and make its GitHub release.
      log(`New tag: chatdash-client@${version}`);
    } else {
      log(`release: both packages were already on ${registry}; nothing published`);
    }
    return 0;
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

const USAGE = 'usage: npm run release [-- --dry-run] [--tarballs DIR | --pack-destination DIR]';

async function made(dir: string): Promise<string> {
  await mkdir(dir, { recursive: true });
  return dir;
}

/** `npm run release` (scripts/bin/release.ts runs it): the exit code. */
export async function main(args: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      options: {
        'dry-run': { type: 'boolean', default: false },
        tarballs: { type: 'string' },
        'pack-destination': { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }));
  } catch (error) {
    console.error(`release: ${(error as Error).message}\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  try {
    return await release({
      root: repoRoot,
      dryRun: values['dry-run'] ?? false,
      tarballs: values.tarballs,
      packDestination: values['pack-destination'],
    });
  } catch (error) {
    console.error(redact(`release: ${(error as Error)?.message ?? String(error)}`));
    return 1;
  }
}
