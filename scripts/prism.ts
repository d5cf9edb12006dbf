/**
 * Starts and stops the Stoplight Prism mock of spec/chatdash.yaml on a free
 * loopback port. Used by `npm run demo` and by the integration tests' globalSetup.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');

export async function startPrism(
  spec = join(repo, 'spec/chatdash.yaml'),
): Promise<{ url: string; child: ChildProcess }> {
  const require = createRequire(import.meta.url);
  const cli = join(dirname(require.resolve('@stoplight/prism-cli/package.json')), 'dist/index.js');
  const port = await freePort();
  const child = spawn(
    process.execPath,
    [cli, 'mock', '--host', '127.0.0.1', '--port', String(port), spec],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  await new Promise<void>((resolveStart, reject) => {
    const timer = setTimeout(
      () => fail(new Error(`Prism did not start within 30 s:\n${output}`)),
      30_000,
    );
    function fail(error: Error) {
      clearTimeout(timer);
      child.kill();
      reject(error);
    }
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (/fatal/i.test(output)) fail(new Error(`Prism failed to start:\n${output}`));
      else if (output.includes('Prism is listening')) {
        clearTimeout(timer);
        resolveStart();
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => fail(new Error(`Prism exited with ${code}:\n${output}`)));
  });
  // Keep draining its log so a full pipe never blocks it.
  child.stdout?.resume();
  child.stderr?.resume();
  return { url: `http://127.0.0.1:${port}`, child };
}

export async function stopPrism(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.pid === undefined) return;
  const exited = new Promise((done) => child.once('exit', done));
  process.kill(child.pid, 'SIGTERM');
  const timer = setTimeout(
    () => child.pid !== undefined && process.kill(child.pid, 'SIGKILL'),
    5_000,
  );
  await exited;
  clearTimeout(timer);
}

/** A port the OS says is free right now (Prism takes a port number, not port 0). */
function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolvePort(port));
    });
  });
}
