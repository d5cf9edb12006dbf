/**
 * `npm run demo`: the main job on a fresh clone. Generates and builds the
 * package, starts the Prism mock of spec/chatdash.yaml on a free loopback port,
 * fetches one conversation through the built `chatdash` CLI, prints it as JSON
 * on stdout, and stops Prism (also on Ctrl-C or failure). Progress goes to stderr.
 *
 *   --skip-build   use the existing generated/ and dist/ (the demo's own test uses this)
 */
import { spawn } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ChildProcess } from 'node:child_process';
import { startPrism, stopPrism } from './prism.js';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const step = (text: string) => process.stderr.write(`demo: ${text}\n`);

function run(
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv = process.env,
  stdout: 'inherit' | 'pipe' = 'pipe',
) {
  return new Promise<void>((done, fail) => {
    const child = spawn(command, args, {
      cwd: repo,
      env,
      stdio: ['ignore', stdout === 'inherit' ? 'inherit' : 'pipe', 'inherit'],
    });
    // Tool chatter (npm, tsup) goes to stderr, so stdout carries only the conversation.
    child.stdout?.pipe(process.stderr);
    child.once('error', fail);
    child.once('exit', (code) =>
      code === 0 ? done() : fail(new Error(`${command} ${args.join(' ')} exited with ${code}`)),
    );
  });
}

let prism: ChildProcess | undefined;
async function shutdown(code: number) {
  if (prism) {
    step('stopping Prism');
    await stopPrism(prism);
    prism = undefined;
  }
  process.exit(code);
}
process.once('SIGINT', () => void shutdown(130));
process.once('SIGTERM', () => void shutdown(143));

try {
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  if (!process.argv.includes('--skip-build')) {
    step('generating types and the validator from spec/chatdash.yaml');
    await run(npm, ['run', '-s', 'generate']);
    step('building the package');
    await run(npm, ['run', '-s', 'build']);
  }
  step('starting the Prism mock of spec/chatdash.yaml');
  const started = await startPrism();
  prism = started.child;
  step(`Prism is listening on ${started.url} (pid ${prism.pid})`);
  step('fetching conversation conv_1 of agent agent_1 through the chatdash CLI');
  // A placeholder key: Prism only checks that the header is present, and a
  // real key from the environment has no business going to a mock.
  await run(
    process.execPath,
    [join(repo, 'dist/cli.js'), 'get-conversation', 'agent_1', 'conv_1', '--validate'],
    { ...process.env, CHATDASH_API_KEY: 'demo-key', CHATDASH_BASE_URL: started.url },
    'inherit',
  );
  step('done');
  await shutdown(0);
} catch (error) {
  step(`failed: ${(error as Error).message}`);
  await shutdown(1);
}
