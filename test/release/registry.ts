/**
 * A real npm registry for the release tests: Verdaccio (a devDependency),
 * started on a free port on 127.0.0.1 with its storage, its users and its
 * config in a temporary folder, and stopped after. Our two packages can only
 * be published to it by a user with a token; anything else it reads through
 * from the registry npm is already configured for (the packages' own
 * dependencies, when a consumer installs them), and publishes nowhere else.
 *
 * Every npm command here runs with its own user config (`.npmrc` in the temp
 * folder, the way actions/setup-node writes one: the registry, and its token
 * as `${NODE_AUTH_TOKEN}`), so neither the developer's ~/.npmrc nor the public
 * registry is ever touched.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { cp, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

export const repo = resolve(import.meta.dirname, '../..');
const run = promisify(execFile);

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
  ms: number;
}

/** A port nothing listens on any more: a registry that was stopped. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as { port: number };
  await new Promise((done) => server.close(done));
  return port;
}

export interface Registry {
  url: string;
  token: string;
  dir: string;
  /** The environment for npm: this registry through a user .npmrc of its own, the token given. */
  env: (overrides?: Record<string, string | undefined>) => NodeJS.ProcessEnv;
  /** Runs a command with that environment. */
  exec: (
    cwd: string,
    file: string,
    args: string[],
    env?: Record<string, string | undefined>,
  ) => Promise<Run>;
  /** The registry's document for a package (`versions`, `dist-tags`, `time`), or its HTTP status. */
  packument: (name: string) => Promise<PackumentDoc | number>;
  stop: () => Promise<void>;
}

export interface PackumentDoc {
  'dist-tags': Record<string, string>;
  versions: Record<string, { version: string }>;
  time: Record<string, string>;
}

/** The environment npm gets: nothing from the caller's npm config, this user config and registry. */
export function npmEnv(
  userconfig: string,
  registry: string,
  extra: Record<string, string | undefined> = {},
): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    // npm run passes its own config down as npm_config_*; vitest may run under it.
    if (!/^npm_/i.test(key) && key !== 'NODE_AUTH_TOKEN') env[key] = value;
  }
  Object.assign(env, {
    npm_config_userconfig: userconfig,
    npm_config_registry: registry,
    npm_config_update_notifier: 'false',
    npm_config_audit: 'false',
    npm_config_fund: 'false',
  });
  for (const [key, value] of Object.entries(extra)) {
    if (value === undefined) delete env[key];
    else env[key] = value;
  }
  return env;
}

export async function execIn(
  cwd: string,
  file: string,
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<Run> {
  const started = Date.now();
  try {
    const { stdout, stderr } = await run(file, args, { cwd, env, maxBuffer: 32 * 1024 * 1024 });
    return { code: 0, stdout, stderr, ms: Date.now() - started };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr, ms: Date.now() - started };
  }
}

export async function startRegistry(): Promise<Registry> {
  const dir = await mkdtemp(join(tmpdir(), 'chatdash-verdaccio-'));
  // Where the dependencies come from: the registry npm is configured for here.
  const upstream = (
    await run('npm', ['config', 'get', 'registry'], {
      env: { ...process.env, npm_config_registry: undefined },
    })
  ).stdout.trim();
  const port = await freePort();
  const url = `http://127.0.0.1:${port}/`;
  await writeFile(
    join(dir, 'config.yaml'),
    [
      `storage: ${join(dir, 'storage')}`,
      'auth:',
      '  htpasswd:',
      `    file: ${join(dir, 'htpasswd')}`,
      'uplinks:',
      '  upstream:',
      `    url: ${upstream}`,
      'packages:',
      "  'chatdash-*':",
      '    access: $all',
      '    publish: $authenticated',
      "  '**':",
      '    access: $all',
      '    proxy: upstream',
      'log: { type: stdout, format: pretty, level: error }',
      '',
    ].join('\n'),
  );
  const child: ChildProcess = spawn(
    process.execPath,
    [
      join(repo, 'node_modules/verdaccio/bin/verdaccio'),
      '--config',
      join(dir, 'config.yaml'),
      '--listen',
      `127.0.0.1:${port}`,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`verdaccio exited: ${output}`);
    const ok = await fetch(`${url}-/ping`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) break;
    if (Date.now() > deadline) throw new Error(`verdaccio did not start in 30 s: ${output}`);
    await new Promise((done) => setTimeout(done, 100));
  }
  // A user, and the token npm would get from `npm login`.
  const created = await fetch(`${url}-/user/org.couchdb.user:releaser`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'releaser', password: 'release-test-password' }),
  });
  const { token } = (await created.json()) as { token: string };
  if (!token) throw new Error(`verdaccio gave no token (HTTP ${created.status})`);

  const userconfig = join(dir, 'npmrc');
  const host = url.replace(/^http:/, '');
  await writeFile(userconfig, `registry=${url}\n${host}:_authToken=\${NODE_AUTH_TOKEN}\n`);
  const env = (overrides: Record<string, string | undefined> = {}) =>
    npmEnv(userconfig, url, { NODE_AUTH_TOKEN: token, ...overrides });
  return {
    url,
    token,
    dir,
    env,
    exec: (cwd, file, args, overrides) => execIn(cwd, file, args, env(overrides)),
    packument: async (name) => {
      const response = await fetch(`${url}${name}`, { headers: { accept: 'application/json' } });
      if (!response.ok) {
        await response.body?.cancel();
        return response.status;
      }
      return (await response.json()) as PackumentDoc;
    },
    stop: async () => {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await exited;
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * A copy of the repository in which `npm run release` builds as in a clone:
 * what the build, pack:types, spec:update and release:version read, with
 * node_modules linked. Building here leaves this checkout's dist/ alone.
 */
export async function releaseCheckout(): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'chatdash-release-checkout-'));
  for (const path of [
    '.changeset',
    '.prettierrc.json',
    'CHANGELOG.md',
    'README.md',
    'generated',
    'package.json',
    'package-lock.json',
    'redocly.yaml',
    'scripts',
    'spec',
    'src',
    'tsconfig.json',
    'tsup.config.ts',
  ]) {
    await cp(join(repo, path), join(root, path), { recursive: true });
  }
  await symlink(join(repo, 'node_modules'), join(root, 'node_modules'), 'dir');
  return root;
}

/**
 * The tarballs in `from`, repacked at `version` into a new folder: the same
 * files, another version, for a release of a version the checkout is not at.
 */
export async function repack(from: string, to: string, version: string): Promise<string> {
  await mkdir(to, { recursive: true });
  const { readdir, readFile } = await import('node:fs/promises');
  for (const file of (await readdir(from)).filter((f) => f.endsWith('.tgz'))) {
    const work = await mkdtemp(join(tmpdir(), 'chatdash-repack-'));
    try {
      await run('tar', ['-xzf', join(from, file), '-C', work]);
      const manifestPath = join(work, 'package/package.json');
      const manifest = JSON.parse(await readFile(manifestPath, 'utf8')) as { version: string };
      manifest.version = version;
      await writeFile(manifestPath, `${JSON.stringify(manifest, null, 2)}\n`);
      await run('npm', ['pack', '--ignore-scripts', '--pack-destination', to], {
        cwd: join(work, 'package'),
        env: npmEnv(join(work, 'npmrc'), 'http://127.0.0.1:9/'),
      });
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  }
  return to;
}
