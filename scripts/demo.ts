/**
 * `npm run demo`: the main job on a fresh clone. Generates and builds the
 * package, starts the Prism mock of spec/chatdash.yaml on a free loopback port,
 * fetches one conversation through the built `chatdash` CLI, prints it as JSON
 * on stdout, and stops Prism (also on Ctrl-C or failure). Progress goes to stderr.
 *
 *   --skip-build   use the existing generated/ and dist/ (the demo's own test uses this)
 *
 * scripts/bin/demo.ts runs `main`; importing this module runs nothing.
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

/** `npm run demo` (scripts/bin/demo.ts runs it): 0 when the conversation was printed. */
export async function main(args: string[]): Promise<number> {
  let prism: ChildProcess | undefined;
  let stopping: Promise<void> | undefined;
  // One stop, awaited by both the signal handler and the normal end.
  const stop = () => {
    if (prism && !stopping) {
      step('stopping Prism');
      stopping = stopPrism(prism);
    }
    return stopping ?? Promise.resolve();
  };
  let signalled: number | undefined;
  const onSignal = (code: number) => () => {
    signalled = code;
    void stop().then(() => process.exit(code));
  };
  const sigint = onSignal(130);
  const sigterm = onSignal(143);
  process.once('SIGINT', sigint);
  process.once('SIGTERM', sigterm);
  let code: number;
  try {
    const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
    if (!args.includes('--skip-build')) {
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
    code = 0;
  } catch (error) {
    step(`failed: ${(error as Error).message}`);
    code = 1;
  }
  await stop();
  process.off('SIGINT', sigint);
  process.off('SIGTERM', sigterm);
  return signalled ?? code;
}
