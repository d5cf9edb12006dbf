import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import { exampleConversation, httpServer, sendJson } from '../helpers/servers.js';

const repo = resolve(import.meta.dirname, '../..');

describe('resource hygiene', () => {
  it('lets a process that made 1,000 calls (successes, 500s, retries, timeouts, aborts) exit by itself', async () => {
    const server = await httpServer((req, res) => {
      const kind = req.url?.split('/')[2];
      if (kind === 'ok') sendJson(res, 200, exampleConversation);
      else if (kind === 'fail') sendJson(res, 500, { error: 'boom' });
      else if (kind === 'retry') sendJson(res, 503, {}, { 'retry-after-ms': '1' });
      // 'slow' and 'abort' never answer: the client must give up and clean up.
    });
    const child = spawn(
      process.execPath,
      [join(repo, 'node_modules/tsx/dist/cli.mjs'), 'test/fixtures/thousand-calls.ts'],
      {
        cwd: repo,
        env: { ...process.env, CHATDASH_BASE_URL: server.baseUrl },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    let stderr = '';
    let printedAt = 0;
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      printedAt ||= performance.now();
    });
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const killer = setTimeout(() => child.kill('SIGKILL'), 25_000);
    const [code, signal] = await new Promise<[number | null, string | null]>((done) =>
      child.once('exit', (c, s) => done([c, s])),
    );
    const lingeredSeconds = (performance.now() - printedAt) / 1000;
    clearTimeout(killer);

    expect(signal, `killed: the process did not exit by itself\n${stderr}`).toBeNull();
    expect(code, stderr).toBe(0);
    const tally = JSON.parse(stdout) as Record<string, number>;
    expect(tally).toEqual({
      resolved: 200,
      InternalServerError: 400,
      APIConnectionTimeoutError: 200,
      APIUserAbortError: 200,
    });
    // Nothing keeps it alive after the last call: no 5 s socket keep-alive, no 30 s timer.
    expect(lingeredSeconds).toBeLessThan(2.5);
    // Every call but an abort that fired before its request left reached the server.
    expect(server.requests.length).toBeGreaterThanOrEqual(1_000);
    expect(server.requests.length).toBeLessThanOrEqual(1_200);
  }, 30_000);
});
